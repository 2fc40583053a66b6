"""Reading mail logs in one streaming pass, handing each line to the parser it belongs to.

Files are grouped by rotation and read oldest first, all files merged by time, so that a parser
sees one message's lines in order even when they are spread over ``mail.log.1`` and ``mail.log``.
Each line is dispatched on its program (the decision is cached per program name); lines without a
program (multilog, Dovecot's own file) are offered to the parsers by content. Lines that no parser
claims or understands are counted per program, and a few are kept as samples for ``--strict``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from authaudit.errors import SourceError
from authaudit.logs.interface import LogEvent, LogParser
from authaudit.logs.merge import LogRecord, LogSource, merge_sources, rotation_order
from authaudit.model import Skipped

__all__ = ["LogScanStats", "ScanOptions", "scan_logs"]

_SAMPLES_PER_PROGRAM = 5

EventSink = Callable[[LogEvent], None]
Progress = Callable[[int, int], None]
"""Called as ``progress(lines_done, 0)`` every 16,384 lines (the total is not known up front)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    """How to read the logs."""

    year: int | None = None
    """Year of the first yearless (RFC 3164) stamp in every file; inferred when None."""
    tz: tzinfo | None = None
    """Zone of stamps that carry none; UTC when None."""


@dataclass(slots=True)
class LogScanStats:
    """What one scan read, recognised and could not use."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    events: int = 0
    by_parser: Counter[str] = field(default_factory=Counter)
    """Lines each parser understood."""
    unknown: Counter[str] = field(default_factory=Counter)
    """Lines no parser understood, by program (``-`` for lines without one)."""
    unknown_samples: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    years: dict[str, str] = field(default_factory=dict)
    """Per file, the year given to its yearless stamps and where it came from."""
    first: datetime | None = None
    last: datetime | None = None


class _Dispatch:
    """Which parser handles which program, decided once per program name."""

    def __init__(self, parsers: Sequence[LogParser]) -> None:
        self.parsers = list(parsers)
        self.by_program: dict[str, LogParser | None] = {}

    def parser_for(self, program: str | None, message: str) -> LogParser | None:
        if program is None:
            for parser in self.parsers:
                if parser.claims(None, message):
                    return parser
            return None
        try:
            return self.by_program[program]
        except KeyError:
            pass
        chosen = None
        for parser in self.parsers:
            if parser.claims(program, message):
                chosen = parser
                break
        self.by_program[program] = chosen
        return chosen


def scan_logs(
    paths: Iterable[str | Path],
    parsers: Sequence[LogParser],
    sink: EventSink,
    options: ScanOptions | None = None,
    progress: Progress | None = None,
) -> LogScanStats:
    """Read ``paths`` (rotations in order, merged by time) into ``parsers``; events go to ``sink``.

    Raises :class:`SourceError` only when no file at all could be opened; a single unreadable file
    among others becomes a Skipped record.
    """
    opts = options or ScanOptions()
    stats = LogScanStats()
    ordered = rotation_order(paths)
    sources: list[LogSource] = []
    for path in ordered:
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            stats.skipped.append(Skipped(source=str(path), where="file", reason=reason))
            continue
        if path.is_dir():
            stats.skipped.append(Skipped(source=str(path), where="file", reason="is a directory"))
            continue
        sources.append(LogSource(str(path), year=opts.year, tz=opts.tz))
        stats.files.append(str(path))
    if not sources and ordered:
        first = stats.skipped[0]
        raise SourceError(first.source, first.reason)
    dispatch = _Dispatch(parsers)
    records = merge_sources(_opened(sources, stats))
    for record in records:
        stats.lines += 1
        _handle(record, dispatch, stats, sink)
        if progress is not None and not stats.lines & 0x3FFF:
            progress(stats.lines, 0)
    for parser in parsers:
        for event in parser.flush():
            stats.events += 1
            sink(event)
        stats.skipped.extend(parser.skipped())
    for source in sources:
        stats.skipped.extend(source.skipped)
        if source.inference is not None and source.inference.year is not None:
            stats.years[source.path] = f"{source.inference.year} ({source.inference.source})"
    for program, count in sorted(stats.unknown.items()):
        stats.skipped.append(Skipped(source="logs", where=f"program {program}",
                                     reason="line format not recognised", count=count))
    return stats


def _opened(sources: list[LogSource], stats: LogScanStats) -> list[Iterable[LogRecord]]:
    """Per-file record iterators that turn a file failing mid-read into a Skipped record."""
    return [_guarded(source, stats) for source in sources]


def _guarded(source: LogSource, stats: LogScanStats) -> Iterable[LogRecord]:
    try:
        yield from source
    except SourceError as exc:
        stats.skipped.append(Skipped(source=source.path, where="file", reason=str(exc)))


def _handle(record: LogRecord, dispatch: _Dispatch, stats: LogScanStats, sink: EventSink) -> None:
    env = record.envelope
    time = record.time
    if time is not None:
        if stats.first is None or time < stats.first:
            stats.first = time
        if stats.last is None or time > stats.last:
            stats.last = time
    parser = dispatch.parser_for(env.program, env.message)
    events = parser.feed(record) if parser is not None else None
    if events is None:
        program = env.program or "-"
        stats.unknown[program] += 1
        samples = stats.unknown_samples.setdefault(program, [])
        if len(samples) < _SAMPLES_PER_PROGRAM:
            samples.append(f"{record.source}:{record.lineno}: {env.message[:200]}")
        return
    if parser is not None:
        stats.by_parser[parser.name] += 1
    for event in events:
        stats.events += 1
        sink(event)
