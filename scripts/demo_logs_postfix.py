"""The demo's second server: mx2, Postfix 3.9 + Dovecot 2.3, hosting shop.example's mailboxes
(Sun 15 Nov 00:00 to Mon 16 Nov 08:00, 2026, ``/var/log/mail.log``).

Ordinary traffic: orders@, anna.berger@ and info@shop.example submit mail from their usual
addresses (one message through amavis 10024/10025), inbound mail goes through postscreen to
Dovecot LMTP, a few messages are greylisted and one destination is dead. The planted event:
23 ``SASL LOGIN authentication failed`` lines for info@shop.example from 91.92.241.118 (the 3.9
form with ``sasl_username=``), then a successful login from the same address that sends one test
message and reads the mailbox over IMAP (AA304); no relaying abuse.
"""

from __future__ import annotations

import random
from typing import Any

from demo_logs_common import Lines, at, syslog_stamp

__all__ = ["BRUTE_IP", "build_postfix"]

BRUTE_IP = "91.92.241.118"
LIP = "198.51.100.25"
START, END = at(15, 0, 0), at(16, 8, 0)
_TLS = ("TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
        "server-signature RSA-PSS (2048 bits) server-digest SHA256")
_REMOTES = (("gmail.com", "gmail-smtp-in.l.google.com", "142.250.102.27"),
            ("gmx.de", "mx00.emig.gmx.net", "212.227.15.9"),
            ("web.de", "mx-ha03.web.de", "212.227.17.8"),
            ("outlook.com", "outlook-com.olc.protection.outlook.com", "52.101.68.0"),
            ("lieferant-nord.de", "mail.lieferant-nord.de", "81.169.145.91"),
            ("druckerei-berg.de", "mx.druckerei-berg.de", "85.13.150.7"))
_DEAD = ("alter-kunde.de", "mx.alter-kunde.de", "91.195.240.94")


