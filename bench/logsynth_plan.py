"""What happens when in the synthetic maillog: the schedule of ordinary traffic, attacks and the
planted incident, as (start time, tie-breaker, flow, arguments) entries run in time order.

The planted incident: ``test@`` a hosted domain is brute-forced from a few botnet IPs (failures
in the Postfix 3.9 form, which names the user), one of them logs in and sends a test message,
and then the whole botnet relays spam through the account for six hours.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import logsynth_auth as auth
from bench import logsynth_mail as mail
from bench.logsynth_core import Gen
from bench.logsynth_world import FIRST, LAST, Remote, User, World, public_ip

__all__ = ["Entry", "Incident", "plan"]

Flow = Callable[..., Any]
Entry = tuple[float, int, Flow, tuple[Any, ...]]

_BUSINESS = (0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.5, 1.2, 2.0, 2.2, 2.2, 2.0, 1.6, 1.8, 2.0, 2.0,
             1.8, 1.4, 1.0, 0.8, 0.7, 0.6, 0.4, 0.25)
_FLAT = (1.0,) * 24
_GENERIC_NAMES = ("admin", "info", "test", "user", "webmaster", "postmaster", "sales", "office",
                  "contact", "support", "noreply", "mail", "marketing", "backup", "scanner")


@dataclass(slots=True)
class Incident:
    """What the planted account did, filled in as its flows run."""

    tally: Counter[str] = field(default_factory=Counter)
    """Final status of each recipient of the account's messages, as far as the log shows."""
    ips: set[str] = field(default_factory=set)
    messages: int = 0
    recipients: int = 0
    addresses: set[str] = field(default_factory=set)
    domains: set[str] = field(default_factory=set)
    sessions: int = 0
    failures_before_success: int = 0
    success_time: float = 0.0
    first_abuse: float = 0.0
    last_abuse: float = 0.0


