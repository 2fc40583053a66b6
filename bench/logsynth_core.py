"""The machinery of the synthetic maillog: time-ordered output, queue ids, process ids.

Flows (one SMTP session, one message's life, one brute-force burst) are generated one after the
other in order of their start time, but each writes lines far into the future (retries hours
later). :class:`Gen` keeps those lines in a heap and writes every line older than the next flow's
start, so the file comes out in time order with memory bounded by what is still in flight.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from bench.logsynth_world import Remote, World

__all__ = ["Gen", "PidPool", "QueueIds", "Truth"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class QueueIds:
    """Postfix short queue ids: five hex digits of microseconds, then the queue file's inode.

    An id is unique while its message is in the queue (from its first line to ``removed``, or to
    the end of the log); a few ids are handed out again later, as Postfix does when a new file
    gets a freed inode in the same microsecond.
    """

    def __init__(self, rng: random.Random, reuse: float = 0.003) -> None:
        self.rng = rng
        self.reuse = reuse
        self.live: dict[str, float] = {}
        self._ends: list[tuple[float, str]] = []
        self.freed: list[str] = []
        self.reused = 0
        self.horizon = float("-inf")
        """Start of the flow being generated: ids whose message ended before it may be reused
        (a flow also allocates ids hours ahead, for bounces, which must not free others early)."""

    def new(self, t: float) -> str:
        """A queue id for a message created at ``t``; call :meth:`close` with its end."""
        limit = min(t, self.horizon)
        while self._ends and self._ends[0][0] < limit:
            end, qid = heapq.heappop(self._ends)
            if self.live.get(qid) == end:
                del self.live[qid]
                self.freed.append(qid)
                if len(self.freed) > 400:
                    del self.freed[:200]
        qid = ""
        if self.freed and self.rng.random() < self.reuse:
            candidate = self.freed.pop(self.rng.randrange(len(self.freed)))
            if candidate not in self.live:
                qid = candidate
                self.reused += 1
        while not qid or qid in self.live:
            usec = int((t % 1.0) * 1_000_000)
            qid = f"{usec:05X}{self.rng.randrange(0x1A0000, 0x1B0000):X}"
        self.live[qid] = float("inf")
        return qid

    def close(self, qid: str, end: float) -> None:
        """The message with ``qid`` left the queue at ``end`` (its ``removed`` line)."""
        self.live[qid] = end
        heapq.heappush(self._ends, (end, qid))


class PidPool:
    """Worker processes of one daemon (smtpd, cleanup, smtp...): reused while alive, replaced
    after ``max_use`` jobs or ``max_idle`` seconds without work, as Postfix's master does."""

    def __init__(self, gen: Gen, max_use: int = 100, max_idle: float = 100.0) -> None:
        self.gen = gen
        self.max_use = max_use
        self.max_idle = max_idle
        self.slots: list[list[float]] = []
        """[pid, busy until, jobs done]."""

    def take(self, t: float, duration: float) -> int:
        """A process free at ``t``, busy for ``duration`` seconds."""
        for slot in self.slots:
            if slot[1] <= t:
                if t - slot[1] > self.max_idle or slot[2] >= self.max_use:
                    slot[0], slot[2] = self.gen.fresh_pid(), 0
                slot[1] = t + duration
                slot[2] += 1
                return int(slot[0])
        pid = self.gen.fresh_pid()
        self.slots.append([pid, t + duration, 1])
        if len(self.slots) > 64:
            self.slots.sort(key=lambda s: s[1])
            del self.slots[:16]
        return pid


@dataclass(slots=True)
class Truth:
    """What was planted and counted while writing, for the benchmark to check answers against."""

    planted: dict[str, object] = field(default_factory=dict)
    spray: dict[str, object] = field(default_factory=dict)
    brute_force_users: Counter[str] = field(default_factory=Counter)
    """Failure lines naming each user (the Postfix 3.9 ``sasl_username=`` form only)."""
    brute_force_ips: set[str] = field(default_factory=set)
    failures_old_form: int = 0
    failures_new_form: int = 0
    local_injection: dict[str, object] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)


class Gen:
    """Output heap, id allocators and shared state of one generation run."""

    def __init__(self, rng: random.Random, world: World, start: float, end: float) -> None:
        self.rng = rng
        self.world = world
        self.start = start
        self.end = end
        self.upgrade = start + 0.4 * (end - start)
        """When Postfix is upgraded to 3.9 (SASL failures name the user from then on)."""
        self.heap: list[tuple[float, int, str]] = []
        self.seq = 0
        self.qids = QueueIds(rng)
        self.truth = Truth()
        self._pid = 1200
        self._pools: dict[str, PidPool] = {}
        self._daemons: dict[tuple[str, bool], int] = {}
        self.lines = 0
        self.bytes = 0
        self._stamp_second = -1
        self._stamp = ""
        self.amavis_children: list[list[int]] = []
        """[pid, tasks done] of the amavisd children."""
        self._remotes = {r.domain: r for r in (*world.remotes, *world.incident_remotes)}

    def remote_for(self, domain: str) -> Remote:
        """The remote domain ``domain`` (a working one made up on first use if unknown)."""
        remote = self._remotes.get(domain)
        if remote is None:
            r = self.rng
            ip = f"{r.randint(30, 220)}.{r.randint(0, 255)}.0.{r.randint(1, 254)}"
            remote = self._remotes[domain] = Remote(domain, f"mx.{domain}", ip, "generic")
        return remote

    def fresh_pid(self) -> int:
        """The next process id the kernel hands out (wrapping like pid_max = 4194304)."""
        self._pid += self.rng.randint(1, 45)
        if self._pid > 4_194_000:
            self._pid = 300 + self.rng.randint(0, 500)
        return self._pid

    def pool(self, name: str) -> PidPool:
        """The worker pool of daemon ``name``."""
        pool = self._pools.get(name)
        if pool is None:
            pool = self._pools[name] = PidPool(self)
        return pool

    def daemon(self, name: str, t: float) -> int:
        """The pid of a single long-running daemon (qmgr, pickup, anvil, postscreen, master);
        it changes when Postfix restarts for the upgrade."""
        key = (name, t >= self.upgrade)
        pid = self._daemons.get(key)
        if pid is None:
            pid = self._daemons[key] = self.fresh_pid()
        return pid

    def emit(self, t: float, text: str) -> bool:
        """Queue the line ``text`` (everything after the host) at time ``t``; False (and the
        line is dropped) when ``t`` is past the end of the log."""
        if t >= self.end:
            return False
        heapq.heappush(self.heap, (t, self.seq, text))
        self.seq += 1
        return True

    def _header(self, t: float) -> str:
        second = int(t)
        if second != self._stamp_second:
            d = datetime.fromtimestamp(second, UTC)
            self._stamp = (
                f"{_MONTHS[d.month - 1]} {d.day:>2} {d.hour:02}:{d.minute:02}:{d.second:02} "
                f"{self.world.host} "
            )
            self._stamp_second = second
        return self._stamp

    def drain(self, until: float, out: TextIO) -> None:
        """Write every queued line older than ``until``."""
        heap = self.heap
        while heap and heap[0][0] < until:
            t, _, text = heapq.heappop(heap)
            line = self._header(t) + text + "\n"
            out.write(line)
            self.lines += 1
            self.bytes += len(line)