class _Mx2:
    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.lines = Lines()
        self.pid = 31000
        self.used: set[str] = set()
        self.qmgr = 1207
        self.truth: dict[str, Any] = {"failures": 0, "messages": 0}

    def next_pid(self) -> int:
        self.pid += self.r.randint(1, 30)
        return self.pid

    def qid(self, t: float) -> str:
        while True:
            q = f"{int((t % 1) * 1e6):05X}{self.r.randrange(0x30000, 0x3FFFF):X}"
            if q not in self.used:
                self.used.add(q)
                return q

    def emit(self, t: float, text: str) -> None:
        if t < END:
            self.lines.add(t, text)

    def delays(self, t: float, t0: float) -> str:
        d = t - t0
        total = f"{d:.2g}" if d < 10 else f"{d:.0f}"
        c, d = self.r.randint(10, 60), self.r.randint(10, 90)
        return f"delay={total}, delays=0.08/0.01/0.{c}/0.{d}"

    def deliver(self, q: str, t0: float, t: float, rcpt: str, remote: tuple[str, str, str],
                greylist: bool = False, dead: bool = False) -> None:
        dom, mx, ip = remote
        n = 0
        while t < END:
            pid = self.next_pid()
            if n:
                self.emit(t - 0.01, f"postfix/qmgr[{self.qmgr}]: {q}: from=<{self.sender}>, "
                                    f"size={self.size}, nrcpt=1 (queue active)")
            if dead:
                self.emit(t + 30, f"postfix/smtp[{pid}]: {q}: to=<{rcpt}>, relay=none, "
                                  f"{self.delays(t + 30, t0)}, dsn=4.4.1, status=deferred "
                                  f"(connect to {mx}[{ip}]:25: Connection timed out)")
            elif greylist and n == 0:
                self.emit(t + 0.4, f"postfix/smtp[{pid}]: {q}: to=<{rcpt}>, relay={mx}[{ip}]:25, "
                                   f"{self.delays(t + 0.4, t0)}, dsn=4.7.1, status=deferred (host "
                                   f"{mx}[{ip}] said: 450 4.7.1 <{rcpt}>: Recipient address "
                                   "rejected: Greylisted, see https://postgrey.schweikert.ch/help/"
                                   f"{dom}.html (in reply to RCPT TO command))")
            else:
                self.emit(t + 0.5, f"postfix/smtp[{pid}]: {q}: to=<{rcpt}>, relay={mx}[{ip}]:25, "
                                   f"{self.delays(t + 0.5, t0)}, dsn=2.0.0, status=sent (250 2.0.0 "
                                   f"Ok: queued as {self.r.randrange(16**10):010X})")
                self.emit(t + 0.52, f"postfix/qmgr[{self.qmgr}]: {q}: removed")
                return
            n += 1
            t += min(4000, 300 * 2 ** (n - 1)) + self.r.uniform(10, 90)

    def submit(self, t: float, user: str, ip: str, rcpt: str, remote: tuple[str, str, str],
               *, method: str = "PLAIN", amavis: bool = False, greylist: bool = False,
               dead: bool = False) -> None:
        r = self.r
        pid = self.next_pid()
        prog = "postfix/submission/smtpd"
        self.emit(t, f"{prog}[{pid}]: connect from unknown[{ip}]")
        self.emit(t + 0.2, f"{prog}[{pid}]: Anonymous TLS connection established from "
                           f"unknown[{ip}]: {_TLS}")
        q = self.qid(t + 0.9)
        self.emit(t + 0.9, f"{prog}[{pid}]: {q}: client=unknown[{ip}], sasl_method={method}, "
                           f"sasl_username={user}")
        mid = f"{r.randrange(16**12):012x}.{r.randint(1000, 9999)}@shop.example"
        self.emit(t + 1.0, f"postfix/cleanup[{self.next_pid()}]: {q}: message-id=<{mid}>")
        self.sender, self.size = user, r.randint(2500, 40000)
        self.emit(t + 1.05, f"postfix/qmgr[{self.qmgr}]: {q}: from=<{user}>, size={self.size}, "
                            "nrcpt=1 (queue active)")
        self.emit(t + 1.2, f"{prog}[{pid}]: disconnect from unknown[{ip}] ehlo=2 starttls=1 "
                           "auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8")
        self.truth["messages"] += 1
        if amavis:
            tr = t + 3.1
            spid = self.next_pid()
            q2 = self.qid(tr)
            self.emit(tr - 0.1, f"postfix/smtpd[{spid}]: connect from localhost[127.0.0.1]")
            self.emit(tr, f"postfix/smtpd[{spid}]: {q2}: client=localhost[127.0.0.1], "
                          f"orig_queue_id={q}, orig_client=unknown[{ip}]")
            self.emit(tr + 0.01, f"postfix/cleanup[{self.next_pid()}]: {q2}: message-id=<{mid}>")
            self.emit(tr + 0.02, f"postfix/smtpd[{spid}]: disconnect from localhost[127.0.0.1] "
                                 "ehlo=1 xforward=1 mail=1 rcpt=1 data=1 quit=1 commands=6")
            self.emit(tr + 0.03, f"postfix/qmgr[{self.qmgr}]: {q2}: from=<{user}>, "
                                 f"size={self.size + 912}, nrcpt=1 (queue active)")
            apid = self.next_pid()
            self.emit(tr + 0.04, f"amavis[{apid}]: ({apid}-01) Passed CLEAN {{RelayedOutbound}}, "
                                 f"ORIGINATING LOCAL [{ip}]:{r.randint(1025, 65000)} [{ip}] "
                                 f"<{user}> -> <{rcpt}>, Queue-ID: {q}, Message-ID: <{mid}>, "
                                 f"mail_id: Xk3v9QpLr2Ta, Hits: -1.873, size: {self.size}, "
                                 f"queued_as: {q2}, 1873 ms")
            self.emit(tr + 0.05, f"postfix/smtp[{self.next_pid()}]: {q}: to=<{rcpt}>, "
                                 f"relay=127.0.0.1[127.0.0.1]:10024, {self.delays(tr, t)}, "
                                 "dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:"
                                 f"10025): 250 2.0.0 Ok: queued as {q2})")
            self.emit(tr + 0.06, f"postfix/qmgr[{self.qmgr}]: {q}: removed")
            self.size += 912
            q, t = q2, tr
        self.deliver(q, t, t + 1.3, rcpt, remote, greylist, dead)

    def inbound(self, t: float, user: str) -> None:
        r = self.r
        ip = f"{r.choice((85, 87, 91, 193, 212, 217))}.{r.randint(0, 255)}.{r.randint(0, 255)}." \
             f"{r.randint(2, 250)}"
        port = r.randint(1025, 65000)
        host = f"mail.{r.choice(('lieferant-nord', 'druckerei-berg', 'paketdienst', 'bank24'))}.de"
        self.emit(t, f"postfix/postscreen[1214]: CONNECT from [{ip}]:{port} to [{LIP}]:25")
        self.emit(t + 0.01, f"postfix/postscreen[1214]: PASS OLD [{ip}]:{port}")
        pid = self.next_pid()
        self.emit(t + 0.1, f"postfix/smtpd[{pid}]: connect from {host}[{ip}]")
        q = self.qid(t + 0.6)
        self.emit(t + 0.6, f"postfix/smtpd[{pid}]: {q}: client={host}[{ip}]")
        mid = f"{r.randrange(16**16):016x}@{host[5:]}"
        self.emit(t + 0.7, f"postfix/cleanup[{self.next_pid()}]: {q}: message-id=<{mid}>")
        self.emit(t + 0.72, f"postfix/qmgr[{self.qmgr}]: {q}: from=<info@{host[5:]}>, "
                            f"size={r.randint(3000, 90000)}, nrcpt=1 (queue active)")
        self.emit(t + 0.8, f"postfix/smtpd[{pid}]: disconnect from {host}[{ip}] ehlo=1 mail=1 "
                           "rcpt=1 data=1 quit=1 commands=5")
        session = f"{r.randrange(16**8):08x}Qk9Z{r.randrange(16**6):06x}"
        lpid = self.next_pid()
        self.emit(t + 0.85, f"dovecot: lmtp({user})<{lpid}><{session}>: msgid=<{mid}>: saved "
                            "mail to INBOX")
        self.emit(t + 0.86, f"postfix/lmtp[{self.next_pid()}]: {q}: to=<{user}>, relay=mx2."
                            f"shop.example[private/dovecot-lmtp], {self.delays(t + 0.86, t + 0.6)}"
                            f", dsn=2.0.0, status=sent (250 2.0.0 <{user}> {session} Saved)")
        self.emit(t + 0.87, f"postfix/qmgr[{self.qmgr}]: {q}: removed")

    def imap(self, t: float, user: str, ip: str) -> None:
        r = self.r
        session = f"{r.randrange(16**10):010x}AAB"
        mpid = self.next_pid()
        self.emit(t, f"dovecot: imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, "
                     f"lip={LIP}, mpid={mpid}, TLS, session=<{session}>")
        self.emit(t + r.uniform(20, 1500), f"dovecot: imap({user})<{mpid}><{session}>: Logged out "
                                           f"in={r.randint(80, 900)} out={r.randint(900, 90000)} "
                                           "deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 "
                                           "body_count=0 body_bytes=0")

    def bot(self, t: float, ip: str, users: list[str]) -> float:
        """One brute-force connection (one AUTH per name in ``users``)."""
        pid = self.next_pid()
        prog = "postfix/submission/smtpd"
        self.emit(t, f"{prog}[{pid}]: connect from unknown[{ip}]")
        for user in users:
            t += self.r.uniform(1.0, 3.0)
            self.emit(t, f"{prog}[{pid}]: warning: unknown[{ip}]: SASL LOGIN authentication "
                         f"failed: UGFzc3dvcmQ6, sasl_username={user}")
            if user == "info@shop.example":
                self.truth["failures"] += 1
        self.emit(t + 0.3, f"{prog}[{pid}]: lost connection after AUTH from unknown[{ip}]")
        self.emit(t + 0.31, f"{prog}[{pid}]: disconnect from unknown[{ip}] ehlo=1 "
                            f"auth=0/{len(users)} commands=1/{len(users) + 1}")
        return t

    def noise(self, t: float) -> None:
        r = self.r
        ip = f"{r.randint(30, 220)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 250)}"
        port = r.randint(1025, 65000)
        self.emit(t, f"postfix/postscreen[1214]: CONNECT from [{ip}]:{port} to [{LIP}]:25")
        if r.random() < 0.5:
            self.emit(t + 0.1, f"postfix/postscreen[1214]: PREGREET 11 after 0.{r.randint(10, 99)}"
                               f" from [{ip}]:{port}: EHLO User\\r\\n")
        else:
            self.emit(t + 0.3, f"postfix/postscreen[1214]: DNSBL rank 3 for [{ip}]:{port}")
        self.emit(t + 0.5, f"postfix/postscreen[1214]: DISCONNECT [{ip}]:{port}")

    def relay_attempt(self, t: float) -> None:
        r = self.r
        ip = f"{r.randint(30, 220)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 250)}"
        pid = self.next_pid()
        self.emit(t, f"postfix/smtpd[{pid}]: connect from unknown[{ip}]")
        self.emit(t + 1.1, f"postfix/smtpd[{pid}]: NOQUEUE: reject: RCPT from unknown[{ip}]: 454 "
                           f"4.7.1 <spameri@tiscali.it>: Relay access denied; "
                           f"from=<spameri@tiscali.it> to=<spameri@tiscali.it> proto=ESMTP "
                           f"helo=<{ip}>")
        self.emit(t + 1.4, f"postfix/smtpd[{pid}]: disconnect from unknown[{ip}] ehlo=1 mail=1 "
                           "rcpt=0/1 quit=1 commands=3/4")


