"""Postfix messages that are still open: queue files, content-filter chains, and the limits that
keep this state bounded.

A *queue file* lives from its first line (smtpd ``client=``, pickup ``uid=``, or whatever line of
a message whose start lies before the log) to qmgr's ``removed``. A *message* is what the report
sees: one queue file, or a chain of them when a content filter (amavis on 10024/10025, a DKIM
signer on another port) took the message and re-injected it under a new queue id. The chain keeps
the first queue file's identity (queue id, authenticated user, client address, evidence line) and
collects the deliveries of every queue file in it; it is finished when its last queue file is.

State is keyed by (host, queue id) and dropped at ``removed``, so a reused queue id starts a new
message. Three limits keep it bounded, all measured in log time:

* a queue file that the queue manager never saw (the transaction was rejected or the client went
  away) is given out ``unqueued_after`` after its first line: Postfix logs no ``removed`` for it;
* a queue file still open ``expire`` after the queue manager first saw it is given out as far
  as it is known (counted; Postfix itself gives up after ``maximal_queue_lifetime``, 5 days);
* at most ``max_open`` queue files are open; the oldest is given out early when one more comes
  (counted).

A finished message that came in from the network without AUTH (or whose start the log lacks) may
be a content filter's re-injection whose ``removed`` was logged before the filter's ``queued as``
answer; it is held for ``chain_grace`` so that the answer can still claim it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from authaudit.logs.interface import EVIDENCE_LINES
from authaudit.logs.merge import LogRecord
from authaudit.model import Delivery, RelayedMessage, RelayVia, Skipped

__all__ = ["Key", "Message", "Piece", "QueueFile", "QueueState", "Status"]

Key = tuple[str, str]
"""(host, queue id): queue ids are unique per host only, and only until ``removed``."""

Status = tuple[str, datetime | None, str, Key]
"""A recipient's status, when it was logged, the relay, and the queue file that logged it."""

