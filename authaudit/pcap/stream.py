"""What the TCP reassembler hands to the protocol layer: ordered bytes per connection side.

A :class:`Connection` is one TCP connection between two endpoints. Its sides are named by who
opened it: ``Side.A`` is the endpoint that sent the first SYN when the handshake was captured;
without a SYN, ``A`` is the endpoint with the higher port number (ephemeral ports are usually the
client's). The protocol layer may decide by content that ``A`` is really the server.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "CloseReason",
    "Connection",
    "Side",
    "StreamClosed",
    "StreamData",
    "StreamEvent",
    "StreamGap",
]


class Side(enum.IntEnum):
    """One direction of a connection: the bytes sent by endpoint A or by endpoint B."""

    A = 0
    B = 1

    @property
    def other(self) -> Side:
        """The opposite side."""
        return Side.B if self is Side.A else Side.A


class CloseReason(enum.StrEnum):
    """Why the reassembler stopped following a connection."""

    FIN = "fin"
    RST = "rst"
    IDLE = "idle timeout"
    END_OF_CAPTURE = "end of capture"
    FLOW_LIMIT = "flow limit reached"
    BUFFER_LIMIT = "buffer limit reached"


@dataclass(slots=True, eq=False)
class Connection:
    """One TCP connection; identity is the object itself (a 4-tuple can be reused later)."""

    ident: int
    """Running number of the connection in the capture, from 0."""
    a_ip: str
    a_port: int
    b_ip: str
    b_port: int
    first_seen: float
    """Capture timestamp (seconds since the epoch) of the first packet."""
    syn_seen: bool = False
    """True when the handshake was captured, so side A is known to be the initiator."""
    packets: int = 0
    overlaps: int = 0
    """Segments whose bytes conflicted with bytes already delivered (first copy wins)."""
    gaps: int = 0
    notes: list[str] = field(default_factory=list)

    def endpoint(self, side: Side) -> tuple[str, int]:
        """(ip, port) of the endpoint that sends ``side``'s bytes."""
        return (self.a_ip, self.a_port) if side is Side.A else (self.b_ip, self.b_port)


@dataclass(slots=True, frozen=True)
class StreamData:
    """In-order bytes from one side of a connection."""

    conn: Connection
    side: Side
    ts: float
    """Capture timestamp of the packet that completed these bytes."""
    data: bytes


@dataclass(slots=True, frozen=True)
class StreamGap:
    """Bytes that were never captured on one side; the stream continues after them."""

    conn: Connection
    side: Side
    ts: float
    size: int


@dataclass(slots=True, frozen=True)
class StreamClosed:
    """The reassembler is done with a connection; no more events for it follow."""

    conn: Connection
    ts: float
    reason: CloseReason


StreamEvent = StreamData | StreamGap | StreamClosed
