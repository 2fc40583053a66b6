"""Reading one large plain log file on several cores: the file cut into parts at line starts.

:func:`plan_parts` cuts a file into consecutive byte ranges at line starts. The reader of a
later part first finds, with one quick pass over the bytes before its start, what a reader from
the file start would know there (:func:`start_state`): the line number, and the state of the
year inference for yearless stamps (the first stamp's year and the month of the last one), so
that every part's lines get the same times as in one sequential read. It declines (None) for
compressed or small files, and for files whose stamps it cannot follow cheaply (months that
change on many lines in the file's first megabytes).

:func:`scan_parts` reads part 0 in this process, into the caller's parsers and sink, while worker
processes (fork server or spawn, never fork) read the others, each into its own parsers and a
consumer made by the caller's picklable factory (``make_part``). A part's parsers are flushed at
its end. A parser that is :class:`PartAware` (Postfix) keeps the messages a border cuts as pieces
and joins them afterwards; any other gives such a message out twice in pieces: the earlier part
with what it knew (its submission, the recipients so far), the later part the rest as a message
whose start it did not see (``RelayVia.QUEUED``). State limits that count in log time (Postfix's
expiry) start again in each part. Counts of lines (recognised, unknown, unclaimed, unparsed) are
exact sums. What the consumers made of their parts (for the report: the activity tallies) is
returned in part order for the caller to merge, with the joined messages.
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from authaudit.logs.fastscan import SAMPLES_PER_PROGRAM, EventSink, FileScan, Progress
from authaudit.logs.interface import LogEvent, LogParser
from authaudit.logs.merge import no_header
from authaudit.logs.openers import LogFile, line_start_after, sniff_compression
from authaudit.logs.routing import Router
from authaudit.logs.scan import LogScanStats, ScanOptions, end_of_input, finish_stats
from authaudit.logs.syslog import parse_line
from authaudit.logs.timestamps import MONTHS, YearInference
from authaudit.model import Skipped

__all__ = [
    "MIN_PART_BYTES", "FilePart", "PartAware", "PartConsumer", "plan_parts", "scan_parts",
    "start_state",
]

MIN_PART_BYTES = 16 << 20
"""Parts are at least this big (a file is read in parallel from twice this size on): below it,
starting a worker costs more than it saves."""
_BLOCK = 1 << 22
_SAMPLE = 2 << 20
_SAMPLE_CANDIDATES = 200
"""Lines that may change the month (see :func:`_state_at`) allowed in the file's first
``_SAMPLE`` bytes; with more, following the stamps up to a cut costs too much and the file is
read by one process."""
_NAMES = {number: name.encode() for name, number in MONTHS.items()}
"""Month number → its name as a line starts with it."""
_FIRST_PART_SHARE = 0.0
"""How much more than an equal share part 0 gets. It starts at once and the workers about half a
second later, but this process is measurably slower per line while they run; equal shares came
out best on the benchmark's two cores."""


class PartConsumer(Protocol):
    """What a worker feeds one part into: fresh parsers and a sink; ``finish`` (after the
    parsers are flushed) gives the picklable result handed back to the caller."""

    parsers: Sequence[LogParser]

    def sink(self, event: Any) -> None: ...

    def finish(self) -> object: ...


@runtime_checkable
class PartAware(Protocol):
    """What a parser with state across lines adds to be read in parts: it keeps what a border
    cuts (:meth:`loose_ends`) and joins the pieces of all parts afterwards (:meth:`stitch`).
    A parser without it gives out what a border cuts in two (see the module docstring)."""

    def begin_part(self, first: bool, last: bool) -> None:
        """The parser is about to read one part (the first and/or the last of the log)."""
        ...

    def loose_ends(self) -> Sequence[Any]:
        """What it kept at the part's borders (after its ``flush``); picklable."""
        ...

    def stitch(self, parts: Sequence[Sequence[Any]]) -> Sequence[LogEvent]:
        """The events the loose ends of consecutive parts make, joined."""
        ...


@dataclass(frozen=True, slots=True)
class FilePart:
    """One byte range of a plain log file, with what a sequential reader knows at its start."""

    path: str
    start: int
    end: int
    size: int
    """The size of the whole file."""
    inference: YearInference
    """The year inference at the file's start (see :func:`start_state` for the part's)."""


