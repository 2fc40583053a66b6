"""Test helpers for the SMTP layer: three-way feeding of byte parsers and a conversation script.

A :class:`Script` reads top to bottom like the conversation it describes::

    events = Script(
        S(b"220 mx ESMTP\\r\\n"),
        C(b"AUTH LOGIN\\r\\n"),
        S(b"334 VXNlcm5hbWU6\\r\\n"),
        ...
    ).run()

``run`` feeds the conversation to a fresh :class:`SmtpSession` in several ways - as written, one
byte at a time, every client byte before any server byte, every server byte first, and one byte of
each direction in turn - and checks that all of them give the same events (protocol order, not
arrival order, decides). Each step keeps its own capture time (its index) whatever the order.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from authaudit.smtp.events import AuthFinished, SessionEvent, SessionNote, TlsStarted
from authaudit.smtp.session import Direction, SmtpSession

__all__ = [
    "C",
    "S",
    "Script",
    "Step",
    "auths",
    "b64",
    "feed_three_ways",
    "notes",
    "tls_events",
]

T = TypeVar("T")


def b64(text: str | bytes) -> bytes:
    """Base64 of ``text`` (UTF-8 when a str)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return base64.b64encode(data)


@dataclass(frozen=True)
class Step:
    """Bytes one side sends at one point of the conversation."""

    direction: Direction
    data: bytes


def C(data: bytes) -> Step:
    """The client sends ``data``."""
    return Step(Direction.CLIENT, data)


def S(data: bytes) -> Step:
    """The server sends ``data``."""
    return Step(Direction.SERVER, data)


Feed = list[tuple[Direction, bytes, float]]


class Script:
    """A conversation, fed to sessions in every order that must not matter."""

    def __init__(self, *steps: Step, **session_args: Any) -> None:
        self.steps = steps
        self.session_args = session_args

    def feeds(self) -> dict[str, Feed]:
        """The named orders in which the conversation is fed."""
        timed = [(s.direction, s.data, float(i)) for i, s in enumerate(self.steps)]
        bytewise = [(d, data[i : i + 1], ts) for d, data, ts in timed for i in range(len(data))]
        client = [f for f in timed if f[0] is Direction.CLIENT]
        server = [f for f in timed if f[0] is Direction.SERVER]
        return {
            "as written": timed,
            "one byte at a time": bytewise,
            "client first": client + server,
            "server first": server + client,
            "alternating bytes": list(_alternate(bytewise)),
        }

    def run_feed(self, feed: Feed) -> list[SessionEvent]:
        """Events from one session fed ``feed`` and then closed."""
        session = SmtpSession(**self.session_args)
        events: list[SessionEvent] = []
        last = 0.0
        for direction, data, ts in feed:
            session.receive_data(direction, data, ts)
            events.extend(session.events())
            last = max(last, ts)
        session.close(last + 1)
        events.extend(session.events())
        return events

    def run(self, *, orders: tuple[str, ...] | None = None) -> list[SessionEvent]:
        """Events of the conversation, checked to be the same in every feeding order."""
        feeds = self.feeds()
        names = orders if orders is not None else tuple(feeds)
        results = {name: self.run_feed(feeds[name]) for name in names}
        first = results[names[0]]
        for name, events in results.items():
            assert _comparable(events) == _comparable(first), name
        return first


def _alternate(bytewise: Feed) -> Iterator[tuple[Direction, bytes, float]]:
    client = [f for f in bytewise if f[0] is Direction.CLIENT]
    server = [f for f in bytewise if f[0] is Direction.SERVER]
    for i in range(max(len(client), len(server))):
        if i < len(server):
            yield server[i]
        if i < len(client):
            yield client[i]


def _comparable(events: list[SessionEvent]) -> list[SessionEvent]:
    # Notes carry the time they were noticed, which depends on arrival order; compare reasons.
    return [
        SessionNote(ts=0.0, reason=e.reason, skipped=e.skipped) if isinstance(e, SessionNote) else e
        for e in events
    ]


def auths(events: list[SessionEvent]) -> list[AuthFinished]:
    """The AUTH attempts among ``events``."""
    return [e for e in events if isinstance(e, AuthFinished)]


def tls_events(events: list[SessionEvent]) -> list[TlsStarted]:
    """The TLS events among ``events``."""
    return [e for e in events if isinstance(e, TlsStarted)]


def notes(events: list[SessionEvent]) -> list[str]:
    """The reasons of the notes among ``events``."""
    return [e.reason for e in events if isinstance(e, SessionNote)]


def feed_three_ways(data: bytes, parse: Callable[[list[bytes]], T], *, trailing: bytes = b"") -> T:
    """``parse`` applied to ``data`` whole, one byte at a time, and followed by ``trailing``.

    ``parse`` gets the chunks to feed and returns its result; the three results must be equal
    (the trailing bytes must not change what ``data`` gives).
    """
    whole = parse([data])
    assert parse([data[i : i + 1] for i in range(len(data))]) == whole
    assert parse([data, trailing]) == whole
    return whole
