"""The made-up hosting company behind the synthetic maillog: its domains, users, their client
addresses, the outside world they mail to, and the botnet that abuses one account.

Everything is drawn from one :class:`random.Random`, so the same seed gives the same world. Names
come from small word lists; addresses are random public IPv4 addresses (never private, loopback,
multicast or documentation ranges, except the server's own 192.0.2.10).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Final

__all__ = [
    "BIG_PROVIDERS",
    "SERVER_IP",
    "Remote",
    "User",
    "World",
    "build_world",
    "public_ip",
]

SERVER_IP: Final = "192.0.2.10"
"""The mail server's own address (the ``lip=`` of Dovecot lines, postscreen's listener)."""

FIRST: Final = (
    "anna", "ben", "clara", "david", "eva", "felix", "greta", "hans", "ines", "jonas", "karin",
    "lukas", "maria", "nils", "olga", "paul", "quentin", "rita", "sven", "tina", "uwe", "vera",
    "walter", "xenia", "yann", "zoe", "alex", "bianca", "chris", "diana", "emil", "frida", "georg",
    "hanna", "ivan", "julia", "kai", "lena", "marc", "nina", "oskar", "petra", "ralf", "sara",
    "tom", "ulla", "viktor", "wanda", "linus", "mila",
)
LAST: Final = (
    "mueller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "schulz",
    "hoffmann", "koch", "richter", "klein", "wolf", "neumann", "schwarz", "braun", "zimmermann",
    "krueger", "hartmann", "lange", "werner", "krause", "lehmann", "koehler", "maier", "walter",
    "peters", "moeller", "frank", "berger", "jung", "roth", "vogel", "brandt", "haas", "otto",
    "sommer", "graf", "dietrich", "kuhn", "pohl", "engel", "horn", "busch", "bergmann", "voigt",
    "sauer", "arnold", "franke",
)
ROLES: Final = (
    "info", "sales", "office", "contact", "billing", "support", "accounts", "hr", "booking",
    "orders", "team", "hello", "service", "kontakt", "verwaltung", "buchhaltung",
)
WORDS: Final = (
    "alpen", "nord", "sued", "berg", "tal", "wald", "see", "stadt", "haus", "bau", "tech",
    "media", "data", "net", "logistik", "handel", "consult", "design", "medical", "praxis",
    "kanzlei", "auto", "holz", "metall", "druck", "film", "foto", "garten", "hotel", "reisen",
    "sport", "musik", "kunst", "optik", "dental", "immo", "energie", "solar", "wasser", "licht",
    "blue", "green", "star", "point", "line", "works", "group", "partner", "service", "systems",
    "trade", "global", "euro", "city", "home", "smart", "prime", "vision", "nova", "terra",
)
HOSTED_TLDS: Final = ("de", "de", "de", "com", "net", "eu", "at", "ch", "org")
FOREIGN_TLDS: Final = (
    "com", "com", "com", "net", "org", "ru", "br", "in", "cn", "pl", "it", "es", "fr", "co.uk",
    "com.br", "info", "biz", "mx", "ar", "tr", "vn", "id", "co", "us", "ca", "au", "nl", "ro",
)
BIG_PROVIDERS: Final = (
    ("gmail.com", "gmail-smtp-in.l.google.com", "google"),
    ("googlemail.com", "gmail-smtp-in.l.google.com", "google"),
    ("hotmail.com", "hotmail-com.olc.protection.outlook.com", "outlook"),
    ("outlook.com", "outlook-com.olc.protection.outlook.com", "outlook"),
    ("msn.com", "msn-com.olc.protection.outlook.com", "outlook"),
    ("live.com", "live-com.olc.protection.outlook.com", "outlook"),
    ("yahoo.com", "mta7.am0.yahoodns.net", "yahoo"),
    ("aol.com", "mx-aol.mail.gm0.yahoodns.net", "yahoo"),
    ("gmx.de", "mx00.emig.gmx.net", "generic"),
    ("web.de", "mx-ha03.web.de", "generic"),
    ("t-online.de", "mx00.t-online.de", "generic"),
    ("icloud.com", "mx01.mail.icloud.com", "generic"),
    ("orange.fr", "smtp-in.orange.fr", "generic"),
    ("mail.ru", "mxs.mail.ru", "generic"),
)
"""(domain, MX host, behaviour class) of the large mailbox providers."""

_BAD_FIRST_OCTETS: Final = frozenset({0, 10, 100, 127, 169, 172, 192, 198, 203})


def public_ip(rng: random.Random, prefix16: tuple[int, int] | None = None) -> str:
    """A random public-looking IPv4 address, optionally inside ``a.b.0.0/16``."""
    if prefix16 is None:
        a = rng.randint(2, 223)
        while a in _BAD_FIRST_OCTETS:
            a = rng.randint(2, 223)
        b = rng.randint(0, 255)
    else:
        a, b = prefix16
    return f"{a}.{b}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def rdns_for(rng: random.Random, ip: str) -> str:
    """A reverse DNS name as dial-up and cable ISPs hand them out, or ``unknown``."""
    a, b, c, d = (int(x) for x in ip.split("."))
    style = rng.randrange(6)
    if style == 0:
        return f"p{a:02X}{b:02X}{c:02X}{d:02X}.dip0.t-ipconnect.de"
    if style == 1:
        return f"ip-{a}-{b}-{c}-{d}.hsi{rng.randint(1, 17):02d}.unitymediagroup.de"
    if style == 2:
        return f"{a}-{b}-{c}-{d}.dyn.example-isp.net"
    if style == 3:
        return f"dslb-{a:03d}-{b:03d}-{c:03d}-{d:03d}.{a:03d}.{b:03d}.pools.vodafone-ip.de"
    return "unknown"


@dataclass(slots=True)
class Remote:
    """A domain outside the company, with the MX host that answers for it."""

    domain: str
    mx: str
    mx_ip: str
    kind: str
    """``google``, ``outlook``, ``yahoo``, ``generic`` (a working site) or ``dead`` (its MX
    never answers: messages to it are deferred until they expire)."""


@dataclass(slots=True)
class User:
    """A mailbox of a hosted domain and the places its owner connects from."""

    address: str
    domain: str
    clients: list[tuple[str, str]]
    """(reverse name, IP) of the owner's 1-3 usual connections (home, office, phone)."""
    weight: float
    """Relative activity: how often this user sends and reads mail."""
    delivery: str
    """``lmtp`` (Dovecot LMTP) or ``virtual`` (Postfix's own maildir delivery)."""


