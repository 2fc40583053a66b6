"""Reading whole log files into timed records, ordering rotated sets, and merging files by time.

A rotated set (``maillog-20250101.gz``, ``mail.log.2.gz``, ``mail.log.1``, ``mail.log``,
multilog ``@<tai64n>.s`` and ``current``) is read oldest first. Several files are merged into one
time-ordered stream with :func:`heapq.merge` over per-file iterators, so memory stays bounded.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import NamedTuple

from authaudit.logs.openers import LogFile
from authaudit.logs.syslog import Envelope, parse_line
from authaudit.logs.timestamps import YearInference, Yearless
from authaudit.model import Skipped

__all__ = ["LogRecord", "LogSource", "merge_sources", "no_header", "rotation_order"]


class LogRecord(NamedTuple):
    """One parsed line of a log file, with its full time (a named tuple: the cheapest record to
    build, once per line a parser is fed)."""

    time: datetime | None
    """Aware UTC time of the line; None when it has none (see ``envelope.ts_reason``)."""
    order: datetime
    """Time used for merging: ``time``, or for a line without one the time of the line before it
    in the same file (the epoch for leading lines), so untimed lines stay next to their context."""
    source: str
    lineno: int
    envelope: Envelope


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class LogSource:
    """One log file read as :class:`LogRecord` values, with counts of what could not be used.

    ``year`` is the ``--year`` override; ``tz`` the zone of stamps that carry none (default UTC);
    ``program`` the writer of lines whose format has no program field.
    """

    path: str
    year: int | None = None
    tz: tzinfo | None = None
    program: str | None = None
    unparsed: int = 0
    """Lines no known header fitted (counted; also reported as one Skipped at the end)."""
    skipped: list[Skipped] = field(default_factory=list)
    inference: YearInference | None = None
    """The year inference used for yearless stamps (set once reading starts)."""

    def __iter__(self) -> Iterator[LogRecord]:
        zone = self.tz or UTC
        inference = YearInference.for_file(self.path, year=self.year, tz=zone)
        self.inference = inference
        log = LogFile(self.path)
        last = _EPOCH
        last_stamp: Yearless | None = None
        last_resolved: datetime | None = None
        lineno = 0
        try:
            for lineno, line in enumerate(log, 1):
                env = parse_line(line, self.program)
                if env is None:
                    self.unparsed += 1
                    continue
                ts = env.ts
                stamp = env.yearless
                if stamp is not None:
                    # lines of the same second share one Yearless object (the parser caches it)
                    if stamp is not last_stamp:
                        last_stamp, last_resolved = stamp, inference.resolve(stamp)
                        if last_resolved is not None:
                            last_resolved = last_resolved.astimezone(UTC)
                    ts = last_resolved
                elif ts is not None:
                    ts = (ts.replace(tzinfo=zone) if ts.tzinfo is None else ts).astimezone(UTC)
                if ts is not None:
                    last = ts
                yield LogRecord(ts, last, self.path, lineno, env)
        finally:
            log.close()
            self.skipped.extend(log.skipped)
        if self.unparsed:
            self.skipped.append(no_header(self.path, lineno, self.unparsed))


def no_header(path: str, lines: int, count: int) -> Skipped:
    """The record of the ``count`` lines among the first ``lines`` of ``path`` that had no log
    header anyone knows."""
    return Skipped(source=path, where=f"lines 1-{lines}", reason="no known log header",
                   count=count)


def merge_sources(sources: Iterable[Iterable[LogRecord]]) -> Iterator[LogRecord]:
    """All records of ``sources`` in time order (stable: ties keep the order of ``sources``).

    Each source must itself be in time order, as a single log file is.
    """
    return heapq.merge(*sources, key=_order)


def _order(record: LogRecord) -> datetime:
    return record.order


_COMPRESSED = re.compile(r"\.(?:gz|bz2|xz|zst|lz4)$")
_NUMBERED = re.compile(r"(.+)\.(\d{1,4})$")
_DATED = re.compile(r"(.+)-(\d{8}|\d{10})$")
_MULTILOG = re.compile(r"@([0-9a-fA-F]{24})\.[su]$")


def _rotation_key(path: Path) -> tuple[str, str, int, int]:
    name = _COMPRESSED.sub("", path.name)
    parent = str(path.parent)
    multilog = _MULTILOG.match(name)
    if multilog is not None:
        return (parent, "current", 0, int(multilog[1], 16))
    dated = _DATED.match(name)
    if dated is not None:
        return (parent, dated[1], 0, int(dated[2]))
    numbered = _NUMBERED.match(name)
    if numbered is not None:
        return (parent, numbered[1], 1, -int(numbered[2]))
    return (parent, name, 2, 0)


def rotation_order(paths: Iterable[str | Path]) -> list[Path]:
    """``paths`` grouped by log (directory and base name) and ordered oldest first in each group.

    Dated names (logrotate ``dateext``) sort by date, numbered ones by falling index, and the
    live file comes last: ``maillog-20250101``, ``maillog.2.gz``, ``maillog.1``, ``maillog``.
    """
    return sorted((Path(p) for p in paths), key=_rotation_key)
