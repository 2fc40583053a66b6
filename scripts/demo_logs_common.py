"""Shared pieces of the demo log generator: time stamps in the three formats the demo logs use,
and a time-ordered line buffer that one flow after the other fills.

Times are UTC epoch seconds; the syslog files are written as if the servers ran on UTC (the demo
reads them with ``--year 2026`` and no ``--tz``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

__all__ = ["Lines", "at", "syslog_stamp", "tai64n"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def at(day: int, hour: int, minute: int, second: float = 0.0) -> float:
    """Epoch seconds of November ``day`` 2026, ``hour:minute:second`` UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC).timestamp() + second


def syslog_stamp(t: float) -> str:
    """``Nov 16 03:12:49``: an RFC 3164 stamp (space-padded day, no year)."""
    d = datetime.fromtimestamp(int(t), UTC)
    return f"{_MONTHS[d.month - 1]} {d.day:>2} {d.hour:02}:{d.minute:02}:{d.second:02}"


def tai64n(t: float) -> str:
    """``@4000000069...``: the TAI64N label daemontools' multilog writes (2**62 + 10 + unix),
    to the microsecond (the nanoseconds are whole thousands)."""
    seconds, micros = divmod(round(t * 1_000_000), 1_000_000)
    return f"@{(1 << 62) + 10 + seconds:016x}{micros * 1000:08x}"


class Lines:
    """Events of one log in time order: ``(time, sequence, kind, payload)``.

    ``kind`` is ``text`` for a finished line and anything else for events a writer completes
    in time order (status counters, delivery numbers).
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, Any]] = []
        self._seq = 0

    def add(self, t: float, payload: Any, kind: str = "text") -> None:
        """Queue one event."""
        heapq.heappush(self._heap, (round(t, 6), self._seq, kind, payload))
        self._seq += 1

    def __iter__(self) -> Iterator[tuple[float, str, Any]]:
        heap = list(self._heap)
        while heap:
            t, _, kind, payload = heapq.heappop(heap)
            yield t, kind, payload

    def __len__(self) -> int:
        return len(self._heap)
