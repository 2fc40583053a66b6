"""Which authenticated account a qmail-send delivery belongs to, by envelope and time.

qmail logs no key that links qmail-send's ``msg N`` to the SMTP session that queued it: the
session's CHKUSER (or spamdyke) lines name the AUTH user, the client address, the envelope
sender and each recipient, but no queue number, and qmail-send's ``info msg N`` names only the
sender and the uid of the queueing process. What both name is the envelope: the sender and
each recipient. :class:`QueueJoin` pairs a qmail-send delivery (sender, recipient) with the
authenticated session that accepted the same (sender, recipient) shortly before, so that the
account's recipients get their real outcome (sent, deferred, bounced) instead of ``accepted``.

Either side may reach the collector first (a session's recipients are given out when the
session has been idle for a minute; a message at its ``end msg``), so each side waits for the
other in a bounded index. A pair is made only within :data:`WINDOW` of log time, and each
(sender, recipient) pairs once. When a large log is read in parts, :meth:`QueueJoin.absorb`
pairs what waits at the end of the parts before a border with what waits in the part after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

__all__ = ["MAX_WAITING", "WINDOW", "QueueJoin"]

WINDOW = timedelta(minutes=15)
"""Largest log-time distance between the session's recipient line and the delivery's line."""
MAX_WAITING = 100_000
"""Entries each index keeps at most; the oldest go first."""

Envelope = tuple[str, str]
"""(sender, recipient), both lowercased."""


def _close(a: datetime | None, b: datetime | None) -> bool:
    return a is None or b is None or abs(a - b) <= WINDOW


class QueueJoin:
    """The two waiting sides of the qmail session/delivery pairing."""

    def __init__(self) -> None:
        self._accepted: dict[Envelope, tuple[str, datetime | None]] = {}
        """Recipients accepted in an AUTH session: account key and time."""
        self._delivered: dict[Envelope, tuple[str, datetime | None]] = {}
        """Delivery outcomes not yet paired: status and time."""
        self.paired = 0

    def _meet(self, waiting: dict[Envelope, tuple[str, datetime | None]],
              keep: dict[Envelope, tuple[str, datetime | None]], sender: str, rcpt: str,
              value: str, time: datetime | None) -> str | None:
        """The other side's value when it waits in ``waiting`` (then paired), else None after
        ``value`` is put in ``keep`` to wait (the oldest entry goes when it is full)."""
        envelope = (sender.lower(), rcpt.lower())
        other = waiting.get(envelope)
        if other is not None and _close(other[1], time):
            del waiting[envelope]
            self.paired += 1
            return other[0]
        keep.pop(envelope, None)  # re-inserted last: eviction goes by age
        if len(keep) >= MAX_WAITING:
            del keep[next(iter(keep))]
        keep[envelope] = (value, time)
        return None

    def accepted(self, account: str, sender: str, rcpt: str, time: datetime | None) -> str | None:
        """An AUTH session of ``account`` accepted ``rcpt``: the outcome of its delivery when it
        is already known (then paired), else None (it waits for the delivery)."""
        return self._meet(self._delivered, self._accepted, sender, rcpt, account, time)

    def delivered(self, sender: str, rcpt: str, status: str, time: datetime | None) -> str | None:
        """qmail-send's outcome for (``sender``, ``rcpt``): the account whose session accepted it
        when that is already known (then paired), else None (the outcome waits)."""
        return self._meet(self._accepted, self._delivered, sender, rcpt, status, time)

    def absorb(self, later: QueueJoin) -> list[tuple[str, str]]:
        """Take over the waiting sides of ``later``, the join of the next part of the same log:
        (account, status) for each pair made across the border, then what is still unpaired
        waits here, ``later``'s entries as the newest."""
        statuses, delivered = _across(later._delivered, self._accepted)
        accounts, accepted = _across(later._accepted, self._delivered)
        made = [(account, status) for status, account in statuses]
        made += accounts
        self.paired += later.paired + len(made)
        for mine, theirs in ((self._delivered, delivered), (self._accepted, accepted)):
            for envelope, value in theirs.items():
                mine.pop(envelope, None)
                mine[envelope] = value
            while len(mine) > MAX_WAITING:
                del mine[next(iter(mine))]
        return made


def _across(theirs: dict[Envelope, tuple[str, datetime | None]],
            mine: dict[Envelope, tuple[str, datetime | None]],
            ) -> tuple[list[tuple[str, str]], dict[Envelope, tuple[str, datetime | None]]]:
    """Pair the entries of ``theirs`` (one side of a later part) with ``mine`` (the other side,
    here; a paired entry leaves it): (their value, my value) per pair, and what is left of
    ``theirs``."""
    pairs: list[tuple[str, str]] = []
    left: dict[Envelope, tuple[str, datetime | None]] = {}
    for envelope, (value, time) in theirs.items():
        other = mine.get(envelope)
        if other is not None and _close(other[1], time):
            del mine[envelope]
            pairs.append((value, other[0]))
        else:
            left[envelope] = (value, time)
    return pairs, left
