"""What happened on the demo's qmail toaster mail.victim.org between Fri 13 and Mon 16 Nov 2026.

* ordinary use: postmaster, sales and jdoe read mail over POP3 and send a few messages with SMTP
  AUTH from their usual addresses; inbound mail is accepted for the existing mailboxes; rblsmtpd
  turns away blocklisted hosts; a few clients try to relay without AUTH or mail unknown users;
* a slow brute force against postmaster@victim.org from three IPs (vpopmail logs every tried
  password: ``(pass: '...')``), and a password spray: one IP, one password, 14 accounts of both
  hosted domains;
* shop.example's web site (PHP, uid 10003) queuing 60 messages to outside addresses (AA305);
* the incident of pcaps/demo/relay-spam-test-test.pcap: at 03:12:45 UTC on Mon 16 Nov
  82.128.32.42 fails as admin/admin, at 03:12:49 logs in as ``test`` (password ``test``) and
  relays one message; from 03:12:50 for two hours the account relays spam from that IP and
  40 others: 300 messages to 900 recipients in 260 foreign domains, mostly deferred or refused.
"""

from __future__ import annotations

import random
from typing import Any

from demo_logs_common import at
from demo_logs_qmail import QMAILD_UID, Toaster

__all__ = ["ATTACKER", "TARGET_LINE", "build"]

ATTACKER = "82.128.32.42"
TARGET_LINE = (
    "CHKUSER relaying rcpt: from <kbradford@philadefender.org:test:> remote "
    "<User:unknown:82.128.32.42> rcpt <aikens_l@msn.com> : client allowed to relay"
)
CAPTURE = at(16, 3, 12, 45)
"""First packet of the capture; the second session starts 4 s later."""
START, END = at(13, 0, 0), at(16, 7, 45)
ABUSE_END = at(16, 5, 12)
BIG = ("msn.com", "hotmail.com", "yahoo.com", "gmail.com", "aol.com", "live.com", "outlook.com",
       "comcast.net", "att.net", "verizon.net")
_SYL = ("ka", "lo", "mi", "ra", "ton", "vel", "dar", "ben", "sol", "tri", "mar", "nex", "pol",
        "zen", "kor", "lin", "fas", "gro", "hal", "wen")
_TLD = ("com", "com", "com", "net", "org", "biz", "info", "us", "co.uk", "ca", "com.br", "in")
_FIRST = ("john", "mary", "linda", "james", "robert", "susan", "karen", "david", "lisa", "mark",
          "nancy", "paul", "donna", "steve", "carol", "brian", "amy", "kevin", "laura", "gary")
_LAST = ("smith", "jones", "brown", "miller", "davis", "wilson", "moore", "taylor", "clark",
         "lewis", "walker", "hall", "young", "king", "wright", "scott", "green", "baker")
_PASSWORDS = ("123456", "postmaster", "password", "admin123", "qwerty", "postmaster1",
              "victim.org", "letmein", "welcome1", "P@ssw0rd", "changeme", "12345678",
              "postmaster2026", "mail123", "Victim2026", "abc123", "master", "iloveyou",
              "111111", "dragon", "monkey", "sunshine", "princess", "football")


def _domain(rng: random.Random, seen: set[str]) -> str:
    while True:
        name = "".join(rng.choice(_SYL) for _ in range(rng.randint(2, 3)))
        dom = f"{name}{rng.choice(('', '-mail', 'corp', 'group', 'tech'))}.{rng.choice(_TLD)}"
        if dom not in seen and dom not in BIG:
            seen.add(dom)
            return dom


def _ip(rng: random.Random, prefix: tuple[int, int] | None = None) -> str:
    a, b = prefix or (rng.choice((5, 14, 27, 31, 37, 41, 46, 59, 62, 77, 78, 79, 81, 85, 89, 91,
                                  93, 94, 95, 101, 103, 109, 110, 112, 113, 117, 118, 119, 121,
                                  123, 125, 176, 177, 178, 179, 181, 186, 187, 189, 190, 191,
                                  200, 201)), rng.randint(0, 255))
    return f"{a}.{b}.{rng.randint(0, 255)}.{rng.randint(2, 253)}"


