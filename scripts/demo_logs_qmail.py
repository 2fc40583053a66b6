"""The demo's qmail toaster (mail.victim.org, 192.0.2.25): qmail-smtpd and qmail-send multilog
files and the vpopmail lines of its syslog ``maillog``.

Flows run in time order and write into three :class:`Lines` buffers; the writers add what only
time order can tell (tcpserver's and qmail-send's ``status:`` counters, delivery numbers).
Process ids come from one counter anchored so that the captured sessions of
pcaps/demo/relay-spam-test-test.pcap get the pids the capture implies (``qp 4242``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from demo_logs_common import Lines, syslog_stamp, tai64n

__all__ = ["Delivery", "Msg", "Toaster", "write_maillog", "write_send", "write_smtpd"]

SERVER = "192.0.2.25"
HOST = "mail.victim.org"
QMAILD_UID = 7791
QMAILS_UID = 7796
PID_MAX = 32768


@dataclass(slots=True)
class Msg:
    """One message in qmail's queue (its number is the queue file's inode)."""

    number: int
    qp: int


@dataclass(slots=True)
class Delivery:
    """One delivery attempt; its number is given in time order by :func:`write_send`."""

    msg: int
    where: str
    rcpt: str
    number: int = 0


@dataclass(slots=True)
class Toaster:
    """The state of the qmail server while flows are generated."""

    rng: random.Random
    smtpd: Lines = field(default_factory=Lines)
    send: Lines = field(default_factory=Lines)
    maillog: Lines = field(default_factory=Lines)
    pid_counter: int = 0
    pids_used: int = 0
    horizon: float = 0.0
    _live: dict[int, float] = field(default_factory=dict)
    _freed: list[int] = field(default_factory=list)
    _next_inode: int = 1_180_011
    remote_ips: dict[str, str] = field(default_factory=dict)

    def pid(self) -> int:
        """The next process id (pid_max 32768, as on the CentOS boxes toasters run on)."""
        self.pids_used += 1
        self.pid_counter += 1 + (self.pids_used * self.pids_used) % 5
        if self.pid_counter >= PID_MAX:
            self.pid_counter -= PID_MAX - 301
        return self.pid_counter

    def inode(self, t: float) -> int:
        """A queue message number free at ``t``: freed numbers are reused at once."""
        for number, end in list(self._live.items()):
            if end < self.horizon:
                del self._live[number]
                self._freed.append(number)
        number = self._freed.pop() if self._freed and self.rng.random() < 0.8 else 0
        if not number:
            self._next_inode += self.rng.randint(1, 40)
            number = self._next_inode
        self._live[number] = float("inf")
        return number

    def remote_ip(self, domain: str) -> str:
        """The address qmail-remote reaches ``domain``'s MX at."""
        ip = self.remote_ips.get(domain)
        if ip is None:
            r = self.rng
            ip = self.remote_ips[domain] = (
                f"{r.randint(12, 216)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 250)}"
            )
        return ip

    # ---- qmail-smtpd -------------------------------------------------------------------------

    def connect(self, t: float, ip: str, port: int, pid: int | None = None) -> int:
        """tcpserver accepting a connection; returns the child's pid."""
        pid = self.pid() if pid is None else pid
        self.smtpd.add(t, (pid, ip, port), "start")
        return pid

    def disconnect(self, t: float, pid: int) -> None:
        """The qmail-smtpd child exiting."""
        self.smtpd.add(t, pid, "end")

    def chkuser(self, t: float, brief: str, sender: str, auth: str, helo: str, host: str,
                ip: str, rcpt: str, desc: str) -> None:
        """A chkuser 2.0 (classic format) line."""
        self.smtpd.add(t, f"CHKUSER {brief}: from <{sender}:{auth}:> remote <{helo}:{host}:{ip}> "
                          f"rcpt <{rcpt}> : {desc}")

    def vchkpw(self, t: float, text: str, pid: int | None = None) -> None:
        """A vpopmail syslog line (``vpopmail[pid]: vchkpw-...``)."""
        self.maillog.add(t, f"vpopmail[{self.pid() if pid is None else pid}]: {text}")

    # ---- qmail-send --------------------------------------------------------------------------

    def queue(self, t: float, sender: str, size: int, uid: int, qp: int | None = None) -> Msg:
        """qmail-queue writing a message: ``new msg`` and ``info msg``."""
        msg = Msg(self.inode(t), self.pid() if qp is None else qp)
        self.send.add(t, f"new msg {msg.number}")
        self.send.add(t + 0.0005, f"info msg {msg.number}: bytes {size} from <{sender}> "
                                  f"qp {msg.qp} uid {uid}")
        return msg

    def deliver(self, t: float, msg: Msg, rcpts: list[tuple[str, str]],
                outcome: Callable[[Toaster, str, str, int], tuple[str, str]],
                bounce_to: str | None,
                end: float) -> dict[str, str]:
        """Every attempt for each recipient ((where, address)) until final or ``end``; then
        ``bounce msg`` for failures and ``end msg``. Returns the final status per address."""
        r = self.rng
        final: dict[str, str] = {}
        last = t
        failures = 0
        for where, rcpt in rcpts:
            n = 0
            ta = t + r.uniform(0.05, 0.6)
            while ta < end:
                d = Delivery(msg.number, where, rcpt)
                self.send.add(ta, d, "start")
                status, text = outcome(self, where, rcpt, n)
                tdone = ta + (r.uniform(0.05, 0.3) if where == "local" else r.uniform(0.4, 9.0))
                self.send.add(tdone, (d, status, text), "done")
                final[rcpt] = status
                last = max(last, tdone)
                if status != "deferral":
                    failures += status == "failure"
                    break
                n += 1
                ta = t + (20.0 * n) ** 2 + r.uniform(1, 60)
        if failures and bounce_to is not None:
            tb = last + r.uniform(0.2, 1.0)
            qp = self.pid()
            self.send.add(tb, f"bounce msg {msg.number} qp {qp}")
            bounce = self.queue(tb + 0.001, "", r.randint(2600, 5200), QMAILS_UID, qp)
            dom = bounce_to.rpartition("@")[2]

            def bounce_outcome(tq: Toaster, _where: str, _rcpt: str, k: int) -> tuple[str, str]:
                ip = tq.remote_ip(dom)
                if r.random() < (0.6 if k == 0 else 0.3):
                    return "success", f"{ip}_accepted_message./Remote_host_said:_250_ok/"
                return "deferral", "Sorry,_I_wasn't_able_to_establish_an_SMTP_connection._(#4.4.1)/"

            self.deliver(tb + 0.01, bounce, [("remote", bounce_to)], bounce_outcome, None, end)
        if all(s != "deferral" for s in final.values()):
            tend = last + 0.001
            self.send.add(tend, f"end msg {msg.number}")
            self._live[msg.number] = tend
        return final