def build_postfix(seed: int) -> tuple[str, dict[str, Any]]:
    """The mail.log text of mx2 and what was planted in it."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    m = _Mx2(rng)
    office, home = "198.51.100.140", "203.0.113.77"
    customers = [f"{n}@{d[0]}" for n, d in zip(("k.meyer", "bestellung", "p.wolf", "info",
                                                "einkauf", "j.hahn"), _REMOTES, strict=True)]
    flows: list[tuple[float, Any, tuple[Any, ...], dict[str, Any]]] = []
    for k, (day, hh, mm) in enumerate(((15, 9, 14), (15, 10, 2), (15, 11, 37), (15, 14, 8),
                                       (15, 16, 45), (16, 7, 12))):
        kw: dict[str, Any] = {"amavis": k == 1, "greylist": k in (2, 4)}
        flows.append((at(day, hh, mm, rng.randint(0, 59)), m.submit,
                      ("orders@shop.example", office, customers[k], _REMOTES[k]), kw))
    for day, hh, mm in ((15, 12, 30), (15, 19, 51), (16, 6, 58)):
        remote = _REMOTES[rng.randrange(4)]
        flows.append((at(day, hh, mm, rng.randint(0, 59)), m.submit,
                      ("anna.berger@shop.example", home, f"lena.k@{remote[0]}", remote), {}))
    flows.append((at(15, 13, 5, 17), m.submit, ("info@shop.example", office,
                                                f"service@{_DEAD[0]}", _DEAD), {"dead": True}))
    for day, hh, mm in ((15, 10, 40), (15, 15, 20)):
        flows.append((at(day, hh, mm, 5), m.submit, ("info@shop.example", office,
                                                     customers[2], _REMOTES[2]), {}))
    flows.extend((rng.uniform(START, END - 600), m.inbound,
                  (rng.choice(("orders", "info", "anna.berger")) + "@shop.example",), {})
                 for _ in range(15))
    for day, hh, user, ip in ((15, 8, "orders@shop.example", office),
                              (15, 13, "orders@shop.example", office),
                              (15, 9, "info@shop.example", office),
                              (15, 16, "info@shop.example", office),
                              (15, 18, "anna.berger@shop.example", home),
                              (16, 7, "anna.berger@shop.example", home)):
        flows.append((at(day, hh, rng.randint(0, 59), rng.randint(0, 59)), m.imap, (user, ip), {}))
    flows.extend((rng.uniform(START, END - 60), m.noise, (), {}) for _ in range(12))
    flows.extend((rng.uniform(START, END - 60), m.relay_attempt, (), {}) for _ in range(3))
    other = "45.141.84.120"
    flows.extend((at(15, 4, 10 + 7 * k, rng.randint(0, 59)), m.bot,
                  (other, ["admin@shop.example", "test@shop.example"]), {}) for k in range(3))
    # the planted brute force: 23 failures in 12 connections, then the guessed login
    t = at(15, 21, 2, 14)
    for k in range(12):
        flows.append((t, m.bot, (BRUTE_IP, ["info@shop.example"] * (1 if k == 11 else 2)), {}))
        t += rng.uniform(120, 200)
    success = t + 65.0
    flows.append((success, m.submit, ("info@shop.example", BRUTE_IP, "k.meyer.privat@gmail.com",
                                      _REMOTES[0]), {"method": "LOGIN"}))
    flows.append((success + 140.0, m.imap, ("info@shop.example", BRUTE_IP), {}))
    for when, flow, args, kw in sorted(flows, key=lambda f: f[0]):
        flow(when, *args, **kw)
    m.truth.update(account="info@shop.example", ip=BRUTE_IP, success=success)
    text = "".join(f"{syslog_stamp(t)} mx2 {payload}\n" for t, _, payload in m.lines)
    return text, m.truth