@dataclass(slots=True)
class _Plan:
    rng: random.Random
    world: World
    start: float
    end: float
    per_day: float
    """Ordinary traffic relative to the calibrated 425,000 lines a day."""
    entries: list[Entry] = field(default_factory=list)

    def add(self, t: float, flow: Flow, *args: Any) -> None:
        self.entries.append((t, len(self.entries), flow, args))

    def times(self, n: int, profile: tuple[float, ...], lo: float | None = None,
              hi: float | None = None) -> list[float]:
        """``n`` random times in [lo, hi) following an hour-of-day profile."""
        lo = self.start if lo is None else lo
        hi = self.end if hi is None else hi
        top = max(profile)
        out: list[float] = []
        while len(out) < n:
            t = self.rng.uniform(lo, hi)
            if self.rng.random() * top < profile[int(t // 3600) % 24]:
                out.append(t)
        return out

    def count(self, per_day: float) -> int:
        return max(1, round(per_day * self.per_day * (self.end - self.start) / 86400))


def _weighted_users(world: World) -> tuple[list[User], list[float]]:
    return world.users, [u.weight for u in world.users]


def _rcpts(rng: random.Random, world: World, n: int) -> list[mail.Rcpt]:
    out: list[mail.Rcpt] = []
    for _ in range(n):
        if rng.random() < 0.15:
            user = rng.choice(world.users)
            out.append((user.address, user))
        else:
            remote = rng.choice(world.remotes[:14]) if rng.random() < 0.5 else \
                rng.choice(world.remotes)
            local = f"{rng.choice(FIRST)}.{rng.choice(LAST)}"
            out.append((f"{local}@{remote.domain}", remote))
    return out


def _plan_normal(p: _Plan) -> None:
    rng, world = p.rng, p.world
    users, weights = _weighted_users(world)
    for t in p.times(p.count(4700), _BUSINESS):
        user = rng.choices(users, weights)[0]
        n_msgs = 1 if rng.random() < 0.85 else rng.randint(2, 3)
        msgs = [(user.address, _rcpts(rng, world, rng.choice((1, 1, 1, 2, 2, 3, 5))))
                for _ in range(n_msgs)]
        p.add(t, mail.auth_session, user.address, rng.choice(user.clients), msgs)
    live = [r for r in world.remotes if r.kind != "dead"]
    for t in p.times(p.count(13000), _BUSINESS):
        p.add(t, mail.inbound, rng.choices(users, weights)[0], rng.choice(live))
    for t in p.times(p.count(15000), _BUSINESS):
        user = rng.choices(users, weights)[0]
        p.add(t, auth.dovecot_session, user, rng.choice(user.clients))
    day = 86400.0
    cron = p.start + 6 * 3600 + 25 * 60
    while cron < p.end:
        p.add(cron, mail.pickup, 0, "root", [(f"root@{world.fqdn}", None)])
        cron += day


def _plan_noise(p: _Plan) -> None:
    rng = p.rng
    for t in p.times(p.count(15000), _FLAT):
        p.add(t, auth.postscreen_noise, public_ip(rng))
    for t in p.times(p.count(1800), _FLAT):
        remote = rng.choice(p.world.remotes)
        p.add(t, auth.relay_attempt, public_ip(rng), f"{rng.choice(FIRST)}@{remote.domain}")
    for t in p.times(p.count(1400), _FLAT):
        user = rng.choice(p.world.users).address if rng.random() < 0.4 else \
            f"{rng.choice(_GENERIC_NAMES)}@{rng.choice(p.world.domains)}"
        p.add(t, auth.dovecot_failure, public_ip(rng), user, user in p.world.by_address)
    t = p.start + rng.uniform(60, 600)
    while t < p.end:
        p.add(t, auth.anvil, public_ip(rng), rng.randint(2, 40))
        t += 600.0
    p.add(p.start + 0.4 * (p.end - p.start), auth.upgrade)


def _bot_targets(rng: random.Random, world: World) -> list[str]:
    """Names a brute-force bot tries: generic names at hosted domains, bare names, real users."""
    names = []
    for _ in range(rng.randint(2, 8)):
        x = rng.random()
        if x < 0.5:
            names.append(f"{rng.choice(_GENERIC_NAMES)}@{rng.choice(world.domains)}")
        elif x < 0.7:
            names.append(rng.choice(_GENERIC_NAMES))
        else:
            names.append(rng.choice(world.users).address)
    return names


def _plan_brute_force(p: _Plan) -> None:
    rng = p.rng
    for t0 in p.times(p.count(160), _FLAT):
        ip = public_ip(rng)
        targets = _bot_targets(rng, p.world)
        port25 = rng.random() < 0.6
        t = t0
        for _ in range(rng.randint(4, 45)):
            tries = [rng.choice(targets) for _ in range(rng.choice((1, 1, 2, 3)))]
            p.add(t, auth.brute_connection, ip, tries, port25)
            t += rng.uniform(5, 90)


def _plan_spray(p: _Plan, truth: dict[str, object]) -> None:
    """One IP trying one password on many accounts, a few minutes apart, after the upgrade."""
    rng, world = p.rng, p.world
    accounts = [u.address for u in world.users]
    rng.shuffle(accounts)
    accounts = accounts[: max(14, min(150, len(accounts) // 2))]
    t = p.start + 0.7 * (p.end - p.start)
    for address in accounts:
        p.add(t, auth.brute_connection, world.spray_ip, [address], False)
        t += rng.uniform(60, 240)
    truth.update(ip=world.spray_ip, accounts=len(accounts), attempts=len(accounts))


def _plan_web_script(p: _Plan, truth: dict[str, object]) -> None:
    """A contact form abused through ``sendmail``: uid 33 (www-data) mailing outside."""
    rng, world = p.rng, p.world
    n = max(10, round(150 * p.per_day**0.5))
    t = p.start + 0.3 * (p.end - p.start)
    tally: Counter[str] = Counter()
    for _ in range(n):
        remote = rng.choice(world.remotes)
        p.add(t, mail.pickup, 33, "www-data",
              [(f"{rng.choice(FIRST)}{rng.randint(1, 999)}@{remote.domain}", remote)], tally)
        t += rng.uniform(20, 120)
    truth.update(uid=33, login="www-data", messages=n, recipients=n, tally=tally)


def _spam_rcpt(rng: random.Random, world: World, cycle: list[Remote]) -> mail.Rcpt:
    if rng.random() < 0.4:
        remote = rng.choice(world.incident_remotes[:8])
    else:
        if not cycle:
            cycle.extend(world.incident_remotes[8:])
            rng.shuffle(cycle)
        remote = cycle.pop()
    local = rng.choice((f"{rng.choice(FIRST)}.{rng.choice(LAST)}",
                        f"{rng.choice(LAST)}_{rng.choice(FIRST)[0]}",
                        f"{rng.choice(FIRST)}{rng.randint(1, 9999)}"))
    return f"{local}@{remote.domain}", remote


def _abuse(g: Gen, t: float, inc: Incident, ip: str,
           msgs: list[tuple[str, list[mail.Rcpt]]], port25: bool) -> None:
    if not inc.first_abuse:
        inc.first_abuse = t
    inc.last_abuse = t
    _relay(g, t, inc, ip, msgs, port25)


def _relay(g: Gen, t: float, inc: Incident, ip: str, msgs: list[tuple[str, list[mail.Rcpt]]],
           port25: bool) -> None:
    inc.sessions += 1
    inc.ips.add(ip)
    for _, rcpts in msgs:
        inc.messages += 1
        inc.recipients += len(rcpts)
        for addr, _target in rcpts:
            inc.addresses.add(addr)
            inc.domains.add(addr.rpartition("@")[2])
    mail.auth_session(g, t, g.world.planted.address, ("unknown", ip), msgs, port25=port25,
                      method="LOGIN", spam=True, amavis=0.3, tally=inc.tally)


def _success(g: Gen, t: float, inc: Incident, msgs: list[tuple[str, list[mail.Rcpt]]]) -> None:
    inc.failures_before_success = g.truth.brute_force_users[g.world.planted.address]
    inc.success_time = t
    _relay(g, t, inc, g.world.guess_ip, msgs, True)


def _plan_incident(p: _Plan, inc: Incident, scale: float) -> None:
    rng, world = p.rng, p.world
    planted = world.planted.address
    span = p.end - p.start
    t0 = p.start + 0.5 * span
    guessers = world.botnet[:6]
    for ip in guessers:
        t = t0 + rng.uniform(0, 600)
        while t < t0 + 2700:
            others = [f"{rng.choice(_GENERIC_NAMES)}@{world.planted.domain}"
                      for _ in range(rng.randint(0, 2))]
            p.add(t, auth.brute_connection, ip, [planted, *others], True)
            t += rng.uniform(60, 240)
    success = t0 + 3000
    cycle: list[Remote] = []
    first = [(planted, [_spam_rcpt(rng, world, cycle)])]
    p.add(success, _success, inc, first)
    n_msgs = max(40, round(1600 * scale))
    per_ip: dict[str, int] = dict.fromkeys(world.botnet, 1)
    for _ in range(n_msgs - 1 - len(world.botnet)):
        per_ip[rng.choice(world.botnet)] += 1
    lo = success + rng.uniform(900, 1800)
    for ip, count in per_ip.items():
        while count:
            k = min(count, rng.randint(1, 3))
            count -= k
            msgs = []
            for _ in range(k):
                sender = planted if rng.random() < 0.4 else \
                    f"{rng.choice(FIRST)}.{rng.choice(LAST)}@{rng.choice(world.incident_remotes).domain}"
                n = rng.choices((1, 2, 3, 4, 5, 6, 8), (15, 15, 15, 15, 15, 15, 10))[0]
                msgs.append((sender, [_spam_rcpt(rng, world, cycle) for _ in range(n)]))
            p.add(rng.uniform(lo, lo + 6 * 3600), _abuse, inc, ip, msgs, rng.random() < 0.5)


def plan(rng: random.Random, world: World, start: float, end: float, per_day: float,
         scale: float, truth_spray: dict[str, object], truth_web: dict[str, object],
         inc: Incident) -> list[Entry]:
    """Every flow of the log, sorted by start time."""
    p = _Plan(rng, world, start, end, per_day)
    _plan_normal(p)
    _plan_noise(p)
    _plan_brute_force(p)
    _plan_spray(p, truth_spray)
    _plan_web_script(p, truth_web)
    _plan_incident(p, inc, scale)
    p.entries.sort(key=lambda e: (e[0], e[1]))
    return p.entries