@dataclass(slots=True)
class World:
    """The company (host name, domains, users) and everything around it."""

    host: str
    fqdn: str
    """The server's full name (``mx1.`` the company's first domain)."""
    domains: list[str]
    users: list[User]
    remotes: list[Remote]
    """Ordinary outside domains normal mail goes to and comes from."""
    planted: User
    """The account whose password gets guessed (``test@`` a hosted domain)."""
    incident_remotes: list[Remote]
    """The foreign domains the planted account spams."""
    botnet: list[str]
    """Client IPs the planted account is used from after the guess."""
    guess_ip: str
    """The botnet IP that guesses the password and logs in first."""
    spray_ip: str
    by_address: dict[str, User] = field(default_factory=dict)


def _word_domain(rng: random.Random, tlds: tuple[str, ...], seen: set[str]) -> str:
    while True:
        name = rng.choice(WORDS) + rng.choice(("", "-")) + rng.choice(WORDS)
        if rng.random() < 0.2:
            name += str(rng.randint(1, 99))
        domain = f"{name}.{rng.choice(tlds)}"
        if domain not in seen:
            seen.add(domain)
            return domain


def _remote(rng: random.Random, domain: str, kind: str) -> Remote:
    mx = rng.choice(("mx", "mail", "mx1", "smtp", "mx01")) + "." + domain
    return Remote(domain, mx, public_ip(rng), kind)


def build_world(rng: random.Random, scale: float) -> World:
    """The company and its surroundings for a log of ``scale`` times the 120 MB default."""
    seen: set[str] = set()
    n_domains = max(4, min(30, round(30 * scale**0.5)))
    n_users = max(16, min(320, round(320 * scale**0.5)))
    domains = [_word_domain(rng, HOSTED_TLDS, seen) for _ in range(n_domains)]
    host = "mx1"
    users: list[User] = []
    taken: set[str] = set()
    for index in range(n_users):
        domain = domains[index % n_domains] if index < n_domains else rng.choice(domains)
        while True:
            style = rng.random()
            if style < 0.55:
                local = f"{rng.choice(FIRST)}.{rng.choice(LAST)}"
            elif style < 0.8:
                local = f"{rng.choice(FIRST)[0]}.{rng.choice(LAST)}"
            else:
                local = rng.choice(ROLES)
            address = f"{local}@{domain}"
            if address not in taken:
                taken.add(address)
                break
        clients = []
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            ip = public_ip(rng)
            clients.append((rdns_for(rng, ip), ip))
        weight = rng.lognormvariate(0.0, 0.9)
        delivery = "virtual" if domains.index(domain) % 3 == 2 else "lmtp"
        users.append(User(address, domain, clients, weight, delivery))
    planted_domain = domains[1]
    planted = User(f"test@{planted_domain}", planted_domain, [], 0.0, "lmtp")
    remotes = [Remote(d, mx, public_ip(rng), "generic" if k == "generic" else k)
               for d, mx, k in BIG_PROVIDERS]
    n_remote = max(20, min(220, round(220 * scale**0.5)))
    remotes += [_remote(rng, _word_domain(rng, FOREIGN_TLDS, seen), "generic")
                for _ in range(n_remote)]
    n_dead = max(2, n_remote // 25)
    remotes += [_remote(rng, _word_domain(rng, FOREIGN_TLDS, seen), "dead") for _ in range(n_dead)]
    n_foreign = max(40, min(460, round(460 * scale**0.5)))
    incident = [Remote(d, mx, public_ip(rng), k) for d, mx, k in BIG_PROVIDERS]
    incident += [_remote(rng, _word_domain(rng, FOREIGN_TLDS, seen),
                         "dead" if rng.random() < 0.15 else "generic")
                 for _ in range(n_foreign - len(incident))]
    n_bots = max(24, min(380, round(380 * scale**0.5)))
    hot = [(rng.randint(30, 220), rng.randint(0, 255)) for _ in range(max(4, n_bots // 20))]
    botnet: list[str] = []
    while len(botnet) < n_bots:
        ip = public_ip(rng, rng.choice(hot) if rng.random() < 0.3 else None)
        if ip not in botnet:
            botnet.append(ip)
    world = World(host, f"{host}.{domains[0]}", domains, users, remotes, planted, incident, botnet,
                  botnet[0],
                  public_ip(rng))
    world.by_address = {u.address: u for u in users}
    return world
