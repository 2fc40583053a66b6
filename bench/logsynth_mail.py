"""Message flows of the synthetic maillog: authenticated submission, inbound mail, local
injection, the amavis 10024/10025 re-queue, delivery attempts with retries, bounces and expiry.

Every flow writes its lines through :meth:`Gen.emit`, which drops lines past the end of the log;
recipient outcomes are counted from the lines actually kept, so the truth matches the file.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from collections.abc import Sequence

from bench.logsynth_core import Gen
from bench.logsynth_world import SERVER_IP, Remote, User

__all__ = ["LIFETIME", "Rcpt", "auth_session", "deliver", "inbound", "pickup"]

LIFETIME = 86_400.0
"""``maximal_queue_lifetime = 1d`` on this server: deferred mail expires after a day."""

Rcpt = tuple[str, Remote | User | None]
"""A recipient address and where it goes: a remote domain, a hosted mailbox, or None for a
local system mailbox (root's)."""

_TLS_IN = (
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256"
)
_TLS_OUT = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
_B64 = string.ascii_letters + string.digits + "+/"
_HEX = "0123456789abcdef"


def fmt_delay(x: float) -> str:
    """A delay as Postfix prints it: two digits below ten seconds, whole seconds above."""
    if x < 0.005:
        return "0"
    if x < 10:
        return f"{x:.2g}"
    return f"{x:.0f}"


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def message_id(rng: random.Random, domain: str) -> str:
    """A Message-ID as mail clients make them."""
    style = rng.randrange(3)
    if style == 0:
        return f"{_rand(rng, _HEX, 8)}-{_rand(rng, _HEX, 4)}-{_rand(rng, _HEX, 12)}@{domain}"
    if style == 1:
        return f"{rng.randint(10**11, 10**12)}.{rng.randint(1000, 99999)}@{domain}"
    return f"{_rand(rng, string.ascii_uppercase + string.digits, 20)}@{domain}"


def _remote_said(target: Remote, text: str, stage: str) -> str:
    return f"host {target.mx}[{target.mx_ip}] said: {text} (in reply to {stage} command)"


def _sent_text(rng: random.Random, target: Remote) -> str:
    if target.kind == "google":
        return (f"250 2.0.0 OK  {rng.randint(1_780_000_000, 1_790_000_000)} "
                f"{_rand(rng, string.ascii_lowercase + string.digits, 19)}.{rng.randint(1, 700)}"
                " - gsmtp")
    if target.kind == "outlook":
        return (f"250 2.6.0 <{_rand(rng, _HEX, 16)}@{target.domain}> "
                f"[InternalId={rng.randint(10**12, 10**13)}, Hostname=AM{rng.randint(0, 9)}PR"
                f"{rng.randint(10, 99)}MB{rng.randint(1000, 9999)}.eurprd0{rng.randint(1, 9)}"
                ".prod.outlook.com] Queued mail for delivery")
    if target.kind == "yahoo":
        return "250 ok dirdel"
    return f"250 2.0.0 Ok: queued as {_rand(rng, '0123456789ABCDEF', 10)}"


def _deferred(rng: random.Random, target: Remote, addr: str) -> tuple[str, str, str]:
    """(relay, dsn, text) of a temporary failure."""
    relay = f"{target.mx}[{target.mx_ip}]:25"
    if target.kind == "dead" or rng.random() < 0.08:
        return "none", "4.4.1", f"connect to {target.mx}[{target.mx_ip}]:25: Connection timed out"
    if target.kind == "yahoo":
        return relay, "4.7.0", _remote_said(target, (
            f"421 4.7.0 [TSS04] Messages from {SERVER_IP} temporarily deferred due to unexpected "
            "volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"
        ), "MAIL FROM")
    if target.kind == "google":
        return relay, "4.7.28", _remote_said(target, (
            f"421-4.7.28 [{SERVER_IP}      15] Gmail has detected an unusual rate of unsolicited "
            "mail originating from your IP address. To protect our users from spam, mail sent "
            "from your IP address has been temporarily rate limited."
        ), "end of DATA")
    if target.kind == "outlook":
        return relay, "4.7.650", _remote_said(target, (
            f"451 4.7.650 The mail server [{SERVER_IP}] has been temporarily rate limited due to "
            "IP reputation. For e-mail delivery information, see https://postmaster.live.com "
            "(S775)"
        ), "MAIL FROM")
    if rng.random() < 0.7:
        return relay, "4.7.1", _remote_said(target, (
            f"450 4.7.1 <{addr}>: Recipient address rejected: Greylisted, see "
            f"https://postgrey.schweikert.ch/help/{target.domain}.html"
        ), "RCPT TO")
    return relay, "4.2.2", _remote_said(target, f"452 4.2.2 <{addr}>: Mailbox full", "RCPT TO")


def _bounced(rng: random.Random, target: Remote, addr: str) -> tuple[str, str, str]:
    """(relay, dsn, text) of a permanent failure."""
    relay = f"{target.mx}[{target.mx_ip}]:25"
    if target.kind == "outlook":
        return relay, "5.7.1", _remote_said(target, (
            f"550 5.7.1 Service unavailable, Client host [{SERVER_IP}] blocked using Spamhaus. "
            f"To request removal from this list see https://www.spamhaus.org/query/ip/{SERVER_IP}"
            " (AS3130035) [AM4PEPF00027A5F.eurprd04.prod.outlook.com]"
        ), "MAIL FROM")
    if target.kind == "google":
        return relay, "5.7.1", _remote_said(target, (
            f"550-5.7.1 [{SERVER_IP}      12] Gmail has detected that this message is likely "
            "unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been "
            "blocked."
        ), "end of DATA")
    if target.kind == "yahoo":
        return relay, "5.7.9", _remote_said(target, (
            "554 5.7.9 Message not accepted for policy reasons.  See "
            "https://postmaster.yahooinc.com/error-codes"
        ), "end of DATA")
    if rng.random() < 0.25:
        return "none", "5.4.4", (f"Host or domain name not found. Name service error for "
                                 f"name={target.domain} type=A: Host not found")
    return relay, "5.1.1", _remote_said(target, (
        f"550 5.1.1 <{addr}>: Recipient address rejected: User unknown in virtual mailbox table"
    ), "RCPT TO")


_SPAM_FIRST: dict[str, tuple[float, float]] = {
    # kind: (share sent, share bounced) on the first attempt; the rest is deferred
    "yahoo": (0.1, 0.0), "outlook": (0.2, 0.6), "google": (0.3, 0.2), "generic": (0.35, 0.25),
    "dead": (0.0, 0.0),
}


def _outcome(rng: random.Random, target: Remote, spam: bool, attempt: int) -> str:
    """``sent``, ``deferred`` or ``bounced`` for one recipient on one attempt."""
    if target.kind == "dead":
        return "deferred"
    x = rng.random()
    if spam:
        sent, bounced = _SPAM_FIRST[target.kind] if attempt == 0 else (0.03, 0.02)
    elif attempt == 0:
        sent, bounced = 0.88, 0.02
    else:
        sent, bounced = 0.8, 0.01
    if x < sent:
        return "sent"
    return "bounced" if x < sent + bounced else "deferred"


def _backoff(rng: random.Random, attempt: int) -> float:
    return min(4000.0, 300.0 * 2.0 ** (attempt - 1)) + rng.uniform(5.0, 300.0)


def _delays(rng: random.Random, t: float, arrived: float) -> str:
    total = t - arrived
    a = min(total, rng.uniform(0.01, 0.4) if total < 60 else total - rng.uniform(0.2, 3))
    b, c = rng.uniform(0.0, 0.05), rng.uniform(0.05, 1.2)
    return f"delay={fmt_delay(total)}, delays={fmt_delay(a)}/{fmt_delay(b)}/{fmt_delay(c)}/" \
           f"{fmt_delay(rng.uniform(0.02, 0.6))}"


def _local_line(g: Gen, t: float, qid: str, addr: str, target: User | None, arrived: float
                ) -> bool:
    rng = g.rng
    delays = _delays(rng, t, arrived)
    if target is None:
        pid = g.pool("local").take(t, 0.1)
        return g.emit(t, f"postfix/local[{pid}]: {qid}: to=<{addr}>, orig_to=<root>, "
                         f"relay=local, {delays}, dsn=2.0.0, status=sent (delivered to mailbox)")
    if target.delivery == "virtual":
        pid = g.pool("virtual").take(t, 0.1)
        return g.emit(t, f"postfix/virtual[{pid}]: {qid}: to=<{addr}>, relay=virtual, {delays}, "
                         "dsn=2.0.0, status=sent (delivered to maildir)")
    pid = g.pool("lmtp").take(t, 0.2)
    session = _rand(rng, _B64, 22)
    kept = g.emit(t, f"postfix/lmtp[{pid}]: {qid}: to=<{addr}>, relay={g.world.fqdn}"
                     f"[private/dovecot-lmtp], {delays}, dsn=2.0.0, status=sent (250 2.0.0 "
                     f"<{addr}> {session} Saved)")
    g.emit(t - 0.01, f"dovecot: lmtp({addr})<{g.fresh_pid()}><{session}>: "
                     f"msgid=<{message_id(rng, g.world.fqdn)}>: saved mail to INBOX")
    return kept


def deliver(g: Gen, qid: str, arrived: float, t: float, sender: str, size: int,
            rcpts: Sequence[Rcpt], *, spam: bool = False, tally: Counter[str] | None = None
            ) -> None:
    """Every delivery attempt of message ``qid`` from ``t`` on, until all recipients are final,
    the message expires, or the log ends; then bounces, ``removed`` and the tally."""
    rng = g.rng
    last: dict[int, str] = {}
    pending = list(range(len(rcpts)))
    attempt = 0
    tend = t
    deferred_seen = False
    while pending and t < g.end:
        if attempt and not g.emit(t, f"postfix/qmgr[{g.daemon('qmgr', t)}]: {qid}: "
                                     f"from=<{sender}>, size={size}, nrcpt={len(rcpts)} "
                                     "(queue active)"):
            break
        groups: dict[str, list[int]] = {}
        for i in pending:
            target = rcpts[i][1]
            key = target.domain if isinstance(target, Remote) else "local"
            groups.setdefault(key, []).append(i)
        still: list[int] = []
        bounced: list[int] = []
        for members in groups.values():
            tg = t + rng.uniform(0.05, 1.5)
            target = rcpts[members[0]][1]
            if not isinstance(target, Remote):
                for i in members:
                    addr, local = rcpts[i]
                    tg += rng.uniform(0.01, 0.2)
                    if _local_line(g, tg, qid, addr, local if isinstance(local, User) else None,
                                   arrived):
                        last[i] = "sent"
                tend = max(tend, tg)
                continue
            pid = g.pool("smtp").take(tg, 2.0)
            if target.kind != "dead" and rng.random() < 0.5:
                g.emit(tg, f"postfix/smtp[{pid}]: Trusted TLS connection established to "
                           f"{target.mx}[{target.mx_ip}]:25: {_TLS_OUT}")
            for i in members:
                addr = rcpts[i][0]
                tg += rng.uniform(0.05, 0.8)
                status = _outcome(rng, target, spam, attempt)
                if status == "sent":
                    relay, dsn, text = f"{target.mx}[{target.mx_ip}]:25", "2.0.0", \
                        _sent_text(rng, target)
                elif status == "deferred":
                    relay, dsn, text = _deferred(rng, target, addr)
                else:
                    relay, dsn, text = _bounced(rng, target, addr)
                kept = g.emit(tg, f"postfix/smtp[{pid}]: {qid}: to=<{addr}>, relay={relay}, "
                                  f"{_delays(rng, tg, arrived)}, dsn={dsn}, status={status} "
                                  f"({text})")
                if not kept:
                    still.append(i)
                    continue
                last[i] = status
                if status == "deferred":
                    deferred_seen = True
                    still.append(i)
                elif status == "bounced":
                    bounced.append(i)
            tend = max(tend, tg)
        pending = still
        if bounced and sender:
            ndr(g, qid, tend + 0.02, sender)
        if pending and tend - arrived >= LIFETIME and tend < g.end:
            if g.emit(tend + 0.01, f"postfix/qmgr[{g.daemon('qmgr', tend)}]: {qid}: "
                                   f"from=<{sender}>, status=expired, returned to sender"):
                for i in pending:
                    last[i] = "expired"
                g.truth.counts["expired_messages"] += 1
                if sender:
                    ndr(g, qid, tend + 0.03, sender)
                pending = []
        if pending:
            attempt += 1
            t = tend + _backoff(rng, attempt)
    if deferred_seen:
        g.truth.counts["deferred_messages"] += 1
    if not pending and g.emit(tend + 0.05, f"postfix/qmgr[{g.daemon('qmgr', tend)}]: {qid}: "
                                           "removed"):
        g.qids.close(qid, tend + 0.05)
    if tally is not None:
        tally.update(last.values())
        tally["unlogged"] += len(rcpts) - len(last)


def ndr(g: Gen, qid: str, t: float, sender: str) -> None:
    """The non-delivery notification Postfix's bounce daemon returns to ``sender``."""
    rng = g.rng
    if t + 0.02 >= g.end:
        return
    notice = g.qids.new(t)
    size = rng.randint(2400, 9000)
    g.emit(t, f"postfix/cleanup[{g.pool('cleanup').take(t, 0.05)}]: {notice}: "
              f"message-id=<{message_id(rng, g.world.fqdn)}>")
    g.emit(t + 0.01, f"postfix/qmgr[{g.daemon('qmgr', t)}]: {notice}: from=<>, size={size}, "
                     "nrcpt=1 (queue active)")
    g.emit(t + 0.02, f"postfix/bounce[{g.pool('bounce').take(t, 0.1)}]: {qid}: sender "
                     f"non-delivery notification: {notice}")
    g.truth.counts["ndr_messages"] += 1
    target: Remote | User | None = g.world.by_address.get(sender)
    if target is None:
        target = g.remote_for(sender.rpartition("@")[2])
    deliver(g, notice, t, t + 0.05, "", size, [(sender, target)])


def auth_session(g: Gen, t: float, login: str, client: tuple[str, str],
                 messages: Sequence[tuple[str, Sequence[Rcpt]]], *, port25: bool = False,
                 method: str = "PLAIN", spam: bool = False, amavis: float = 0.35,
                 tally: Counter[str] | None = None) -> float:
    """One authenticated SMTP session sending ``messages`` ((sender, recipients) each);
    returns when it ended."""
    rng = g.rng
    rdns, ip = client
    prog = "postfix/smtpd" if port25 else "postfix/submission/smtpd"
    pid = g.pool(prog).take(t, 5.0 + 3.0 * len(messages))
    g.emit(t, f"{prog}[{pid}]: connect from {rdns}[{ip}]")
    if not port25:
        t += rng.uniform(0.1, 0.4)
        g.emit(t, f"{prog}[{pid}]: Anonymous TLS connection established from {rdns}[{ip}]: "
                  f"{_TLS_IN}")
    nrcpt = 0
    for sender, rcpts in messages:
        t += rng.uniform(0.2, 2.5)
        qid = g.qids.new(t)
        g.emit(t, f"{prog}[{pid}]: {qid}: client={rdns}[{ip}], sasl_method={method}, "
                  f"sasl_username={login}")
        domain = sender.rpartition("@")[2]
        mid = message_id(rng, domain)
        t += rng.uniform(0.05, 0.6)
        g.emit(t, f"postfix/cleanup[{g.pool('cleanup').take(t, 0.05)}]: {qid}: message-id=<{mid}>")
        if domain in g.world.domains:
            g.emit(t + 0.01, f"opendkim[{g.daemon('opendkim', t)}]: {qid}: DKIM-Signature field "
                             f"added (s=mail, d={domain})")
        size = rng.randint(1800, 60_000) if not spam else rng.randint(2500, 9000)
        g.emit(t + 0.02, f"postfix/qmgr[{g.daemon('qmgr', t)}]: {qid}: from=<{sender}>, "
                         f"size={size}, nrcpt={len(rcpts)} (queue active)")
        nrcpt += len(rcpts)
        if rng.random() < amavis:
            amavis_chain(g, t + 0.03, qid, sender, size, rcpts, client, mid, outbound=True,
                         spam=spam, tally=tally)
        else:
            deliver(g, qid, t, t + 0.03, sender, size, rcpts, spam=spam, tally=tally)
    t += rng.uniform(0.05, 0.5)
    n = len(messages)
    if port25:
        counts = f"ehlo=1 auth=1 mail={n} rcpt={nrcpt} data={n} quit=1 commands={3 + 2 * n + nrcpt}"
    else:
        counts = (f"ehlo=2 starttls=1 auth=1 mail={n} rcpt={nrcpt} data={n} quit=1 "
                  f"commands={5 + 2 * n + nrcpt}")
    g.emit(t, f"{prog}[{pid}]: disconnect from {rdns}[{ip}] {counts}")
    return t


def _amavis_tag(g: Gen) -> tuple[int, str]:
    """The pid of an amavisd child and its ``(pid-N)`` task tag."""
    children = g.amavis_children
    if len(children) < 3:
        children.append([g.fresh_pid(), 0])
    child = g.rng.choice(children)
    child[1] += 1
    if child[1] > 20:
        child[0], child[1] = g.fresh_pid(), 1
    return child[0], f"({child[0]}-{child[1]:02d})"


def amavis_chain(g: Gen, t: float, qid: str, sender: str, size: int, rcpts: Sequence[Rcpt],
                 client: tuple[str, str], mid: str, *, outbound: bool, spam: bool = False,
                 tally: Counter[str] | None = None) -> None:
    """Message ``qid`` through amavis on 10024 and back on 10025 as a new queue id."""
    rng = g.rng
    rdns, ip = client
    tr = t + rng.uniform(0.8, 3.5)
    pid = g.pool("reinject").take(tr - 0.1, 0.2)
    g.emit(tr - 0.12, f"postfix/smtpd[{pid}]: connect from localhost[127.0.0.1]")
    requeued = g.qids.new(tr - 0.08)
    g.emit(tr - 0.08, f"postfix/smtpd[{pid}]: {requeued}: client=localhost[127.0.0.1], "
                      f"orig_queue_id={qid}, orig_client={rdns}[{ip}]")
    g.emit(tr - 0.07, f"postfix/cleanup[{g.pool('cleanup').take(tr, 0.05)}]: {requeued}: "
                      f"message-id=<{mid}>")
    n = len(rcpts)
    g.emit(tr - 0.05, f"postfix/smtpd[{pid}]: disconnect from localhost[127.0.0.1] ehlo=1 "
                      f"xforward=1 mail=1 rcpt={n} data=1 quit=1 commands={5 + n}")
    size2 = size + rng.randint(600, 1500)
    g.emit(tr - 0.04, f"postfix/qmgr[{g.daemon('qmgr', tr)}]: {requeued}: from=<{sender}>, "
                      f"size={size2}, nrcpt={n} (queue active)")
    apid, tag = _amavis_tag(g)
    hits = rng.uniform(2.0, 4.9) if spam else rng.uniform(-3.0, 1.5)
    way = "ORIGINATING LOCAL " if outbound else ""
    bucket = "RelayedOutbound" if outbound else "RelayedInbound"
    to = ",".join(f"<{a}>" for a, _ in rcpts)
    g.emit(tr - 0.02, f"amavis[{apid}]: {tag} Passed CLEAN {{{bucket}}}, {way}[{ip}]:"
                      f"{rng.randint(1024, 65535)} [{ip}] <{sender}> -> {to}, Queue-ID: {qid}, "
                      f"mail_id: {_rand(rng, _B64[:-2] + '-_', 12)}, Hits: {hits:.3f}, "
                      f"size: {size}, queued_as: {requeued}, {rng.randint(300, 3500)} ms")
    spid = g.pool("smtp").take(tr, 0.1)
    for addr, _ in rcpts:
        g.emit(tr, f"postfix/smtp[{spid}]: {qid}: to=<{addr}>, relay=127.0.0.1[127.0.0.1]:10024, "
                   f"{_delays(rng, tr, t)}, dsn=2.0.0, status=sent (250 2.0.0 from "
                   f"MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {requeued})")
    if g.emit(tr + 0.01, f"postfix/qmgr[{g.daemon('qmgr', tr)}]: {qid}: removed"):
        g.qids.close(qid, tr + 0.01)
    g.truth.counts["amavis_requeued"] += 1
    deliver(g, requeued, t, tr + 0.05, sender, size2, rcpts, spam=spam, tally=tally)


def inbound(g: Gen, t: float, user: User, remote: Remote) -> None:
    """A message from an outside domain to ``user``, through postscreen and smtpd."""
    rng = g.rng
    ip = remote.mx_ip if rng.random() < 0.5 else f"{remote.mx_ip.rsplit('.', 1)[0]}." \
                                                   f"{rng.randint(1, 254)}"
    rdns = f"mail-out{rng.randint(1, 40)}.{remote.domain}"
    port = rng.randint(1024, 65535)
    ps = g.daemon("postscreen", t)
    g.emit(t, f"postfix/postscreen[{ps}]: CONNECT from [{ip}]:{port} to [{SERVER_IP}]:25")
    g.emit(t + 0.01, f"postfix/postscreen[{ps}]: PASS OLD [{ip}]:{port}")
    t += rng.uniform(0.05, 0.3)
    pid = g.pool("postfix/smtpd").take(t, 3.0)
    g.emit(t, f"postfix/smtpd[{pid}]: connect from {rdns}[{ip}]")
    if rng.random() < 0.6:
        t += 0.2
        g.emit(t, f"postfix/smtpd[{pid}]: Anonymous TLS connection established from "
                  f"{rdns}[{ip}]: {_TLS_IN}")
    sender = f"{rng.choice(('news', 'info', 'noreply', 'support', 'j.smith', 'office'))}@" \
             f"{remote.domain}"
    helo = rdns
    rejected = 0
    if rng.random() < 0.04:
        bad = f"{_rand(rng, string.ascii_lowercase, 6)}@{user.domain}"
        rejected = 1
        g.emit(t + 0.3, f"postfix/smtpd[{pid}]: NOQUEUE: reject: RCPT from {rdns}[{ip}]: 550 "
                        f"5.1.1 <{bad}>: Recipient address rejected: User unknown in virtual "
                        f"mailbox table; from=<{sender}> to=<{bad}> proto=ESMTP helo=<{helo}>")
    t += rng.uniform(0.3, 1.5)
    qid = g.qids.new(t)
    g.emit(t, f"postfix/smtpd[{pid}]: {qid}: client={rdns}[{ip}]")
    size = rng.randint(2000, 250_000)
    mid = message_id(rng, remote.domain)
    g.emit(t + 0.1, f"postfix/cleanup[{g.pool('cleanup').take(t, 0.05)}]: {qid}: "
                    f"message-id=<{mid}>")
    g.emit(t + 0.12, f"postfix/qmgr[{g.daemon('qmgr', t)}]: {qid}: from=<{sender}>, "
                     f"size={size}, nrcpt=1 (queue active)")
    g.emit(t + 0.2, f"postfix/smtpd[{pid}]: disconnect from {rdns}[{ip}] ehlo=1 mail=1 "
                    f"rcpt={'1/2' if rejected else '1'} data=1 quit=1 "
                    f"commands={'5/6' if rejected else '5'}")
    rcpts: list[Rcpt] = [(user.address, user)]
    if rng.random() < 0.4:
        amavis_chain(g, t + 0.15, qid, sender, size, rcpts, (rdns, ip), mid, outbound=False)
    else:
        deliver(g, qid, t, t + 0.15, sender, size, rcpts)


def pickup(g: Gen, t: float, uid: int, login: str, rcpts: Sequence[Rcpt],
           tally: Counter[str] | None = None) -> None:
    """A message queued by the local ``sendmail`` command (a web script, cron)."""
    rng = g.rng
    qid = g.qids.new(t)
    g.emit(t, f"postfix/pickup[{g.daemon('pickup', t)}]: {qid}: uid={uid} from=<{login}>")
    sender = f"{login}@{g.world.fqdn}"
    g.emit(t + 0.01, f"postfix/cleanup[{g.pool('cleanup').take(t, 0.05)}]: {qid}: "
                     f"message-id=<{message_id(rng, g.world.fqdn)}>")
    size = rng.randint(900, 4000)
    g.emit(t + 0.02, f"postfix/qmgr[{g.daemon('qmgr', t)}]: {qid}: from=<{sender}>, "
                     f"size={size}, nrcpt={len(rcpts)} (queue active)")
    deliver(g, qid, t, t + 0.03, sender, size, rcpts, tally=tally)
