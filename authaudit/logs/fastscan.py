"""The per-line hot loop over one log file: header split, time, routing and quiet lines, fused.

:class:`FileScan` reads the decoded text of one file (or of a byte range of it) and does, for
each line, what :class:`~authaudit.logs.merge.LogSource` and the scanner's dispatch do together,
with the same results, but without building anything for most lines:

* a line whose first 16 characters are a plain RFC 3164 stamp and whose tag is a simple
  ``prog[pid]`` (most syslog lines) is split with two ``find`` calls; its time comes from a cache
  per second (the year inference and the zone are applied once per minute);
* its program's :class:`~authaudit.logs.routing.Route` (cached per tag) says which parser reads
  it; a *quiet* line (see :mod:`authaudit.logs.routing`) is only counted, and a line of a program
  no parser claims too;
* every other line is split by :func:`~authaudit.logs.syslog.parse_line` and timed as
  ``LogSource`` does, and only lines that reach a parser become a
  :class:`~authaudit.logs.merge.LogRecord`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from authaudit.gcpause import gc_paused
from authaudit.logs.interface import LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.routing import Route, Router, family
from authaudit.logs.syslog import Envelope, fast_host, parse_line, split_tag, stamp16
from authaudit.logs.timestamps import YearInference, Yearless

__all__ = ["SAMPLES_PER_PROGRAM", "EventSink", "FileScan", "Progress", "is_quiet", "note_unknown"]

SAMPLES_PER_PROGRAM = 5
"""Unrecognised lines kept per program, for ``--strict``."""

_SECONDS = tuple(timedelta(seconds=n) for n in range(60))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_ROUTE = Route(None, None)
_BAD_TAG: tuple[str, int | None, Route] = ("", None, _NO_ROUTE)
"""The tag cache's entry for a tag the fast split cannot read (the line takes parse_line)."""
_MAX_TAGS = 1 << 15
_PROGRESS_EVERY = 1 << 14

EventSink = Callable[[LogEvent], None]
"""Where a scan sends the events its parsers give out."""
Progress = Callable[[int, int], None]
"""Called as ``progress(lines_done, 0)`` every 16,384 lines (the total is not known up front)."""


def note_unknown(unknown: Counter[str], samples: dict[str, list[str]], name: str, where: str,
                 message: str) -> None:
    """Count a line its parser did not understand under ``name`` (its program family), and keep
    the first :data:`SAMPLES_PER_PROGRAM` of each family (``where: message``) for ``--strict``."""
    unknown[name] += 1
    kept = samples.setdefault(name, [])
    if len(kept) < SAMPLES_PER_PROGRAM:
        kept.append(f"{where}: {message[:160]}")


def is_quiet(route: Route, message: str) -> bool:
    """Whether the route answers ``message`` without its parser."""
    quiet = route.quiet
    if quiet and message.startswith(quiet):
        return True
    pattern = route.pattern
    return pattern is not None and pattern.match(message) is not None


