"""Which parser reads which program's lines, and which lines the scanner may answer for it.

The scanner asks the parsers once per program name which of them claims it (the first that does);
lines of unclaimed programs are only counted. A parser may also name, per program, the *quiet*
lines: message prefixes (or a regex) it recognises and that produce nothing and change none of
its state (``connect from``, TLS chatter, every postscreen line). The scanner then counts such a
line as recognised without building a record for it or calling the parser, which is most of the
speed on a busy MTA log. A parser with time-driven state (open queues given out after some log
time) also gets :meth:`QuietAware.tick` with the time of a quiet line, so that what the passing
of time releases comes out at the same line as if the parser had been fed it.

Both are optional: a parser without ``quiet_prefixes`` is fed every line of its programs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from authaudit.logs.interface import LogEvent, LogParser

__all__ = ["ALL_LINES", "MAX_PROGRAMS", "QuietAware", "Route", "Router", "Tick", "family"]

MAX_PROGRAMS = 4096
"""Program names remembered at most (Dovecot tags carry a session id, so they are unbounded)."""

ALL_LINES: tuple[str, ...] = ("",)
"""``quiet_prefixes`` for a program every line of which is quiet."""

Tick = Callable[[datetime], Sequence[LogEvent]]
"""A parser's :meth:`QuietAware.tick`."""


@runtime_checkable
class QuietAware(Protocol):
    """What a parser adds to :class:`LogParser` to let the scanner answer its quiet lines."""

    def quiet_prefixes(self, program: str) -> tuple[str, ...]:
        """Message prefixes of ``program`` (which this parser claimed) that are recognised, make
        no event and change no state; ``ALL_LINES`` for all, ``()`` for none."""
        ...

    def quiet_pattern(self, program: str) -> re.Pattern[str] | None:
        """A regex matching (at the start of the message) more quiet messages of ``program``,
        for what prefixes cannot say; None for none."""
        ...

    def tick(self, time: datetime) -> Sequence[LogEvent]:
        """Log time reached ``time`` on a quiet line: the events that completes (messages whose
        time limit ran out), as :meth:`LogParser.feed` would have returned them."""
        ...


def family(program: str | None) -> str:
    """The name counters are kept under: the program without a Dovecot ``(user,ip)<session>``
    part, so that the number of counters stays bounded; ``-`` for lines without a program."""
    if not program:
        return "-"
    cut = program.find("(")
    return program if cut < 0 else program[:cut]


class Route:
    """Where the lines of one program go, with the count of lines recognised there."""

    __slots__ = ("family", "last_tick", "lines", "parser", "pattern", "quiet", "tick")

    def __init__(self, parser: LogParser | None, program: str | None) -> None:
        self.parser = parser
        """None for a program no parser claims (its lines are counted as other programs')."""
        self.family = family(program)
        quiet: tuple[str, ...] = ALL_LINES
        self.tick: Tick | None = None
        self.pattern: re.Pattern[str] | None = None
        """More quiet messages (see :meth:`QuietAware.quiet_pattern`)."""
        if parser is not None:
            quiet = ()
            if isinstance(parser, QuietAware) and program is not None:
                quiet = parser.quiet_prefixes(program)
                self.pattern = parser.quiet_pattern(program)
                self.tick = parser.tick
        self.quiet = quiet
        """Message prefixes answered without the parser (``("",)``: every line)."""
        self.lines = 0
        """Lines counted on this route: recognised by ``parser`` (quiet or fed), or unclaimed
        when it is None."""
        self.last_tick: datetime | None = None
        """Time of the last tick given for this program (ticks are given once per time)."""


class Router:
    """The parser of each program, decided once per program name (bounded)."""

    def __init__(self, parsers: Sequence[LogParser]) -> None:
        self.parsers = list(parsers)
        self.routes: dict[str, Route] = {}
        self.tags: dict[str, tuple[str, int | None, Route]] = {}
        """The fast header split's cache: a whole ``prog[pid]`` tag → program, pid and route
        (emptied with the routes)."""
        self._untagged: dict[int, Route] = {}
        self.recognised: Counter[str] = Counter()
        """Lines counted on routes no longer cached, per parser name (see :meth:`harvest`)."""
        self.unclaimed: Counter[str] = Counter()

    def route(self, program: str | None, message: str) -> Route:
        """The route of a line; ``program`` None (multilog, Dovecot's own file) is decided by the
        message each time."""
        if program is None:
            return self._untagged_route(message)
        route = self.routes.get(program)
        if route is not None:
            return route
        chosen = None
        for parser in self.parsers:
            if parser.claims(program, message):
                chosen = parser
                break
        if len(self.routes) >= MAX_PROGRAMS:
            self._retire()
        route = self.routes[program] = Route(chosen, program)
        return route

    def _untagged_route(self, message: str) -> Route:
        for parser in self.parsers:
            if parser.claims(None, message):
                key = id(parser)
                route = self._untagged.get(key)
                if route is None:
                    route = self._untagged[key] = Route(parser, None)
                return route
        route = self._untagged.get(0)
        if route is None:
            route = self._untagged[0] = Route(None, None)
        return route

    def _retire(self) -> None:
        """Forget every cached program, keeping the counts of its lines."""
        for route in self.routes.values():
            self._count(route)
        self.routes.clear()
        self.tags.clear()

    def _count(self, route: Route) -> None:
        if route.lines:
            if route.parser is None:
                self.unclaimed[route.family] += route.lines
            else:
                self.recognised[route.parser.name] += route.lines
            route.lines = 0

    def harvest(self) -> tuple[Counter[str], Counter[str]]:
        """Lines counted so far: recognised per parser name, and unclaimed per program family
        (the counters of the routes are reset)."""
        for route in (*self.routes.values(), *self._untagged.values()):
            self._count(route)
        recognised, unclaimed = self.recognised, self.unclaimed
        self.recognised, self.unclaimed = Counter(), Counter()
        return recognised, unclaimed
