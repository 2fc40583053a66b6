"""Helpers to run a Reassembler over segments and look at what came out, for tests."""

from __future__ import annotations

from collections.abc import Iterable

from authaudit.pcap.ip import TcpSegment
from authaudit.pcap.reassembly import Reassembler
from authaudit.pcap.stream import StreamClosed, StreamData, StreamEvent, StreamGap

__all__ = ["Item", "check_contract", "feed", "render", "streams"]

Item = tuple[object, ...]


def feed(r: Reassembler, segs: Iterable[TcpSegment], end: float | None = None,
         ) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    for seg in segs:
        events.extend(r.feed(seg))
    if end is not None:
        events.extend(r.close_all(end))
    return events


def render(events: list[StreamEvent]) -> list[Item]:
    """Events as plain tuples: ("data", conn, side, bytes), ("gap", ...), ("closed", ...)."""
    out: list[Item] = []
    for e in events:
        if isinstance(e, StreamData):
            out.append(("data", e.conn.ident, e.side.name, e.data))
        elif isinstance(e, StreamGap):
            out.append(("gap", e.conn.ident, e.side.name, e.size))
        else:
            out.append(("closed", e.conn.ident, e.reason))
    return out


def streams(events: list[StreamEvent]) -> dict[tuple[int, str], list[bytes | int]]:
    """Bytes per (connection, side), contiguous data joined; gaps as their size."""
    out: dict[tuple[int, str], list[bytes | int]] = {}
    for e in events:
        if isinstance(e, StreamData | StreamGap):
            items = out.setdefault((e.conn.ident, e.side.name), [])
            if isinstance(e, StreamGap):
                items.append(e.size)
            elif items and isinstance(items[-1], bytes):
                items[-1] += e.data
            else:
                items.append(e.data)
    return out


def check_contract(events: list[StreamEvent]) -> None:
    """Every connection is closed exactly once, and nothing names it afterwards."""
    closed: set[int] = set()
    for e in events:
        assert id(e.conn) not in closed
        if isinstance(e, StreamClosed):
            closed.add(id(e.conn))
    assert closed == {id(e.conn) for e in events}
