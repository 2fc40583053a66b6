"""Login traffic and noise of the synthetic maillog: SASL brute force and password spraying
against Postfix, Dovecot IMAP/POP3 logins and failures, relay attempts, postscreen and anvil
chatter, and the Postfix upgrade that changes the SASL failure format half way through.

Before the upgrade (Postfix 3.7) a failure reads ``SASL LOGIN authentication failed:
UGFzc3dvcmQ6`` and does not name the user; after it (3.9) the line ends with
``, sasl_username=NAME``. :class:`Truth` counts failures per named user from the 3.9 lines only.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from datetime import UTC, datetime

from bench.logsynth_core import Gen
from bench.logsynth_world import SERVER_IP, User

__all__ = [
    "anvil",
    "brute_connection",
    "dovecot_failure",
    "dovecot_session",
    "postscreen_noise",
    "relay_attempt",
    "upgrade",
]

_B64 = string.ascii_letters + string.digits + "+/"
_BOT_HELOS = ("User", "ylmf-pc", "WIN-9QL4SDRB93L", "[192.168.2.33]", "localhost",
              "WIN-CLJ1B0GQ6JP")


def _session(g: Gen) -> str:
    return "".join(g.rng.choice(_B64) for _ in range(16))


def sasl_failure(g: Gen, t: float, prog: str, pid: int, ip: str, user: str, mech: str) -> None:
    """One ``SASL ... authentication failed`` line in the format of the Postfix running at
    ``t``, counted in the truth when it is written."""
    if t < g.upgrade:
        reason = "UGFzc3dvcmQ6" if mech == "LOGIN" else "authentication failure"
        if g.emit(t, f"{prog}[{pid}]: warning: unknown[{ip}]: SASL {mech} authentication "
                     f"failed: {reason}"):
            g.truth.failures_old_form += 1
            g.truth.brute_force_ips.add(ip)
        return
    reason = "UGFzc3dvcmQ6" if mech == "LOGIN" and g.rng.random() < 0.5 else "(reason unavailable)"
    if g.emit(t, f"{prog}[{pid}]: warning: unknown[{ip}]: SASL {mech} authentication failed: "
                 f"{reason}, sasl_username={user}"):
        g.truth.failures_new_form += 1
        g.truth.brute_force_users[user] += 1
        g.truth.brute_force_ips.add(ip)


def brute_connection(g: Gen, t: float, ip: str, users: Sequence[str], port25: bool) -> float:
    """One bot connection trying ``users`` (one AUTH each); returns when it closed."""
    rng = g.rng
    prog = "postfix/smtpd" if port25 else "postfix/submission/smtpd"
    pid = g.pool(prog).take(t, 2.0 + 2.0 * len(users))
    g.emit(t, f"{prog}[{pid}]: connect from unknown[{ip}]")
    mech = "LOGIN" if rng.random() < 0.8 else "PLAIN"
    for user in users:
        t += rng.uniform(0.3, 2.5)
        sasl_failure(g, t, prog, pid, ip, user, mech)
    t += rng.uniform(0.05, 0.5)
    n = len(users)
    if rng.random() < 0.5:
        g.emit(t, f"{prog}[{pid}]: lost connection after AUTH from unknown[{ip}]")
        counts = f"ehlo=1 auth=0/{n} commands=1/{n + 1}"
    else:
        counts = f"ehlo=1 auth=0/{n} quit=1 commands=2/{n + 2}"
    g.emit(t + 0.01, f"{prog}[{pid}]: disconnect from unknown[{ip}] {counts}")
    return t


def relay_attempt(g: Gen, t: float, ip: str, rcpt: str) -> None:
    """An unauthenticated client trying to relay (``Relay access denied``)."""
    rng = g.rng
    pid = g.pool("postfix/smtpd").take(t, 3.0)
    g.emit(t, f"postfix/smtpd[{pid}]: connect from unknown[{ip}]")
    helo = rng.choice(_BOT_HELOS)
    sender = f"{rng.choice(('test', 'admin', 'spameri', 'info'))}@{rng.choice(g.world.domains)}"
    g.emit(t + rng.uniform(0.3, 1.5), f"postfix/smtpd[{pid}]: NOQUEUE: reject: RCPT from "
                                      f"unknown[{ip}]: 454 4.7.1 <{rcpt}>: Relay access denied; "
                                      f"from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{helo}>")
    g.emit(t + rng.uniform(1.6, 2.5), f"postfix/smtpd[{pid}]: disconnect from unknown[{ip}] "
                                      "ehlo=1 mail=1 rcpt=0/1 rset=1 quit=1 commands=4/5")


def postscreen_noise(g: Gen, t: float, ip: str) -> None:
    """A connection postscreen deals with on its own (bots, blocklisted hosts, scanners)."""
    rng = g.rng
    ps = g.daemon("postscreen", t)
    port = rng.randint(1024, 65535)
    g.emit(t, f"postfix/postscreen[{ps}]: CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25")
    kind = rng.random()
    if kind < 0.35:
        g.emit(t + 0.2, f"postfix/dnsblog[{g.pool('dnsblog').take(t, 0.2)}]: addr {ip} listed "
                        f"by domain zen.spamhaus.org as 127.0.0.{rng.choice((2, 3, 4, 9, 11))}")
        g.emit(t + 0.4, f"postfix/postscreen[{ps}]: DNSBL rank {rng.randint(2, 6)} for "
                        f"[{ip}]:{port}")
        rcpt = f"{rng.choice(('info', 'office', 'sales'))}@{rng.choice(g.world.domains)}"
        g.emit(t + 1.2, f"postfix/postscreen[{ps}]: NOQUEUE: reject: RCPT from [{ip}]:{port}: "
                        f"550 5.7.1 Service unavailable; client [{ip}] blocked using "
                        f"zen.spamhaus.org; from=<bounce@{rng.choice(g.world.domains)}>, "
                        f"to=<{rcpt}>, proto=ESMTP, helo=<{rng.choice(_BOT_HELOS)}>")
        g.emit(t + 1.5, f"postfix/postscreen[{ps}]: DISCONNECT [{ip}]:{port}")
    elif kind < 0.6:
        g.emit(t + 0.1, f"postfix/postscreen[{ps}]: PREGREET 11 after 0.{rng.randint(10, 99)} "
                        f"from [{ip}]:{port}: EHLO User\\r\\n")
        g.emit(t + 0.3, f"postfix/postscreen[{ps}]: DISCONNECT [{ip}]:{port}")
    elif kind < 0.8:
        g.emit(t + rng.uniform(0.5, 6), f"postfix/postscreen[{ps}]: HANGUP after "
                                        f"{rng.uniform(0.5, 6):.1f} from [{ip}]:{port} in tests "
                                        "after SMTP handshake")
        g.emit(t + 6.1, f"postfix/postscreen[{ps}]: DISCONNECT [{ip}]:{port}")
    else:
        g.emit(t + 0.3, f"postfix/postscreen[{ps}]: PASS NEW [{ip}]:{port}")
        pid = g.pool("postfix/smtpd").take(t + 0.5, 10.0)
        g.emit(t + 0.5, f"postfix/smtpd[{pid}]: connect from unknown[{ip}]")
        if rng.random() < 0.5:
            g.emit(t + 0.6, f"postfix/smtpd[{pid}]: warning: hostname {ip.replace('.', '-')}"
                            f".static.example-hosting.net does not resolve to address {ip}: "
                            "Name or service not known")
        g.emit(t + 9.6, f"postfix/smtpd[{pid}]: lost connection after EHLO from unknown[{ip}]")
        g.emit(t + 9.7, f"postfix/smtpd[{pid}]: disconnect from unknown[{ip}] ehlo=1 commands=1")


def dovecot_session(g: Gen, t: float, user: User, client: tuple[str, str]) -> None:
    """A mail client logging in over IMAP (or POP3) and out again."""
    rng = g.rng
    ip = client[1]
    session = _session(g)
    pid = g.fresh_pid()
    service = "pop3" if rng.random() < 0.12 else "imap"
    g.emit(t, f"dovecot: {service}-login: Login: user=<{user.address}>, method=PLAIN, rip={ip}, "
              f"lip={SERVER_IP}, mpid={pid}, TLS, session=<{session}>")
    t += rng.uniform(2.0, 1800.0)
    if service == "pop3":
        n = rng.randint(0, 6)
        size = n * rng.randint(2000, 40000)
        g.emit(t, f"dovecot: pop3({user.address})<{pid}><{session}>: Disconnected: Logged out "
                  f"top=0/0, retr={n}/{size}, del={n}/{n}, size={size}")
    else:
        g.emit(t, f"dovecot: imap({user.address})<{pid}><{session}>: Logged out "
                  f"in={rng.randint(50, 9000)} out={rng.randint(500, 900_000)} deleted=0 "
                  f"expunged={rng.randint(0, 3)} trashed=0 hdr_count={rng.randint(0, 40)} "
                  f"hdr_bytes={rng.randint(0, 90000)} body_count={rng.randint(0, 12)} "
                  f"body_bytes={rng.randint(0, 400_000)}")


def dovecot_failure(g: Gen, t: float, ip: str, user: str, known: bool) -> None:
    """A failed IMAP login: the passdb's verbose line, then the login process's summary."""
    rng = g.rng
    session = _session(g)
    attempts = rng.randint(1, 3)
    reason = "Password mismatch" if known else "unknown user"
    for k in range(attempts):
        g.emit(t + 2.0 * k, f"dovecot: auth: passwd-file({user},{ip},<{session}>): {reason}")
    g.emit(t + 2.0 * attempts + 0.5,
           f"dovecot: imap-login: Disconnected: Connection closed (auth failed, {attempts} "
           f"attempts in {2 * attempts + 1} secs): user=<{user}>, method=PLAIN, rip={ip}, "
           f"lip={SERVER_IP}, TLS, session=<{session}>")


def anvil(g: Gen, t: float, ip: str, rate: int) -> None:
    """anvil's periodic statistics (every ``anvil_status_update_time``)."""
    pid = g.daemon("anvil", t)
    stamp = _anvil_stamp(t - g.rng.uniform(10, 590))
    g.emit(t, f"postfix/anvil[{pid}]: statistics: max connection rate {rate}/60s for "
              f"(smtp:{ip}) at {stamp}")
    g.emit(t, f"postfix/anvil[{pid}]: statistics: max connection count {max(1, rate // 3)} for "
              f"(smtp:{ip}) at {stamp}")
    g.emit(t, f"postfix/anvil[{pid}]: statistics: max cache size {g.rng.randint(3, 60)} at "
              f"{stamp}")


def _anvil_stamp(t: float) -> str:
    d = datetime.fromtimestamp(int(t), UTC)
    return d.strftime("%b ") + f"{d.day:>2} " + d.strftime("%H:%M:%S")


def upgrade(g: Gen, t: float) -> None:
    """The Postfix 3.7 → 3.9 package upgrade: stop, start, new daemon pids."""
    old = g.daemon("master", t - 1)
    g.emit(t - 0.6, f"postfix/postfix-script[{g.fresh_pid()}]: stopping the Postfix mail system")
    g.emit(t - 0.5, f"postfix/master[{old}]: terminating on signal 15")
    g.emit(t + 0.4, f"postfix/postfix-script[{g.fresh_pid()}]: starting the Postfix mail system")
    g.emit(t + 0.5, f"postfix/master[{g.daemon('master', t)}]: daemon started -- version 3.9.1, "
                    "configuration /etc/postfix")