class FileScan:
    """One file's (or one byte range's) pass: feed its lines to the routed parsers.

    ``lineno`` is the number of the line before the first one read (0 for a whole file);
    ``inference`` the year inference in the state a reader from the file start would have there.
    After :meth:`run`: ``lines`` (lines with a known header), ``unparsed``, ``first``/``last``
    (times of the first and last timed line), ``events`` (events given to the sink).
    """

    def __init__(self, path: str, router: Router, sink: EventSink, *, inference: YearInference,
                 tz: tzinfo | None = None, program: str | None = None, lineno: int = 0,
                 unknown: Counter[str] | None = None,
                 samples: dict[str, list[str]] | None = None) -> None:
        self.path = path
        self.router = router
        self.sink = sink
        self.inference = inference
        self.zone: tzinfo = tz or UTC
        self.program = program
        self.lineno = lineno
        self.unknown: Counter[str] = Counter() if unknown is None else unknown
        """Lines of a claimed program its parser did not understand, per program family."""
        self.samples: dict[str, list[str]] = {} if samples is None else samples
        self.lines = 0
        self.unparsed = 0
        self.events = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.order = _EPOCH
        """Merge time of the latest line (the time of the last timed line)."""
        self._minute = ""
        """The first 12 characters (``Jan  3 06:22``) of the heads the minute cache is for."""
        self._base: datetime | None = None
        self._parts: tuple[int, ...] = ()
        """Month, day, hour and minute of the cached minute."""
        self._per_minute = isinstance(self.zone, timezone)
        """Fixed-offset zones: a minute's UTC start plus seconds is the exact time."""
        self._last_stamp: Yearless | None = None
        self._last_resolved: datetime | None = None

    # -- time -----------------------------------------------------------------------------------

    def _resolve(self, stamp: Yearless) -> datetime | None:
        when = self.inference.resolve(stamp)
        return None if when is None else when.astimezone(UTC)

    def _head(self, head: str, stamp: Yearless) -> datetime | None:
        """The aware UTC time of ``head`` (a line's first 16 characters, a fast-path stamp read
        as ``stamp``); sets the minute cache that :meth:`run` uses for the next heads."""
        self._last_stamp = None  # parse_line's path must resolve its next stamp itself
        if self.inference.year is None:  # the first stamp decides the year: give it exactly
            self._resolve(stamp)
        if not self._per_minute:
            self._minute = ""
            return self._resolve(stamp)
        minute = head[:12]
        if minute != self._minute:
            self._minute = minute
            self._parts = stamp[:4]
            self._base = self._resolve(stamp._replace(second=0, microsecond=0))
        base = self._base
        return None if base is None else base + _SECONDS[stamp.second]

    def _slow_time(self, env: Envelope) -> datetime | None:
        """The time of a line split by parse_line, as LogSource gives it."""
        self._minute = ""  # the fast path must resolve its next minute itself
        stamp = env.yearless
        if stamp is not None:
            if stamp is not self._last_stamp:
                self._last_stamp = stamp
                self._last_resolved = self._resolve(stamp)
            return self._last_resolved
        ts = env.ts
        if ts is None:
            return None
        return (ts.replace(tzinfo=self.zone) if ts.tzinfo is None else ts).astimezone(UTC)

    def _timed(self, time: datetime) -> None:
        self.order = time
        if self.first is None:
            self.first = time
        self.last = time

    # -- lines ----------------------------------------------------------------------------------

    def _tag(self, tag: str, line: str, colon: int) -> tuple[str, int | None, Route]:
        split = split_tag(tag)
        tags = self.router.tags
        if len(tags) >= _MAX_TAGS:
            tags.clear()
        if split is None:
            tags[tag] = _BAD_TAG
            return _BAD_TAG
        program, pid = split
        route = self.router.route(program, line[colon + 2 :].rstrip("\r\n"))
        entry = tags[tag] = (program, pid, route)
        return entry

    def _unknown(self, env: Envelope, lineno: int) -> None:
        note_unknown(self.unknown, self.samples, family(env.program), f"{self.path}:{lineno}",
                     env.message)

    def _slow(self, line: str, lineno: int) -> None:
        """A line the fast split does not take: LogSource's and the scanner's way."""
        env = parse_line(line, self.program)
        if env is None:
            self.unparsed += 1
            return
        self.lines += 1
        time = self._slow_time(env)
        if time is not None:
            self._timed(time)
        route = self.router.route(env.program, env.message)
        if is_quiet(route, env.message):
            route.lines += 1
            if route.tick is not None and time is not None and time is not route.last_tick:
                route.last_tick = time
                self._emit(route.tick(time))
            return
        parser = route.parser
        assert parser is not None  # an unclaimed route has every line quiet
        events = parser.feed(LogRecord(time, self.order, self.path, lineno, env))
        if events is None:
            self._unknown(env, lineno)
            return
        route.lines += 1
        self._emit(events)

    def _emit(self, events: Iterable[LogEvent]) -> None:
        sink = self.sink
        for event in events:
            self.events += 1
            sink(event)

    # -- blocks ---------------------------------------------------------------------------------

    def run_blocks(self, blocks: Iterable[str], progress: Progress | None = None) -> None:
        """Read decoded ``blocks`` of text that each end at a line end (or the file's end)."""
        with gc_paused():  # see gcpause.py: the loop makes no reference cycles
            self.run(self._pieces(blocks), progress)

    @staticmethod
    def _pieces(blocks: Iterable[str]) -> Iterator[str]:
        """The lines of ``blocks``, without line ends."""
        for block in blocks:
            yield from (block.removesuffix("\n")).split("\n")

    # -- the loop -------------------------------------------------------------------------------

    def run(self, lines: Iterable[str], progress: Progress | None = None) -> None:
        """Read ``lines`` (decoded, line ends kept or not) to the end."""
        path = self.path
        tags = self.router.tags
        sink = self.sink
        new_tuple = tuple.__new__
        seconds = _SECONDS
        lineno = self.lineno
        next_progress = lineno + _PROGRESS_EVERY
        head = ""  # the 16-character stamp the cached time belongs to ("": none)
        fast = False  # head is a fast-path stamp
        stamp: Yearless | None = None  # its stamp, built when a record needs it
        parsed: Yearless | None = None  # a head's stamp read to tell whether it is fast
        time: datetime | None = None
        minute = ""  # the minute cache (see _head), copied to locals
        base: datetime | None = None
        second = 0
        pending = False  # a new head whose time no taken line has resolved yet
        host = ""  # the last host the fast split took, with the space after it and where
        host_sp, host_end = "\n", 0  # that space is (no line holds a newline)
        fast_lines = events_out = 0
        for line in lines:
            lineno += 1
            if progress is not None and lineno >= next_progress:
                next_progress = lineno + _PROGRESS_EVERY
                progress(self.lines + fast_lines, 0)
            if line[:16] != head:
                head = line[:16]
                digits = head[13:15]
                if (head[:12] == minute and head[12:13] == ":" and head[15:16] == " "
                        and digits.isdigit() and digits.isascii() and int(digits) <= 60):
                    second = min(int(digits), 59)
                    fast = True
                else:
                    second = -1  # the minute cache does not cover it: _head resolves it
                    parsed = stamp16(head)
                    fast = parsed is not None
                stamp = None
                pending = True  # resolved when a line with this head is taken (not before:
                # a line that parse_line rejects must not reach the year inference)
            if fast:
                if line.startswith(host_sp, 16):  # the host of the line before
                    space = host_end
                else:
                    space = line.find(" ", 17)
                    if space > 0 and fast_host(line[16:space]):
                        host = line[16:space]
                        host_sp, host_end = host + " ", space
                    else:
                        space = -1
                colon = line.find(": ", space + 2) if space > 0 else -1
                if colon > 0:
                    tag = line[space + 1 : colon]
                    entry = tags.get(tag)
                    if entry is None:
                        entry = self._tag(tag, line, colon)
                    route = entry[2]
                    if route is not _NO_ROUTE:
                        fast_lines += 1
                        if pending:
                            pending = False
                            if second >= 0:
                                time = None if base is None else base + seconds[second]
                            else:
                                assert parsed is not None  # fast and not from the cache
                                stamp = parsed
                                time = self._head(head, stamp)
                                minute, base = self._minute, self._base
                                second = stamp.second
                            if time is not None:
                                self._timed(time)
                        quiet = route.quiet
                        pattern = route.pattern
                        if (quiet and line.startswith(quiet, colon + 2)) or (
                                pattern is not None and pattern.match(line, colon + 2)):
                            route.lines += 1
                            if (route.tick is not None and time is not None
                                    and time is not route.last_tick):
                                route.last_tick = time
                                ticked = route.tick(time)
                                if ticked:
                                    self._emit(ticked)
                            continue
                        if stamp is None:
                            stamp = new_tuple(Yearless, (*self._parts, second, 0))
                        env: Envelope = new_tuple(Envelope, (
                            None, host, entry[0], entry[1],
                            line[colon + 2 :].rstrip("\r\n"), "yearless", stamp))
                        parser = route.parser
                        assert parser is not None
                        events = parser.feed(
                            new_tuple(LogRecord, (time, self.order, path, lineno, env)))
                        if events is None:
                            self._unknown(env, lineno)
                            continue
                        route.lines += 1
                        for event in events:
                            events_out += 1
                            sink(event)
                        continue
            self._slow(line, lineno)
            head = ""
            minute, base = self._minute, self._base
        self.lineno = lineno
        self.lines += fast_lines
        self.events += events_out