_SWEEP_EVERY = timedelta(seconds=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OPEN_STATUSES = frozenset({"accepted", "deferred", "held"})
_CLAIMABLE = frozenset({RelayVia.NETWORK, RelayVia.QUEUED})
"""What a content filter's re-injection looks like: smtpd without AUTH, or a queue file whose
first line the log does not have."""


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def _loopback(ip: str | None) -> bool:
    return ip is not None and (ip.startswith("127.") or ip == "::1")


@dataclass(slots=True, eq=False)
class Message:
    """One message as far as the log has told it: identity of the submission, sender, the last
    status of each recipient, and a few evidence lines."""

    key: Key
    """The first queue file's key (what a filter's ``queued as`` answer would name)."""
    source: str
    lineno: int
    time: datetime | None
    via: RelayVia
    user: str | None = None
    uid: int | None = None
    client_ip: str | None = None
    sender: str | None = None
    deliveries: dict[str, Status] = field(default_factory=dict)
    """Recipient → its latest status (insertion order: first time the recipient was seen)."""
    lines: list[str] = field(default_factory=list)
    files: list[QueueFile] = field(default_factory=list)
    """The queue files of this message that are still open."""
    started: bool = True
    """False for a message whose first line the log (or this part of it) does not have."""

    def record(self) -> RelayedMessage:
        """The finished (or given up) message as the report sees it."""
        return RelayedMessage(
            source=self.source, lineno=self.lineno, time=self.time, daemon="postfix",
            queue_id=self.key[1], via=self.via, user=self.user, uid=self.uid,
            client_ip=self.client_ip, sender=self.sender or "",
            deliveries=tuple(Delivery(recipient=rcpt, status=status, time=time, relay=relay)
                             for rcpt, (status, time, relay, _) in self.deliveries.items()),
            lines=tuple(self.lines),
        )

    def handed_to_filter(self, rcpt: str, time: datetime | None, relay: str, key: Key) -> None:
        """The queue file ``key`` handed ``rcpt`` to a content filter: accepted there, unless
        the filter's copy has already told what became of it."""
        old = self.deliveries.get(rcpt)
        if old is None or old[3] == key:
            self.deliveries[rcpt] = ("accepted", time, relay, key)

    def named(self, rcpt: str, status: str, time: datetime | None, key: Key) -> None:
        """A reject/hold/header action line named ``rcpt``; ``accepted`` never hides a status
        that a delivery line gave."""
        if status != "accepted" or rcpt not in self.deliveries:
            self.deliveries[rcpt] = (status, time, "", key)

    def expire_recipients(self, time: datetime | None) -> None:
        """qmgr's ``status=expired, returned to sender``: every unfinished recipient expired."""
        for rcpt, (status, _, relay, key) in list(self.deliveries.items()):
            if status in _OPEN_STATUSES:
                self.deliveries[rcpt] = ("expired", time, relay, key)


@dataclass(slots=True, eq=False)
class QueueFile:
    """One queue id's life inside a message."""

    key: Key
    message: Message
    since: datetime
    """When it was opened, or when the queue manager first saw it (for ``expire``)."""
    queued: bool = False
    """The queue manager (or a delivery agent, or the hold queue) has seen it."""
    expected: bool = False
    """Not seen yet: a filter on loopback answered ``queued as`` this id before any line of it
    (see :meth:`QueueState.claim`)."""


class Piece(NamedTuple):
    """A message cut by the border of a part of the log read in parallel (see
    :mod:`authaudit.logs.postfix_parts`)."""

    keys: tuple[Key, ...]
    """The message's first queue file, then the others still open at the end of the part."""
    record: RelayedMessage
    started: bool
    """Whether the part has the message's first line (else it continues an earlier part's)."""
    done: bool
    """Whether the message ended in the part (else it is still open at its end)."""


class QueueState:
    """All open queue files and messages of one log, with their limits.

    Messages that an operation finishes are appended to :attr:`out`; the caller drains it.
    """

    def __init__(self, *, expire: timedelta, unqueued_after: timedelta, chain_grace: timedelta,
                 max_open: int) -> None:
        self._expire = expire
        self._unqueued_after = unqueued_after
        self._grace = chain_grace
        self._max_open = max(1, max_open)
        self._files: dict[Key, QueueFile] = {}
        self._pending: OrderedDict[Key, QueueFile] = OrderedDict()
        self._queued: OrderedDict[Key, QueueFile] = OrderedDict()
        self._held: OrderedDict[Key, tuple[datetime, Message]] = OrderedDict()
        self.now = _EPOCH
        """The latest log time seen."""
        self._next_sweep = _EPOCH
        self.out: list[RelayedMessage] = []
        self.pieces: list[Piece] = []
        """Messages cut by the border of a part of a log read in parallel, kept to be joined
        with their other part (see :mod:`authaudit.logs.postfix_parts`)."""
        self.keep_orphans = False
        """Keep messages whose first line the part lacks as pieces (a part after the first)."""
        self.keep_open = False
        """Keep messages still open at :meth:`flush` as pieces (a part before the last)."""
        self.expired = 0
        self.evicted = 0
        self.reused = 0

    # --- time ------------------------------------------------------------------------------

    def advance(self, time: datetime) -> None:
        """Move log time forward to ``time`` (callers check ``time > now`` first: log time
        never goes back) and give out what its limits end."""
        self.now = time
        if time >= self._next_sweep:
            self._next_sweep = time + _SWEEP_EVERY
            self._sweep(time)

    def _sweep(self, now: datetime) -> None:
        held = self._held
        while held:
            key, (release, message) = next(iter(held.items()))
            if release > now:
                break
            del held[key]
            self._give(message)
        limit = now - self._unqueued_after
        pending = self._pending
        while pending:
            qfile = next(iter(pending.values()))
            if qfile.since > limit:
                break
            self.close(qfile)
        limit = now - self._expire
        queued = self._queued
        while queued:
            qfile = next(iter(queued.values()))
            if qfile.since > limit:
                break
            self.expired += 1
            self.close(qfile)

    # --- opening ---------------------------------------------------------------------------

    def get(self, key: Key) -> QueueFile | None:
        """The open queue file with this key."""
        return self._files.get(key)

    def start(self, key: Key, record: LogRecord, via: RelayVia, *, user: str | None = None,
              uid: int | None = None, client_ip: str | None = None,
              sender: str | None = None, parent: Message | None = None) -> QueueFile:
        """Open a queue file: a new message, or a new hop of ``parent``'s chain."""
        old = self._files.get(key)
        if old is not None and old.expected and via in _CLAIMABLE and parent in (
            None, old.message
        ):  # the re-injection a filter announced
            old.expected = False
            return old
        if old is not None:  # the id was reused and its "removed" line is missing
            if old.queued:
                self.reused += 1
            self.close(old)
        message = parent
        if message is None:
            message = Message(key=key, source=record.source, lineno=record.lineno,
                              time=record.time, via=via, user=user, uid=uid,
                              client_ip=client_ip, sender=sender)
        return self._open(QueueFile(key, message, record.time or self.now))

    def _open(self, qfile: QueueFile) -> QueueFile:
        """Add a new queue file of its message, waiting for the queue manager (the oldest open
        file is given out beyond ``max_open``)."""
        qfile.message.files.append(qfile)
        self._files[qfile.key] = qfile
        self._pending[qfile.key] = qfile
        if len(self._files) > self._max_open:
            self._evict()
        return qfile

    def queued(self, key: Key, record: LogRecord) -> QueueFile:
        """The open queue file with this key (or a new message whose start the log lacks), as
        :meth:`mark_queued` leaves it: a line of the queue manager or a delivery agent."""
        qfile = self._files.get(key)
        if qfile is None:
            qfile = self.start(key, record, RelayVia.QUEUED)
            qfile.message.started = False
        qfile.expected = False
        self.mark_queued(qfile)
        return qfile

    def mark_queued(self, qfile: QueueFile) -> None:
        """The queue manager, a delivery agent or the hold queue has the file."""
        if not qfile.queued:
            qfile.queued = True
            qfile.since = self.now
            self._pending.pop(qfile.key, None)
            self._queued[qfile.key] = qfile

    def _evict(self) -> None:
        """Give out the queue file that has waited longest (in either state)."""
        pending = next(iter(self._pending.values()), None)
        queued = next(iter(self._queued.values()), None)
        qfile = pending if queued is None or (
            pending is not None and pending.since < queued.since) else queued
        if qfile is None:
            return
        self.evicted += 1
        self.close(qfile)

    # --- chains ----------------------------------------------------------------------------

    def claim(self, key: Key, parent: Message, relay_ip: str | None) -> bool:
        """Whether the message a filter re-injected as ``key`` belongs to ``parent``'s chain;
        if it does and is not yet part of it, merge it in.

        A re-injected message entered from the network without AUTH (from the filter's address
        or from loopback) or has no known start, and its ``queued as`` id is the first queue
        file of its message; anything else (a remote Postfix's queue id that happens to be open
        here, an authenticated submission) is left alone. An id not seen yet that a filter on
        loopback announced is expected as part of the chain (it keeps the message open until its
        lines come, or until ``unqueued_after``).
        """
        qfile = self._files.get(key)
        if qfile is not None:
            child = qfile.message
            if child is parent:
                return True  # XFORWARD orig_queue_id linked it already
        else:
            held = self._held.get(key)
            if held is None:
                if not _loopback(relay_ip):
                    return False
                self._open(QueueFile(key, parent, self.now, expected=True))
                return True
            child = held[1]
        if child.key != key or child.via not in _CLAIMABLE:
            return False
        if (child.via is RelayVia.NETWORK and child.client_ip != relay_ip
                and not _loopback(child.client_ip)):
            return False
        if qfile is None:
            del self._held[key]
        self._merge(child, parent)
        return True


    @staticmethod
    def _merge(child: Message, parent: Message) -> None:
        for qfile in child.files:
            qfile.message = parent
        parent.files.extend(child.files)
        child.files.clear()
        parent.deliveries.update(child.deliveries)
        if parent.sender is None:
            parent.sender = child.sender
        for line in child.lines[1:]:  # not the filter's own client= line
            if len(parent.lines) >= EVIDENCE_LINES:
                break
            parent.lines.append(line)

    # --- closing ---------------------------------------------------------------------------

    def close(self, qfile: QueueFile) -> None:
        """The queue file is gone (``removed``, rejected, given up); finish its message if it
        was the last one open."""
        key = qfile.key
        if self._files.get(key) is qfile:
            del self._files[key]
            self._pending.pop(key, None)
            self._queued.pop(key, None)
        message = qfile.message
        if qfile in message.files:
            message.files.remove(qfile)
        if message.files:
            return
        if message.via in _CLAIMABLE and self._grace > timedelta(0):
            earlier = self._held.pop(message.key, None)
            if earlier is not None:
                self._give(earlier[1])
            self._held[message.key] = (self.now + self._grace, message)
            if len(self._held) > self._max_open:
                self._give(self._held.popitem(last=False)[1][1])
            return
        self._give(message)

    def _give(self, message: Message, *, done: bool = True) -> None:
        """Give out a finished (or given up) message, or keep it as a piece (see ``pieces``)."""
        if not done or (self.keep_orphans and not message.started):
            keys = (message.key, *(f.key for f in message.files if f.key != message.key))
            self.pieces.append(Piece(keys, message.record(), message.started, done))
        else:
            self.out.append(message.record())

    def flush(self) -> list[RelayedMessage]:
        """Every held and open message, as far as it is known; the state is empty afterwards.
        With ``keep_open``, messages still open become pieces instead."""
        for _, message in self._held.values():
            self._give(message)
        self._held.clear()
        seen: set[int] = set()
        for qfile in self._files.values():
            message = qfile.message
            if id(message) not in seen:
                seen.add(id(message))
                self._give(message, done=not self.keep_open)
        self._files.clear()
        self._pending.clear()
        self._queued.clear()
        done = self.out
        self.out = []
        return done

    def skipped(self) -> list[Skipped]:
        """What had to be given out before its end, counted."""
        result = []
        if self.expired:
            result.append(Skipped(
                source="logs", where="postfix queue",
                reason=f"message still queued after {_span(self._expire)} of log time; given "
                       "out as far as known", count=self.expired))
        if self.evicted:
            result.append(Skipped(
                source="logs", where="postfix queue",
                reason=f"more than {self._max_open} open messages; the oldest given out early",
                count=self.evicted))
        if self.reused:
            result.append(Skipped(
                source="logs", where="postfix queue",
                reason="queue id seen again before its 'removed' line; earlier message given out",
                count=self.reused))
        return result