def plan_parts(paths: Sequence[str | Path], options: ScanOptions, jobs: int | None,
               min_bytes: int | None = None) -> list[FilePart] | None:
    """The parts to read ``paths`` in, or None to read them in one process: only one plain file
    of at least twice ``min_bytes`` (default :data:`MIN_PART_BYTES`) is split, into ``jobs``
    parts at most (the number of CPUs when None)."""
    if min_bytes is None:
        min_bytes = MIN_PART_BYTES
    count = jobs if jobs is not None else (os.cpu_count() or 1)
    if count < 2 or len(paths) != 1:
        return None
    path = str(paths[0])
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as raw:
            head = raw.read(8)
    except OSError:
        return None
    if sniff_compression(head) != "plain" or size < 2 * min_bytes:
        return None
    count = min(count, size // min_bytes)
    share = (1 / count) + _FIRST_PART_SHARE
    rest = (1 - share) / (count - 1)
    wanted = [int(size * (share + rest * k)) for k in range(count - 1)]
    cuts = sorted({line_start_after(path, offset) for offset in wanted} - {0, size})
    if not cuts:
        return None
    tz = options.tz or UTC
    sample = line_start_after(path, min(_SAMPLE, cuts[0]))
    # how often the month changes does not depend on the year: a placeholder inference will do,
    # and the real one (a whole read of the file with --year) is made only for a split
    if sample and _state_at(path, sample, YearInference(tz=tz), _SAMPLE_CANDIDATES) is None:
        return None  # the stamps change month too often to be followed cheaply
    inference = YearInference.for_file(path, year=options.year, tz=tz)
    bounds = [0, *cuts, size]
    return [FilePart(path, bounds[k], bounds[k + 1], size, inference)
            for k in range(len(bounds) - 1)]


def start_state(part: FilePart) -> tuple[int, YearInference]:
    """The line number before ``part`` and the year inference at its start: found by one pass
    over the bytes before it (a worker does this itself, while the first part is read)."""
    if part.start == 0:
        return 0, copy.copy(part.inference)
    state = _state_at(part.path, part.start, copy.copy(part.inference), None)
    assert state is not None  # no limit
    return state


def _state_at(path: str, cut: int, inference: YearInference,
              limit: int | None) -> tuple[int, YearInference] | None:
    """Line number and year inference (``inference``, advanced) at ``cut`` (a line start), from
    one pass over the bytes before it. Only lines that may carry an RFC 3164 stamp of another
    month than the current one can change the inference, and only those are parsed (a regex finds
    them); None when more than ``limit`` of them are."""
    lines = pos = parsed = 0
    month = 0
    carry = b""
    with open(path, "rb") as raw:
        while pos < cut:
            block = raw.read(min(_BLOCK, cut - pos))
            if not block:
                break
            pos += len(block)
            lines += block.count(b"\n")
            text = b"\n" + carry + block  # each line after a newline
            end = text.rfind(b"\n")  # the complete lines end at or before it
            carry = text[end + 1 :]
            at = 0
            while True:
                found = _CANDIDATES[month].search(text, at, end)
                if found is None:
                    break
                start = found.start() + 1
                at = text.find(b"\n", start)
                parsed += 1
                if limit is not None and parsed > limit:
                    return None
                env = parse_line(text[start:at])
                if env is not None and env.yearless is not None:
                    inference.resolve(env.yearless)
                    month = env.yearless.month
    return lines, inference


def _candidates(month: int) -> re.Pattern[bytes]:
    """A newline before a line that may carry an RFC 3164 stamp (a month name, or a ``svc | ``
    prefix) of another month than ``month`` (0: any)."""
    other = b"" if not month else rb"(?!" + _NAMES[month] + rb" )"
    return re.compile(rb"\n" + other + rb"(?=[A-S]|[^\n]*\| )")


_CANDIDATES = {month: _candidates(month) for month in range(13)}


# -- reading the parts ------------------------------------------------------------------------


@dataclass(slots=True)
class PartOutcome:
    """What one part's reader hands back."""

    stats: LogScanStats
    unparsed: int
    lineno: int
    skipped: list[list[Skipped]]
    """Per parser (in the parsers' order), what it gave up."""
    year: str | None
    """The year of the file's last yearless stamps and where it came from, as ``years`` says."""
    loose: list[list[Any]]
    """Per parser, what it kept at the part's borders."""
    result: object = None


def _read_part(part: FilePart, parsers: Sequence[LogParser], sink: EventSink,
               options: ScanOptions, progress: Progress | None) -> PartOutcome:
    for parser in parsers:
        if isinstance(parser, PartAware):
            parser.begin_part(part.start == 0, part.end == part.size)
    lineno, inference = start_state(part)  # a copy: the plan stays as it was
    router = Router(parsers)
    stats = LogScanStats()
    scan = FileScan(part.path, router, sink, inference=inference, tz=options.tz,
                    lineno=lineno, unknown=stats.unknown, samples=stats.unknown_samples)
    log = LogFile(part.path, span=(part.start, part.end))
    try:
        scan.run_blocks(log.text_blocks(), progress)
    finally:
        log.close()
    end_of_input(router, parsers, stats, sink)
    stats.add_scan(scan)
    stats.skipped.extend(log.skipped)
    year = inference.describe()
    loose = [list(parser.loose_ends()) if isinstance(parser, PartAware) else []
             for parser in parsers]
    return PartOutcome(stats, scan.unparsed, scan.lineno,
                       [list(parser.skipped()) for parser in parsers], year, loose)


def _work(part: FilePart, options: ScanOptions,
          make_part: Callable[[], PartConsumer]) -> PartOutcome:
    """A worker's job: one part into a fresh consumer."""
    consumer = make_part()
    outcome = _read_part(part, consumer.parsers, consumer.sink, options, None)
    outcome.result = consumer.finish()
    return outcome


def _context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["authaudit.logs.parallel", "authaudit.logs.parsers"])
        return ctx
    return multiprocessing.get_context("spawn")