def _botnet(rng: random.Random) -> list[str]:
    """40 IPs besides the attacker's: 37 in their own /16, three next to an earlier one."""
    ips: list[str] = []
    prefixes: set[tuple[int, int]] = {(82, 128)}
    while len(ips) < 37:
        ip = _ip(rng)
        a, b = (int(x) for x in ip.split(".")[:2])
        if (a, b) not in prefixes:
            prefixes.add((a, b))
            ips.append(ip)
    for k in range(3):
        a, b = (int(x) for x in ips[k * 5].split(".")[:2])
        ips.append(_ip(rng, (a, b)))
    return ips


_OUTLOOK = ("msn.com", "hotmail.com", "live.com", "outlook.com")
_YAHOO = ("yahoo.com", "aol.com")


def _deferral(dom: str, ip: str) -> str:
    """qmail-remote's report of a temporary failure at ``dom``."""
    if dom in _OUTLOOK:
        return (f"{ip}_failed_after_I_sent_the_message./Remote_host_said:_451_4.7.500_Server_busy."
                "_Please_try_again_later_from_[192.0.2.25]._(AS843)/")
    if dom in _YAHOO:
        return (f"Connected_to_{ip}_but_sender_was_rejected./Remote_host_said:_421_4.7.0_[TSS04]_"
                "Messages_from_192.0.2.25_temporarily_deferred_due_to_unexpected_volume_or_user_"
                "complaints/")
    if dom == "gmail.com":
        return (f"{ip}_failed_after_I_sent_the_message./Remote_host_said:_421-4.7.28_[192.0.2.25_"
                "15]_Gmail_has_detected_an_unusual_rate_of_unsolicited_mail_originating_from_"
                "your_IP_address./")
    return "Sorry,_I_wasn't_able_to_establish_an_SMTP_connection._(#4.4.1)/"


def _spam_outcome(t: Toaster, where: str, rcpt: str, n: int) -> tuple[str, str]:
    """qmail-remote's report for one spam recipient on attempt ``n``: the big providers block
    or throttle most of it; yahoo/aol keep deferring."""
    dom = rcpt.rpartition("@")[2]
    ip = t.remote_ip(dom)
    said = f"{ip}_does_not_like_recipient./Remote_host_said:_"
    ok = "success", f"{ip}_accepted_message./Remote_host_said:_250_2.0.0_Ok:_queued/"
    x = t.rng.random()
    if n:
        if x < (0.25 if dom in _YAHOO else 0.55):
            return ok
        if x < 0.7 and dom not in _YAHOO:
            return "failure", f"{said}550_5.7.1_Message_rejected_as_spam/Giving_up_on_{ip}./"
        return "deferral", _deferral(dom, ip)
    if dom in _OUTLOOK:
        if x < 0.5:
            return "failure", (f"{said}550_5.7.1_Unfortunately,_messages_from_[192.0.2.25]_"
                               "weren't_sent._Please_contact_your_Internet_service_provider_since"
                               "_part_of_their_network_is_on_our_block_list_(S3150)./Giving_up_on"
                               f"_{ip}./")
        return ("deferral", _deferral(dom, ip)) if x < 0.8 else ok
    if dom in _YAHOO:
        return ("deferral", _deferral(dom, ip)) if x < 0.7 else ok
    if dom == "gmail.com":
        if x < 0.4:
            return "deferral", _deferral(dom, ip)
        if x < 0.6:
            return "failure", (f"{ip}_failed_after_I_sent_the_message./Remote_host_said:_550-5.7.1"
                               "_[192.0.2.25_12]_Gmail_has_detected_that_this_message_is_likely_"
                               "unsolicited_mail./")
        return ok
    if x < 0.2:
        return "failure", f"Sorry,_I_couldn't_find_any_host_named_{dom}._(#5.1.2)/"
    if x < 0.35:
        return "failure", (f"{said}550_5.1.1_<{rcpt}>:_Recipient_address_rejected:_User_unknown/"
                           f"Giving_up_on_{ip}./")
    return ("deferral", _deferral(dom, ip)) if x < 0.6 else ok


