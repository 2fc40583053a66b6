"""Where the public sample logs are, and small drivers the parser tests share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from authaudit.logs.interface import LogEvent, LogParser
from authaudit.logs.merge import LogRecord
from authaudit.logs.scan import LogScanStats, ScanOptions, scan_logs
from authaudit.logs.syslog import parse_line
from authaudit.model import LoginEvent, RelayedMessage

SHARED = Path(__file__).resolve().parents[3] / "shared" / "logs-public"
"""../shared/logs-public beside the repository (absent in a bare clone)."""
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/logs-public (public samples) is not beside the repo"
)


def record_of(line: str, lineno: int, when: datetime) -> LogRecord:
    """A record of one whole log line (header parsed), timed ``when``."""
    env = parse_line(line)
    assert env is not None, line
    return LogRecord(when, when, "test.log", lineno, env)


def feed_lines(parser: LogParser, lines: Sequence[str], start: datetime,
               step: timedelta) -> list[LogEvent]:
    """Feed ``lines`` (line N at ``start + N * step``); every one must be claimed and
    understood."""
    events: list[LogEvent] = []
    for n, line in enumerate(lines, 1):
        env = parse_line(line)
        assert env is not None and parser.claims(env.program, env.message), line
        out = parser.feed(record_of(line, n, start + step * n))
        assert out is not None, f"not understood: {line}"
        events.extend(out)
    return events


def scan_events(paths: Sequence[Path], parser: LogParser, year: int,
                ) -> tuple[list[LoginEvent], list[RelayedMessage], LogScanStats]:
    """Logins, messages and scan statistics of ``paths`` read with ``parser`` alone."""
    events: list[LogEvent] = []
    stats = scan_logs(paths, [parser], events.append, ScanOptions(year=year, tz=UTC))
    logins = [e for e in events if isinstance(e, LoginEvent)]
    messages = [e for e in events if isinstance(e, RelayedMessage)]
    return logins, messages, stats
