"""Per-connection state of the reassembler: both sides, their next sequence numbers and their
out-of-order buffers (see :mod:`authaudit.pcap.reassembly` for the rules they follow)."""

from __future__ import annotations

from bisect import bisect_right, insort
from operator import itemgetter

from authaudit.pcap.stream import Connection, Side, StreamData, StreamEvent, StreamGap

__all__ = ["HALF", "MASK", "Flow", "Half", "Key"]

MASK = 0xFFFFFFFF
HALF = 0x80000000
"""Sequence-number distances from HALF on (mod 2**32) point backwards."""
PIECE_COST = 64
"""What each buffered piece costs against the buffer limit beyond its bytes."""
_start = itemgetter(0)


Key = tuple[str, int, str, int]
"""(source ip, source port, destination ip, destination port) of one direction."""


class Flow:
    """The reassembler's state for one connection: both sides and the last activity time."""

    __slots__ = ("a", "b", "conn", "last_ts")

    def __init__(self, conn: Connection, key_a: Key, ts: float) -> None:
        self.conn = conn
        self.last_ts = ts
        self.a = Half(self, Side.A, key_a)
        self.b = Half(self, Side.B, (key_a[2], key_a[3], key_a[0], key_a[1]))


class Half:
    """One side of a connection: the bytes one endpoint sends."""

    __slots__ = ("anchor", "buf", "buffered", "conn", "done", "fin", "flow", "ignored", "isn",
                 "key", "last", "nxt", "proof", "side", "slow")

    def __init__(self, flow: Flow, side: Side, key: Key) -> None:
        self.flow = flow
        self.conn = flow.conn
        self.side = side
        self.key = key
        self.nxt = -1
        """Next expected sequence number; -1 until this side's first segment."""
        self.isn = -1
        self.slow = True
        """True when segments cannot take the fast path (see ``calm``)."""
        self.ignored = False
        self.fin = -1
        """Sequence number of this side's FIN once seen, else -1."""
        self.done = False
        """Every byte up to the FIN has been delivered; later data is dropped."""
        self.buf: list[tuple[int, bytes]] | None = None
        """Out-of-order pieces, sorted, not overlapping; offsets from ``anchor``."""
        self.anchor = 0
        self.buffered = 0
        self.proof = -1.0
        """Capture time of the first ACK proving the first hole lost, else -1."""
        self.last = b""
        """The most recently delivered bytes (they end at ``nxt``), to check retransmissions."""

    def other(self) -> Half:
        """The opposite side of the same connection."""
        return self.flow.b if self.side is Side.A else self.flow.a

    def calm(self) -> None:
        """Decide whether this side's next segments may take the fast path.

        Not while this side is unknown, ignored, buffering or finishing, nor while the other side
        buffers (then this side's ACKs can prove a hole lost, see ``Reassembler._acked``).
        """
        self.slow = (self.nxt < 0 or self.ignored or self.buf is not None or self.fin >= 0
                     or self.other().buf is not None)

    def reach_fin(self) -> None:
        """Once every byte before the FIN is in, step over it."""
        if self.fin >= 0 and not self.done and self.nxt == self.fin:
            self.done = True
            self.nxt = (self.nxt + 1) & MASK

    def check_old(self, delta: int, old: bytes) -> None:
        """Count a conflict if bytes at ``delta`` (< 0, from nxt) differ from what was delivered."""
        last = self.last
        lo, hi = max(delta, -len(last)), min(delta + len(old), 0)
        if lo < hi and old[lo - delta : hi - delta] != last[lo + len(last) : hi + len(last)]:
            self.conn.overlaps += 1

    def store(self, delta: int, data: bytes) -> None:
        """Buffer ``data`` at ``delta`` (>= 0) after nxt; bytes already buffered win."""
        if self.buf is None:
            self.buf = []
            self.anchor = self.nxt
        buf = self.buf
        off = ((self.nxt - self.anchor) & MASK) + delta
        end = off + len(data)
        cur = off
        pieces: list[tuple[int, bytes]] = []
        conflict = False
        for piece_off, piece in buf[max(bisect_right(buf, off, key=_start) - 1, 0) :]:
            piece_end = piece_off + len(piece)
            if piece_off >= end:
                break
            if piece_end <= cur:
                continue
            if piece_off > cur:
                pieces.append((cur, data[cur - off : piece_off - off]))
            lo, hi = max(cur, piece_off), min(end, piece_end)
            if not conflict:
                conflict = data[lo - off : hi - off] != piece[lo - piece_off : hi - piece_off]
            cur = piece_end
        if cur < end:
            pieces.append((cur, data[cur - off :] if cur > off else data))
        if conflict:
            self.conn.overlaps += 1
        for piece_off, piece in pieces:
            insort(buf, (piece_off, piece), key=_start)
            self.buffered += len(piece) + PIECE_COST

    def drain(self, ts: float, events: list[StreamEvent]) -> None:
        """Deliver buffered pieces that now follow nxt without a hole."""
        buf = self.buf
        if buf is None:
            return
        base = (self.nxt - self.anchor) & MASK
        out: list[bytes] = []
        taken = 0
        for piece_off, piece in buf:
            if piece_off > base:
                break
            taken += 1
            self.buffered -= len(piece) + PIECE_COST
            if piece_off + len(piece) > base:
                out.append(piece[base - piece_off :] if piece_off < base else piece)
                base = piece_off + len(piece)
        del buf[:taken]
        if not buf:
            self.buf = None
            self.buffered = 0
            self.proof = -1.0
        if out:
            data = out[0] if len(out) == 1 else b"".join(out)
            self.nxt = (self.anchor + base) & MASK
            self.last = data
            events.append(StreamData(self.conn, self.side, ts, data))

    def skip_hole(self, ts: float, events: list[StreamEvent]) -> None:
        """Give up on the first hole: report it as a gap, then deliver what follows it."""
        assert self.buf is not None
        base = (self.nxt - self.anchor) & MASK
        first = self.buf[0][0]
        if first > base:
            events.append(StreamGap(self.conn, self.side, ts, first - base))
            self.conn.gaps += 1
            self.nxt = (self.anchor + first) & MASK
            self.last = b""
            self.proof = -1.0
        self.drain(ts, events)
        self.reach_fin()

    def flush(self, ts: float, events: list[StreamEvent]) -> None:
        """The connection ends: holes become gaps, buffered bytes are delivered."""
        while self.buf is not None:
            self.skip_hole(ts, events)
        missing = (self.fin - self.nxt) & MASK
        if self.fin >= 0 and not self.done and not self.ignored and 0 < missing < HALF:
            events.append(StreamGap(self.conn, self.side, ts, missing))  # just before the FIN
            self.conn.gaps += 1
        self.last = b""