def _good_outcome(t: Toaster, where: str, rcpt: str, n: int) -> tuple[str, str]:
    if where == "local":
        return "success", "did_0+0+1/"
    ip = t.remote_ip(rcpt.rpartition("@")[2])
    if n == 0 and t.rng.random() < 0.1:
        return "deferral", (f"{ip}_does_not_like_recipient./Remote_host_said:_450_4.7.1_<{rcpt}>:"
                            f"_Recipient_address_rejected:_Greylisted/Giving_up_on_{ip}./")
    return "success", f"{ip}_accepted_message./Remote_host_said:_250_2.0.0_Ok:_queued_as_" \
                      f"{t.rng.randrange(16**10):010X}/"


class _Victim:
    """The flows of the toaster, run in time order by :func:`build`."""

    def __init__(self, toaster: Toaster, truth: dict[str, Any]) -> None:
        self.t = toaster
        self.r = toaster.rng
        self.truth = truth
        self.flows: list[tuple[float, int, Any, tuple[Any, ...]]] = []

    def add(self, t: float, flow: Any, *args: Any) -> None:
        self.flows.append((t, len(self.flows), flow, args))

    # -- flows -----------------------------------------------------------------------------

    def relay(self, t0: float, ip: str, helo: str, login: str, user: str,
              msgs: list[tuple[str, list[str]]], spam: bool, pids: tuple[int, ...] = ()) -> None:
        """An SMTP AUTH session relaying ``msgs`` ((sender, recipients))."""
        tq, r = self.t, self.r
        fixed = iter(pids)
        pid = tq.connect(t0, ip, r.randint(1025, 65000) if not pids else 50318,
                         next(fixed, None))
        tq.vchkpw(t0 + 0.21, f"vchkpw-smtp: (PLAIN) login success {user}:{ip}", next(fixed, None))
        t = t0 + 0.3
        for sender, rcpts in msgs:
            for rcpt in rcpts:
                tq.chkuser(t, "relaying rcpt", sender, login, helo, "unknown", ip, rcpt,
                           "client allowed to relay")
                t += r.uniform(0.02, 0.3) if not pids else 0.132
            msg = tq.queue(t, sender, r.randint(2200, 9000) if spam else r.randint(3000, 90000),
                           QMAILD_UID, next(fixed, None))
            final = tq.deliver(t + 0.001, msg, [("remote", x) for x in rcpts],
                               _spam_outcome if spam else _good_outcome,
                               sender if spam else None, END)
            if spam:
                self._count(ip, rcpts, final)
            t += r.uniform(0.2, 1.5)
        # the captured session sends QUIT at .456 and is closed at .480
        tq.disconnect(t0 + 0.48 if pids else t + r.uniform(0.1, 0.5), pid)

    def _count(self, ip: str, rcpts: list[str], final: dict[str, str]) -> None:
        inc = self.truth["incident"]
        inc["messages"] += 1
        inc["recipients"] += len(rcpts)
        inc["ips"].add(ip)
        inc["domains"].update(x.rpartition("@")[2] for x in rcpts)
        for status in final.values():
            inc["statuses"][status] = inc["statuses"].get(status, 0) + 1

    def failed_login(self, t0: float, ip: str, text: str, pids: tuple[int, ...] = ()) -> None:
        """An SMTP session whose AUTH fails (vchkpw logs why), then QUIT."""
        fixed = iter(pids)
        pid = self.t.connect(t0, ip, self.r.randint(1025, 65000) if not pids else 50312,
                             next(fixed, None))
        self.t.vchkpw(t0 + 0.21, text, next(fixed, None))
        self.t.disconnect(t0 + 0.28, pid)

    def pop3(self, t: float, user: str, ip: str) -> None:
        self.t.vchkpw(t, f"vchkpw-pop3: (PLAIN) login success {user}:{ip}")

    def inbound(self, t0: float, rcpt: str) -> None:
        tq, r = self.t, self.r
        ip = _ip(r)
        host = f"mail{r.randint(1, 9)}.{_domain(r, set())}"
        sender = f"{r.choice(('news', 'info', 'orders', 'billing'))}@{host.split('.', 1)[1]}"
        pid = tq.connect(t0, ip, r.randint(1025, 65000))
        tq.chkuser(t0 + 0.3, "accepted sender", sender, "", host, host, ip, "", "sender accepted")
        tq.chkuser(t0 + 0.5, "accepted rcpt", sender, "", host, host, ip, rcpt,
                   "found existing recipient")
        msg = tq.queue(t0 + 0.9, sender, r.randint(3000, 120000), QMAILD_UID)
        local = f"victim.org-{rcpt.partition('@')[0]}@victim.org"
        tq.deliver(t0 + 0.91, msg, [("local", local)], _good_outcome, None, END)
        tq.disconnect(t0 + 1.2, pid)

    def noise(self, t0: float, kind: str) -> None:
        tq, r = self.t, self.r
        ip = _ip(r)
        pid = tq.connect(t0, ip, r.randint(1025, 65000))
        helo = r.choice(("User", "ylmf-pc", "WIN-9QL4SDRB93L", "localhost", f"[{ip}]"))
        sender = f"{r.choice(_FIRST)}@{_domain(r, set())}"
        if kind == "rbl":
            tq.smtpd.add(t0 + 0.1, f"rblsmtpd: {ip} pid {pid}: 451 "
                                   f"http://www.spamhaus.org/query/ip/{ip}")
        elif kind == "relay":
            tq.chkuser(t0 + 0.8, "rejected relaying", sender, "", helo, "unknown", ip,
                       f"{r.choice(_FIRST)}{r.randint(1, 99)}@{r.choice(BIG)}",
                       "client not allowed to relay")
        else:
            tq.chkuser(t0 + 0.8, "rejected rcpt", sender, "", helo, "unknown", ip,
                       f"{r.choice(('info', 'admin', 'office', 'kontakt'))}@victim.org",
                       "not existing recipient")
        tq.disconnect(t0 + 1.5, pid)

    def web_script(self, t0: float, rcpt: str) -> None:
        msg = self.t.queue(t0, "noreply@shop.example", self.r.randint(1500, 2600), 10003)
        final = self.t.deliver(t0 + 0.01, msg, [("remote", rcpt)], _good_outcome, None, END)
        web = self.truth["web"]
        web["messages"] += 1
        for status in final.values():
            web["statuses"][status] = web["statuses"].get(status, 0) + 1

    def capture(self, _t: float) -> None:
        """The two sessions of the capture, with the pids it implies (qp 4242)."""
        self.t.pid_counter = 4242
        self.failed_login(CAPTURE, ATTACKER, f"vchkpw-smtp: vpopmail user not found "
                                             f"admin@victim.org:{ATTACKER}", (4237, 4238))
        self.relay(CAPTURE + 4.0, ATTACKER, "User", "test", "test@victim.org",
                   [("kbradford@philadefender.org", ["aikens_l@msn.com"])], True,
                   (4240, 4241, 4242))