@contextlib.contextmanager
def _without_main_script(make_part: Callable[[], PartConsumer]) -> Iterator[None]:
    """Start workers without running the main script again in them.

    A worker process runs the main script of this one (``__mp_main__``) before its first job
    unless the program was started with ``python -m``; for the installed ``authaudit`` command
    that means importing the whole command line (captures, account stores) for nothing. When
    ``make_part`` is not defined in the main script, the jobs only need importable modules, so
    the script's path is hidden while the workers start.
    """
    main = sys.modules.get("__main__")
    factory = getattr(make_part, "func", make_part)
    path = None
    if (main is not None and getattr(main, "__spec__", None) is None
            and getattr(factory, "__module__", "__main__") != "__main__"):
        path = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if path is not None and main is not None:
            main.__file__ = path


def scan_parts(parts: Sequence[FilePart], parsers: Sequence[LogParser], sink: EventSink,
               make_part: Callable[[], PartConsumer], options: ScanOptions | None = None,
               progress: Progress | None = None
               ) -> tuple[LogScanStats, list[object], list[LogEvent]]:
    """Read ``parts`` (of one file, in order): part 0 here into ``parsers`` and ``sink`` (the
    parsers are flushed at its end), the others in worker processes, each into a consumer that
    ``make_part()`` builds there (with the same parsers in the same order). Returns the scan's
    stats, as one sequential read would count them, the consumers' results in part order, and
    the events that the parts' loose ends make once joined (for the caller to take after it has
    merged the results; they went to no sink)."""
    opts = options or ScanOptions()
    path = parts[0].path
    with ProcessPoolExecutor(max_workers=len(parts) - 1, mp_context=_context()) as pool:
        with _without_main_script(make_part):  # workers start as jobs are submitted
            futures: list[Future[PartOutcome]] = [
                pool.submit(_work, part, opts, make_part) for part in parts[1:]]
        first = _read_part(parts[0], parsers, sink, opts, progress)
        later = [future.result() for future in futures]
    outcomes = [first, *later]
    stats = _merged(outcomes, path)
    finish_stats(stats, opts)
    joined: list[LogEvent] = []
    for index, parser in enumerate(parsers):
        if isinstance(parser, PartAware):
            joined.extend(parser.stitch([outcome.loose[index] for outcome in outcomes]))
    stats.events += len(joined)
    return stats, [outcome.result for outcome in later], joined


def _merged(outcomes: list[PartOutcome], path: str) -> LogScanStats:
    """One file's stats from its parts' (in order), as a sequential scan would have made them."""
    stats = LogScanStats(files=[path])
    skipped: dict[tuple[int, str, str, str], int] = {}
    order: list[tuple[int, str, str, str]] = []
    for outcome in outcomes:
        part = outcome.stats
        stats.lines += part.lines
        stats.events += part.events
        stats.by_parser.update(part.by_parser)
        stats.unknown.update(part.unknown)
        stats.unclaimed.update(part.unclaimed)
        for program, samples in part.unknown_samples.items():
            kept = stats.unknown_samples.setdefault(program, [])
            kept.extend(samples[: SAMPLES_PER_PROGRAM - len(kept)])
        if stats.first is None:
            stats.first = part.first
        if part.last is not None:
            stats.last = part.last
        for index, records in enumerate(outcome.skipped):
            for record in records:
                key = (index, record.source, record.where, record.reason)
                if key not in skipped:
                    order.append(key)
                    skipped[key] = 0
                skipped[key] += record.count
    for key in order:
        _, source, where, reason = key
        stats.skipped.append(Skipped(source=source, where=where, reason=reason,
                                     count=skipped[key]))
    for outcome in outcomes:
        stats.skipped.extend(outcome.stats.skipped)
    unparsed = sum(outcome.unparsed for outcome in outcomes)
    if unparsed:
        stats.skipped.append(no_header(path, outcomes[-1].lineno, unparsed))
    year = outcomes[-1].year
    if year is not None:
        stats.years[path] = year
    return stats
