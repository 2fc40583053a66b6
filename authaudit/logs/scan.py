"""Reading mail logs in one streaming pass, handing each line to the parser it belongs to.

Files are grouped by rotation and read oldest first, all files merged by time, so that a parser
sees one message's lines in order even when they are spread over ``mail.log.1`` and ``mail.log``.
Each line is dispatched on its program (the decision is cached per program name, see
:mod:`authaudit.logs.routing`); lines without a program (multilog, Dovecot's own file) are offered
to the parsers by content. Lines that no parser claims or understands are counted per program, and
a few are kept as samples for ``--strict``. Quiet lines (that a parser names as recognised and
empty) are counted without building a record.

A single file is read by the fused loop of :mod:`authaudit.logs.fastscan`; several files go
through :class:`~authaudit.logs.merge.LogSource` and the record loop below, which give the same
results. One large plain file can also be read in parts on several processes
(:mod:`authaudit.logs.parallel`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from authaudit.errors import SourceError
from authaudit.logs.fastscan import EventSink, FileScan, Progress, is_quiet, note_unknown
from authaudit.logs.interface import SECRET_MARK, LogParser
from authaudit.logs.merge import LogRecord, LogSource, merge_sources, no_header, rotation_order
from authaudit.logs.openers import LogFile
from authaudit.logs.routing import Router, family
from authaudit.logs.timestamps import YearInference
from authaudit.model import Skipped

__all__ = ["LogScanStats", "ScanOptions", "end_of_input", "finish_stats", "scan_logs"]



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

    def add_scan(self, scan: FileScan) -> None:
        """Add a finished file scan's line and event counts, and take its time span (the scan
        must be the latest read)."""
        self.lines += scan.lines
        self.events += scan.events
        self.first, self.last = scan.first, scan.last


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
    router = Router(parsers)
    if len(sources) == 1:
        _scan_file(sources[0], router, stats, sink, progress)
    else:
        _loop(merge_sources(_opened(sources, stats)), router, stats, sink, progress)
    end_of_input(router, parsers, stats, sink)
    for parser in parsers:
        stats.skipped.extend(parser.skipped())
    for source in sources:
        stats.skipped.extend(source.skipped)
        year = source.inference.describe() if source.inference is not None else None
        if year is not None:
            stats.years[source.path] = year
    finish_stats(stats, opts)
    return stats


def end_of_input(router: Router, parsers: Sequence[LogParser], stats: LogScanStats,
                 sink: EventSink) -> None:
    """What every read does after its last line: the parsers give out what they still hold (to
    ``sink``, counted in ``stats.events``), and the router's per-parser counts go into
    ``stats``."""
    for parser in parsers:
        for event in parser.flush():
            stats.events += 1
            sink(event)
    recognised, unclaimed = router.harvest()
    stats.by_parser.update(recognised)
    stats.unclaimed.update(unclaimed)


_SECRETS = re.compile(
    r"""(?ix)
    (\(pass:\s*')[^\n]*?('\))            # vpopmail: (pass: '...')
    | (given\ password:\s*)[^)\n]*        # Dovecot: (given password: ...)
    | ((?:pass(?:word|wd)?|secret)=)\S+    # key=value forms
    """
)


def cut_secrets(text: str) -> str:
    """``text`` with anything that looks like a logged password replaced by ``<secret>``: an
    unrecognised line is shown only with ``--strict``, and its format is by definition unknown."""
    def mark(match: re.Match[str]) -> str:
        if match[1] is not None:
            return f"{match[1]}{SECRET_MARK}{match[2]}"
        return f"{match[3] or match[4]}{SECRET_MARK}"

    return _SECRETS.sub(mark, text)


def finish_stats(stats: LogScanStats, options: ScanOptions) -> None:
    """Add the Skipped records that count unrecognised and unclaimed lines per program (and,
    with ``list_unknown``, the sample lines): the end of a scan."""
    for program, count in sorted(stats.unknown.items()):
        stats.skipped.append(Skipped(source="logs", where=f"program {program}",
                                     reason="line format not recognised", count=count))
        for sample in stats.unknown_samples.get(program, []) if options.list_unknown else ():
            where, _, text = sample.partition(": ")
            stats.skipped.append(Skipped(source="logs", where=where,
                                         reason=f"not recognised: {cut_secrets(text)}"))
    for program, count in sorted(stats.unclaimed.items()):
        stats.skipped.append(Skipped(source="logs", where=f"program {program}",
                                     reason="not a program authaudit reads", count=count))


def _opened(sources: list[LogSource], stats: LogScanStats) -> list[Iterable[LogRecord]]:
    """Per-file record iterators that turn a file failing mid-read into a Skipped record."""
    return [_guarded(source, stats) for source in sources]


def _guarded(source: LogSource, stats: LogScanStats) -> Iterable[LogRecord]:
    try:
        yield from source
    except SourceError as exc:
        stats.skipped.append(Skipped(source=source.path, where="file", reason=str(exc)))


def _scan_file(source: LogSource, router: Router, stats: LogScanStats, sink: EventSink,
               progress: Progress | None) -> None:
    """One file through the fused loop, with LogSource's bookkeeping (inference, Skipped)."""
    inference = YearInference.for_file(source.path, year=source.year, tz=source.tz or UTC)
    source.inference = inference
    try:
        log = LogFile(source.path)
    except SourceError as exc:
        stats.skipped.append(Skipped(source=source.path, where="file", reason=str(exc)))
        return
    scan = FileScan(source.path, router, sink, inference=inference, tz=source.tz,
                    program=source.program, unknown=stats.unknown, samples=stats.unknown_samples)
    try:
        scan.run_blocks(log.text_blocks(), progress)
    finally:
        log.close()
        source.skipped.extend(log.skipped)
    if scan.unparsed:
        source.skipped.append(no_header(source.path, scan.lineno, scan.unparsed))
    stats.add_scan(scan)


def _loop(
    records: Iterable[LogRecord],
    router: Router,
    stats: LogScanStats,
    sink: EventSink,
    progress: Progress | None,
) -> None:
    """The per-line loop over records merged from several files (kept flat: it runs once per log
    line); quiet lines are counted on their route, as the fused loop does."""
    routes = router.routes
    route_of = router.route
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
        message = env.message
        route = routes.get(program) if program is not None else None
        if route is None:
            route = route_of(program, message)
        if is_quiet(route, message):
            route.lines += 1
            tick = route.tick
            if tick is not None and time is not None and time is not route.last_tick:
                route.last_tick = time
                for event in tick(time):
                    events_out += 1
                    sink(event)
            continue
        parser = route.parser
        assert parser is not None  # an unclaimed route has every line quiet
        events = parser.feed(record)
        if events is None:
            note_unknown(unknown, stats.unknown_samples, family(program),
                         f"{record.source}:{record.lineno}", message)
            continue
        route.lines += 1
        for event in events:
            events_out += 1
            sink(event)
    stats.lines += lines
    stats.events += events_out
    stats.first = first
    stats.last = last