def _plan(v: _Victim, r: random.Random) -> None:
    """Every flow, before they are run in time order."""
    # ordinary users
    for day, hour in ((13, 6), (13, 10), (13, 14), (13, 18), (14, 9), (14, 15), (14, 21),
                      (15, 8), (15, 13), (15, 19), (16, 1)):
        v.add(at(day, hour, r.randint(0, 50), r.randint(0, 59)), v.pop3, "postmaster@victim.org",
              "198.51.100.20")
    v.add(at(16, 7, 30, 2), v.pop3, "postmaster@victim.org", "198.51.100.20")
    for minute in range(8 * 60 + 5, 16 * 60, 55):
        v.add(at(13, minute // 60, minute % 60, r.randint(0, 59)), v.pop3, "sales@victim.org",
              "198.51.100.77")
    customers = [f"{r.choice(_FIRST)}.{r.choice(_LAST)}@{_domain(r, set())}" for _ in range(7)]
    for k, (hh, mm, ss) in enumerate(((9, 12, 40), (10, 47, 3), (12, 5, 55), (14, 31, 20),
                                      (16, 5, 11))):
        v.add(at(13, hh, mm, ss - 0.21), v.relay, "198.51.100.77", "SALES-PC", "sales@victim.org",
              "sales@victim.org", [("sales@victim.org", [customers[k], customers[k + 1]])], False)
    for when, ip in ((at(13, 9, 30, 12), "198.51.100.77"), (at(13, 15, 2, 40), "198.51.100.77"),
                     (at(14, 11, 17, 8), "203.0.113.50"), (at(15, 20, 3, 31), "203.0.113.50")):
        v.add(when, v.relay, ip, "jdoe-laptop", "jdoe@victim.org", "jdoe@victim.org",
              [("jdoe@victim.org", [r.choice(customers)])], False)
    for day, hour, ip in ((13, 8, "198.51.100.77"), (13, 13, "198.51.100.77"),
                          (14, 10, "203.0.113.50"), (14, 18, "203.0.113.50"),
                          (15, 11, "203.0.113.50"), (15, 17, "203.0.113.50")):
        v.add(at(day, hour, r.randint(0, 59), r.randint(0, 59)), v.pop3, "jdoe@victim.org", ip)
    v.add(at(15, 22, 41, 9), v.pop3, "jdoe@victim.org", "203.0.113.50")
    for _ in range(40):
        v.add(r.uniform(START, END), v.inbound,
              r.choice(("postmaster", "sales", "sales", "jdoe", "jdoe", "backup")) + "@victim.org")
    for kind, n in (("rbl", 30), ("relay", 8), ("rcpt", 6)):
        for _ in range(n):
            v.add(r.uniform(START, END), v.noise, kind)
    # attacks
    passwords = list(_PASSWORDS)
    r.shuffle(passwords)
    brute_ips = [_ip(r) for _ in range(3)]
    for k in range(24):
        ip = brute_ips[k % 3]
        when = at(13, 2, 0) + k * (at(15, 20, 0) - at(13, 2, 0)) / 24 + r.uniform(0, 600)
        v.add(when, v.failed_login, ip, f"vchkpw-smtp: password fail (pass: '{passwords[k]}') "
                                        f"postmaster@victim.org:{ip}")
    v.truth["brute_force"] = {"account": "postmaster@victim.org", "ips": brute_ips,
                              "failures": 24}
    spray_ip = _ip(r)
    spray = [("postmaster@victim.org", True), ("sales@victim.org", True),
             ("jdoe@victim.org", True), ("backup@victim.org", True), ("info@victim.org", False),
             ("admin@victim.org", False), ("office@victim.org", False),
             ("info@shop.example", True), ("orders@shop.example", True),
             ("webmaster@shop.example", True), ("sales@shop.example", False),
             ("admin@shop.example", False), ("contact@shop.example", False),
             ("support@shop.example", False)]
    for k, (account, exists) in enumerate(spray):
        what = ("password fail (pass: 'Winter2026!')" if exists else "vpopmail user not found")
        v.add(at(15, 2, 10) + k * 150 + r.uniform(0, 60), v.failed_login, spray_ip,
              f"vchkpw-smtp: {what} {account}:{spray_ip}")
    v.truth["spray"] = {"ip": spray_ip, "accounts": len(spray), "password_fail": 7,
                        "user_not_found": 7, "password": "Winter2026!"}
    for k in range(60):
        remote = f"{r.choice(_FIRST)}{r.randint(1, 999)}@{r.choice(BIG[:7])}"
        v.add(at(14, 19, 2) + k * 88 + r.uniform(0, 40), v.web_script, remote)
    v.add(CAPTURE, v.capture)
    _plan_abuse(v, r)


def _plan_abuse(v: _Victim, r: random.Random) -> None:
    bots = _botnet(r)
    seen: set[str] = set()
    randoms = [_domain(r, seen) for _ in range(250)]
    cycle: list[str] = []
    counts = [r.randint(1, 5) for _ in range(299)]
    while sum(counts) != 899:
        k = r.randrange(299)
        if sum(counts) > 899 and counts[k] > 1:
            counts[k] -= 1
        elif sum(counts) < 899 and counts[k] < 5:
            counts[k] += 1
    msgs: list[tuple[str, list[str]]] = []
    for n in counts:
        rcpts = []
        for _ in range(n):
            if r.random() < 0.4:
                dom = r.choice(BIG)
            else:
                if not cycle:
                    cycle = list(randoms)
                    r.shuffle(cycle)
                dom = cycle.pop()
            local = r.choice((f"{r.choice(_FIRST)}.{r.choice(_LAST)}",
                              f"{r.choice(_LAST)}_{r.choice(_FIRST)[0]}",
                              f"{r.choice(_FIRST)}{r.randint(1, 9999)}"))
            rcpts.append(f"{local}@{dom}")
        sender = f"{r.choice(_FIRST)[0]}{r.choice(_LAST)}@{r.choice(randoms)}"
        msgs.append((sender, rcpts))
    sessions: list[list[tuple[str, list[str]]]] = []
    while msgs:
        k = min(len(msgs), r.choice((1, 1, 2, 2, 3)))
        sessions.append(msgs[:k])
        del msgs[:k]
    ips = [*bots, *(r.choice([ATTACKER, *bots]) for _ in range(len(sessions) - len(bots) - 1))]
    r.shuffle(ips)
    times = sorted(r.uniform(CAPTURE + 5.0, ABUSE_END - 300) for _ in range(len(sessions) - 1))
    times.append(ABUSE_END - r.uniform(30, 120))
    ips.append(ATTACKER)
    for when, ip, session in zip(times, ips, sessions, strict=True):
        v.add(when, v.relay, ip, "User", "test", "test@victim.org", session, True)
    v.truth["botnet"] = bots
    v.truth["last_abuse"] = times[-1]


def build(seed: int) -> tuple[Toaster, dict[str, Any]]:
    """Run every flow of the toaster in time order; returns its buffers and the truth."""
    first = 0
    for attempt in range(2):
        rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
        toaster = Toaster(rng, pid_counter=first)
        truth: dict[str, Any] = {
            "incident": {"messages": 0, "recipients": 0, "ips": set(), "domains": set(),
                         "statuses": {}},
            "web": {"uid": 10003, "messages": 0, "statuses": {}},
        }
        victim = _Victim(toaster, truth)
        _plan(victim, rng)
        victim.flows.sort(key=lambda f: (f[0], f[1]))
        before = 0
        for t, _, flow, args in victim.flows:
            toaster.horizon = t
            flow(t, *args)
            if t < CAPTURE:
                before = toaster.pids_used
        if attempt == 0:
            # anchor the counter so that the last pid before the capture is about 4230
            steps = sum(1 + (k * k) % 5 for k in range(1, before + 1))
            first = (4230 - steps) % (32768 - 301)
    return toaster, truth
