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
_MAX_PROGRAMS = 4096

EventSink = Callable[[LogEvent], None]
Progress = Callable[[int, int], None]
"""Called as ``progress(lines_done, 0)`` every 16,384 lines (the total is not known up front)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanOptions:
    """How to read the logs."""

    year: int | None = None
    """Year of the newest yearless (RFC 3164) stamps in every file; inferred when None."""
    tz: tzinfo | None = None
    """Zone of stamps that carry none; UTC when None."""
    list_unknown: bool = False
    """Add a Skipped record for each of the first few unrecognised lines of every program
    (``--strict``); off by default because such a line may hold a password a daemon logged."""


@dataclass(slots=True)
class LogScanStats:
    """What one scan read, recognised and could not use."""

    files: list[str] = field(default_factory=list)
    lines: int = 0
    events: int = 0
    by_parser: Counter[str] = field(default_factory=Counter)
    """Lines each parser understood."""
    unknown: Counter[str] = field(default_factory=Counter)
    """Lines of a parsed program (``postfix/smtpd``) that its parser did not understand."""
    unclaimed: Counter[str] = field(default_factory=Counter)
    """Lines of programs no parser reads (amavis, opendkim, sshd ...; ``-`` without a program)."""
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
        if len(self.by_program) >= _MAX_PROGRAMS:
            # Dovecot tags carry a session id (auth(u,ip,sasl:login)<id>): bound the cache
            self.by_program.clear()
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
    opened = _opened(sources, stats)
    records = opened[0] if len(opened) == 1 else merge_sources(opened)
    _loop(records, dispatch, stats, sink, progress)
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
        for sample in stats.unknown_samples.get(program, []) if opts.list_unknown else ():
            where, _, text = sample.partition(": ")
            stats.skipped.append(Skipped(source="logs", where=where,
                                         reason=f"not recognised: {text}"))
    for program, count in sorted(stats.unclaimed.items()):
        stats.skipped.append(Skipped(source="logs", where=f"program {program}",
                                     reason="not a program authaudit reads", count=count))
    return stats


def _opened(sources: list[LogSource], stats: LogScanStats) -> list[Iterable[LogRecord]]:
    """Per-file record iterators that turn a file failing mid-read into a Skipped record."""
    return [_guarded(source, stats) for source in sources]


def _guarded(source: LogSource, stats: LogScanStats) -> Iterable[LogRecord]:
    try:
        yield from source
    except SourceError as exc:
        stats.skipped.append(Skipped(source=source.path, where="file", reason=str(exc)))


def _family(program: str | None) -> str:
    """The program name counters are kept under: without a Dovecot ``(user,ip)<session>`` part,
    so that the number of counters stays bounded."""
    if not program:
        return "-"
    cut = program.find("(")
    return program if cut < 0 else program[:cut]


def _loop(
    records: Iterable[LogRecord],
    dispatch: _Dispatch,
    stats: LogScanStats,
    sink: EventSink,
    progress: Progress | None,
) -> None:
    """The per-line hot loop (kept flat: it runs once per log line)."""
    by_program = dispatch.by_program
    parser_for = dispatch.parser_for
    by_parser: Counter[str] = Counter()
    unknown = stats.unknown
    lines = events_out = 0
    first = last = None
    for record in records:
        lines += 1
        if progress is not None and not lines & 0x3FFF:
            progress(lines, 0)
        time = record.time
        if time is not None:
            if first is None:
                first = time
            last = time
        env = record.envelope
        program = env.program
        parser = by_program.get(program) if program is not None else None
        if parser is None:
            parser = parser_for(program, env.message)
            if parser is None:
                stats.unclaimed[_family(program)] += 1
                continue
        events = parser.feed(record)
        if events is None:
            name = _family(program)
            unknown[name] += 1
            samples = stats.unknown_samples.setdefault(name, [])
            if len(samples) < _SAMPLES_PER_PROGRAM:
                samples.append(f"{record.source}:{record.lineno}: {env.message[:160]}")
            continue
        by_parser[parser.name] += 1
        for event in events:
            events_out += 1
            sink(event)
    stats.lines += lines
    stats.events += events_out
    stats.by_parser.update(by_parser)
    stats.first = first
    stats.last = last