def write_smtpd(lines: Lines) -> str:
    """The qmail-smtpd multilog file, with tcpserver's status counter."""
    out: list[str] = []
    active = 0
    for t, kind, payload in lines:
        label = tai64n(t)
        if kind == "start":
            pid, ip, port = payload
            active += 1
            out.append(f"{label} tcpserver: status: {active}/100")
            out.append(f"{label} tcpserver: pid {pid} from {ip}")
            out.append(f"{label} tcpserver: ok {pid} {HOST}:{SERVER}:25 :{ip}::{port}")
        elif kind == "end":
            active -= 1
            out.append(f"{label} tcpserver: end {payload} status 0")
            out.append(f"{label} tcpserver: status: {active}/100")
        else:
            out.append(f"{label} {payload}")
    return "\n".join(out) + "\n"


def write_send(lines: Lines, first_delivery: int) -> str:
    """The qmail-send multilog file, with delivery numbers and the concurrency counters
    (``status:`` lines only where the queue turns busy or idle)."""
    out: list[str] = []
    local = remote = 0
    number = first_delivery
    for t, kind, payload in lines:
        label = tai64n(t)
        if kind == "start":
            d: Delivery = payload
            number += 1
            d.number = number
            if d.where == "local":
                local += 1
            else:
                remote += 1
            out.append(f"{label} starting delivery {d.number}: msg {d.msg} to {d.where} {d.rcpt}")
            if remote + local == 1:
                # qmail-send writes a status line after every start and every result; only
                # those where the queue turns busy or idle are kept (the demo stays < 1 MB)
                out.append(f"{label} status: local {local}/10 remote {remote}/120")
        elif kind == "done":
            d, status, text = payload
            if d.where == "local":
                local -= 1
            else:
                remote -= 1
            out.append(f"{label} delivery {d.number}: {status}: {text}")
            if remote + local == 0:
                out.append(f"{label} status: local {local}/10 remote {remote}/120")
        else:
            out.append(f"{label} {payload}")
    return "\n".join(out) + "\n"


def write_maillog(lines: Lines, host: str) -> str:
    """A syslog file: ``Nov 16 03:12:49 HOST prog[pid]: text``."""
    return "".join(f"{syslog_stamp(t)} {host} {payload}\n" for t, _, payload in lines)
