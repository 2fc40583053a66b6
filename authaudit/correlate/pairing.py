"""One failed login, one count: pairing the MTA's line with Dovecot's passdb line for it.

When Postfix or Exim authenticate through Dovecot (and IMAP/POP logins always do), one wrong
password is logged twice: by the MTA or login process (``SASL LOGIN authentication failed``,
``auth failed, 1 attempts``) and, with ``auth_verbose``, by Dovecot's passdb
(``passwd-file(alice,192.0.2.7): Password mismatch``). Counting both doubles every brute force;
dropping the passdb line loses the user name that Postfix before 3.9 does not log.

:class:`FailurePairer` sits between the scanner and the tallies. A passdb failure is the
secondary record: it waits up to ``window`` seconds of log time for the primary line from the
same address (the MTA's, or the login process's ``auth failed, N attempts``, which stands for N
passdb lines). A primary line absorbs up to its number of attempts of waiting passdb lines, takes
the user name from them when it has none, and goes on at once; passdb lines that arrive after it
are absorbed too while it has attempts left. A passdb line that finds no primary goes on by itself
when the window has passed, or at :meth:`flush`, so nothing is lost when only Dovecot's log was
given.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from authaudit.logs.interface import LogEvent
from authaudit.model import LoginEvent, LoginKind

__all__ = ["FailurePairer"]

_PASSDB = "passdb:"
_MAX_PENDING = 100_000


@dataclass(slots=True)
class _Primary:
    """A primary failure line that may still absorb passdb lines logged after it."""

    time: datetime
    ip: str
    user: str
    left: int


class FailurePairer:
    """A sink that pairs duplicate failure lines before handing events to ``sink``.

    Waiting lines are indexed by client address, so each event costs a look at the lines of its
    own address only.
    """

    def __init__(self, sink: Callable[[LogEvent], None], window: float = 120.0) -> None:
        self._sink = sink
        self._window = timedelta(seconds=window)
        self._passdb: dict[str, deque[LoginEvent]] = {}
        """Passdb failures waiting for their primary line, per address, oldest first."""
        self._passdb_order: deque[LoginEvent] = deque()
        """The same lines in log order, for expiry (entries already taken are skipped)."""
        self._taken: set[int] = set()
        self._primaries: dict[str, deque[_Primary]] = {}
        """Recent primary failures with attempts not yet matched, per address."""
        self._primary_order: deque[_Primary] = deque()
        self.paired = 0
        """How many passdb lines were absorbed by a primary line."""

    def __call__(self, event: LogEvent) -> None:
        """Take one event (the scanner's sink)."""
        time = event.time
        if time is not None:
            self._expire(time)
        if not isinstance(event, LoginEvent) or event.client_ip is None or time is None:
            self._sink(event)
        elif event.kind is LoginKind.SUCCESS:
            # failures waiting for a partner happened before this success: count them first
            self._release(event.client_ip)
            self._sink(event)
        elif event.reason.startswith(_PASSDB):
            self._secondary(event, event.client_ip)
        else:
            self._primary(event, event.client_ip)

    def flush(self) -> None:
        """Hand on every passdb line still waiting for a primary (end of input)."""
        for event in self._passdb_order:
            if id(event) not in self._taken:
                self._sink(event)
        self._passdb.clear()
        self._passdb_order.clear()
        self._taken.clear()
        self._primaries.clear()
        self._primary_order.clear()

    def _expire(self, now: datetime) -> None:
        horizon = now - self._window
        order = self._passdb_order
        while order and order[0].time is not None and order[0].time < horizon:
            event = order.popleft()
            if id(event) in self._taken:
                self._taken.discard(id(event))
                continue
            ip = event.client_ip or ""
            waiting = self._passdb.get(ip)
            if waiting:
                waiting.popleft()  # the oldest line of its address is this one
                if not waiting:
                    del self._passdb[ip]
            self._sink(event)
        recent = self._primary_order
        while recent and recent[0].time < horizon:
            entry = recent.popleft()
            entries = self._primaries.get(entry.ip)
            if entries and entries[0] is entry:
                entries.popleft()
                if not entries:
                    del self._primaries[entry.ip]

    def _release(self, ip: str) -> None:
        waiting = self._passdb.pop(ip, None)
        for event in waiting or ():
            self._taken.add(id(event))
            self._sink(event)

    def _primary(self, event: LoginEvent, ip: str) -> None:
        left = max(event.attempts, 1)
        user = (event.user or "").lower()
        found: LoginEvent | None = None
        waiting = self._passdb.get(ip)
        if waiting:
            for candidate in list(waiting):
                if left == 0:
                    break
                if _same_user(user, candidate.user):
                    waiting.remove(candidate)
                    self._taken.add(id(candidate))
                    self.paired += 1
                    left -= 1
                    found = found or candidate
            if not waiting:
                del self._passdb[ip]
        if left and event.time is not None:
            entry = _Primary(event.time, ip, user, left)
            self._primaries.setdefault(ip, deque()).append(entry)
            self._primary_order.append(entry)
        if found is not None and not event.user and found.user:
            event = dataclasses.replace(event, user=found.user)
        self._sink(event)

    def _secondary(self, event: LoginEvent, ip: str) -> None:
        for entry in self._primaries.get(ip, ()):
            if entry.left and _same_user(entry.user, event.user):
                entry.left -= 1
                self.paired += 1
                return
        self._passdb.setdefault(ip, deque()).append(event)
        self._passdb_order.append(event)
        if len(self._passdb_order) > _MAX_PENDING:
            self._expire_oldest()

    def _expire_oldest(self) -> None:
        oldest = self._passdb_order[0].time
        if oldest is not None:
            self._expire(oldest + self._window + timedelta(microseconds=1))


def _same_user(user: str, other: str | None) -> bool:
    """Whether a line naming ``user`` ('' for none) may be the same attempt as one naming
    ``other``: equal ignoring case, or either side unnamed."""
    return not user or not other or user == other.lower()
