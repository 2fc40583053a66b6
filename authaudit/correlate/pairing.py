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
    """A sink that pairs duplicate failure lines before handing events to ``sink``."""

    def __init__(self, sink: Callable[[LogEvent], None], window: float = 120.0) -> None:
        self._sink = sink
        self._window = timedelta(seconds=window)
        self._passdb: deque[LoginEvent] = deque()
        """Passdb failures waiting for their primary line, oldest first."""
        self._primaries: deque[_Primary] = deque()
        """Recent primary failures with attempts not yet matched, oldest first."""
        self.paired = 0
        """How many passdb lines were absorbed by a primary line."""

    def __call__(self, event: LogEvent) -> None:
        """Take one event (the scanner's sink)."""
        if (
            not isinstance(event, LoginEvent)
            or event.kind is LoginKind.SUCCESS
            or event.time is None
            or event.client_ip is None
        ):
            self._sink(event)
            return
        self._expire(event.time)
        if event.reason.startswith(_PASSDB):
            self._secondary(event)
        else:
            self._primary(event)

    def flush(self) -> None:
        """Hand on every passdb line still waiting for a primary (end of input)."""
        while self._passdb:
            self._sink(self._passdb.popleft())
        self._primaries.clear()

    def _expire(self, now: datetime) -> None:
        horizon = now - self._window
        waiting = self._passdb
        while waiting and waiting[0].time is not None and waiting[0].time < horizon:
            self._sink(waiting.popleft())
        recent = self._primaries
        while recent and recent[0].time < horizon:
            recent.popleft()

    def _primary(self, event: LoginEvent) -> None:
        left = max(event.attempts, 1)
        user = (event.user or "").lower()
        found: LoginEvent | None = None
        for waiting in list(self._passdb):
            if left == 0:
                break
            if waiting.client_ip == event.client_ip and _same_user(user, waiting.user):
                self._passdb.remove(waiting)
                self.paired += 1
                left -= 1
                found = found or waiting
        if left and event.time is not None and event.client_ip is not None:
            self._primaries.append(_Primary(event.time, event.client_ip, user, left))
            if len(self._primaries) > _MAX_PENDING:
                self._primaries.popleft()
        if found is not None and not event.user and found.user:
            event = dataclasses.replace(event, user=found.user)
        self._sink(event)

    def _secondary(self, event: LoginEvent) -> None:
        for entry in self._primaries:
            if entry.ip == event.client_ip and _same_user(entry.user, event.user):
                entry.left -= 1
                if entry.left == 0:
                    self._primaries.remove(entry)
                self.paired += 1
                return
        self._passdb.append(event)
        if len(self._passdb) > _MAX_PENDING:
            self._sink(self._passdb.popleft())


def _same_user(user: str, other: str | None) -> bool:
    """Whether a line naming ``user`` ('' for none) may be the same attempt as one naming
    ``other``: equal ignoring case, or either side unnamed."""
    return not user or not other or user == other.lower()
