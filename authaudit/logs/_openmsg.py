"""Messages still being logged: what is known so far, bounded in age and number.

Queue-based MTAs (Courier, sendmail) log one message over several lines, often from several
processes. :class:`OpenMessages` keeps each message's facts until the parser sees its end, and
gives it out early when it has had no line for ``expire`` of log time or when more than
``max_open`` messages are open (oldest activity first). What was given out early is counted for
``skipped()``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from authaudit.logs.interface import EVIDENCE_LINES
from authaudit.model import Delivery, RelayedMessage, RelayVia, Skipped

__all__ = ["FINAL_STATUSES", "OpenMessage", "OpenMessages"]

FINAL_STATUSES = frozenset({"sent", "bounced", "expired", "rejected"})
"""Delivery statuses after which the MTA will not try that recipient again."""


@dataclass(slots=True, kw_only=True)
class OpenMessage:
    """One message whose lines are still coming: its submission facts and recipients so far."""

    source: str
    lineno: int
    time: datetime | None
    queue_id: str
    last: datetime
    """Log time (merge order) of the latest line seen for it."""
    via: RelayVia = RelayVia.QUEUED
    user: str | None = None
    uid: int | None = None
    client_ip: str | None = None
    sender: str = ""
    expected: int | None = None
    """Recipient count the MTA announced (sendmail ``nrcpts=``), when it did."""
    merged: int = 0
    """Recipients handed to another queue id of the same message (and reported there)."""
    deliveries: dict[str, tuple[str, datetime | None, str]] = field(default_factory=dict)
    """Latest (status, time, relay) per recipient, in the order recipients were first seen."""
    lines: list[str] = field(default_factory=list)

    def add_line(self, line: str) -> None:
        """Keep ``line`` as evidence if there is room."""
        if len(self.lines) < EVIDENCE_LINES:
            self.lines.append(line)

    def deliver(self, recipient: str, status: str, time: datetime | None, relay: str = "") -> None:
        """Record the latest state of one recipient."""
        self.deliveries[recipient] = (status, time, relay)

    def finished(self) -> bool:
        """Whether every announced recipient has reached a final status."""
        if self.expected is None or len(self.deliveries) + self.merged < self.expected:
            return False
        return all(state[0] in FINAL_STATUSES for state in self.deliveries.values())

    def event(self, daemon: str) -> RelayedMessage:
        """The message as a record."""
        return RelayedMessage(
            source=self.source, lineno=self.lineno, time=self.time, daemon=daemon,
            queue_id=self.queue_id, via=self.via, user=self.user, uid=self.uid,
            client_ip=self.client_ip, sender=self.sender,
            deliveries=tuple(
                Delivery(recipient=recipient, status=status, time=time, relay=relay)
                for recipient, (status, time, relay) in self.deliveries.items()
            ),
            lines=tuple(self.lines),
        )


class OpenMessages:
    """Open messages by key, least recently active first.

    ``expire`` (log time without a line) and ``max_open`` bound the state; messages given out
    because of either are counted and reported by :meth:`skipped`.
    """

    def __init__(self, daemon: str, expire: timedelta, max_open: int) -> None:
        self.daemon = daemon
        self.expire = expire
        self.max_open = max(1, max_open)
        self._open: OrderedDict[Hashable, OpenMessage] = OrderedDict()
        self._due: datetime | None = None
        """No message can be due before this (the oldest one's last line + expire)."""
        self.expired = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._open)

    def get(self, key: Hashable, now: datetime) -> OpenMessage | None:
        """The open message under ``key``, marked active at ``now``."""
        message = self._open.get(key)
        if message is not None:
            message.last = max(message.last, now)
            self._open.move_to_end(key)
        return message

    def add(self, key: Hashable, message: OpenMessage) -> list[RelayedMessage]:
        """Open ``message`` (an older one under the same key is given out first)."""
        out: list[RelayedMessage] = []
        old = self._open.pop(key, None)
        if old is not None:
            out.append(old.event(self.daemon))
        while len(self._open) >= self.max_open:
            _, oldest = self._open.popitem(last=False)
            self.evicted += 1
            out.append(oldest.event(self.daemon))
        self._open[key] = message
        return out

    def pop(self, key: Hashable) -> OpenMessage | None:
        """Remove and return the message under ``key``."""
        return self._open.pop(key, None)

    def sweep(self, now: datetime) -> list[RelayedMessage]:
        """Give out the messages that have had no line since ``now - expire``."""
        out: list[RelayedMessage] = []
        if self._due is not None and now < self._due:
            return out  # the usual case: one comparison per line
        self._due = None
        limit = now - self.expire
        while self._open:
            key, oldest = next(iter(self._open.items()))
            if oldest.last >= limit:
                self._due = oldest.last + self.expire
                break
            del self._open[key]
            self.expired += 1
            out.append(oldest.event(self.daemon))
        return out

    def drain(self) -> list[RelayedMessage]:
        """Give out everything still open (end of input)."""
        out = [message.event(self.daemon) for message in self._open.values()]
        self._open.clear()
        return out

    def skipped(self) -> list[Skipped]:
        """Counts of messages given out before their end was seen."""
        out: list[Skipped] = []
        if self.expired:
            days = self.expire.total_seconds() / 86400
            out.append(Skipped(
                source="logs", where=f"{self.daemon} queue",
                reason=f"message had no log line for {days:g} days; given out as far as known",
                count=self.expired,
            ))
        if self.evicted:
            out.append(Skipped(
                source="logs", where=f"{self.daemon} queue",
                reason=f"more than {self.max_open} messages open; oldest given out early",
                count=self.evicted,
            ))
        return out
