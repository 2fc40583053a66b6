"""TCP reassembly: captured segments in, ordered bytes per connection side out (sans-IO).

:class:`Reassembler` is fed :class:`~authaudit.pcap.ip.TcpSegment` values in capture order and
answers with :mod:`~authaudit.pcap.stream` events. It never reads files or clocks: time is the
capture time of the segments. Every :class:`Connection` it reports gets exactly one
:class:`StreamClosed`, after which no event names it again.

Rules:

* Each side keeps its own next expected sequence number (modulo 2**32, so wraparound is
  ordinary). A segment exactly at that number, without SYN/FIN/RST, on a side with nothing
  buffered, is delivered at once: that is the fast path.
* Bytes before the expected number are retransmissions: dropped, but compared with the last
  delivered segment of that side (kept by reference) and with buffered data; differing content
  counts in ``Connection.overlaps``. The first copy of any byte wins.
* Bytes after it are buffered (each piece costs its length + 64 against
  ``max_buffered_per_side``) and delivered when the hole fills. Past the limit, or when the
  connection ends with a hole, the hole becomes a :class:`StreamGap` and the buffered bytes follow.
  So does a hole the receiver has acknowledged (bytes sent but never captured), once its ACKs are
  still arriving ``ack_grace`` seconds after the first: the capture can show an ACK before the
  data it acknowledges, so one ACK alone proves nothing.
* A connection starts with a SYN or with the first segment carrying data (a capture that starts
  mid-stream); bare ACK/FIN/RST segments of unknown connections are only counted. Side A is the
  SYN sender (or the receiver of a SYN-ACK whose SYN was missed); without a handshake, the endpoint
  with the higher port (a tie: the first sender). A side's stream starts at its SYN, else at its
  first segment with data or FIN (a bare ACK may overtake earlier data). SYN and FIN take one
  sequence number; data on a SYN (TCP Fast Open) is delivered.
* An RST closes the connection, and so do FINs from both sides (a hole still open then is
  reported as a gap, and the buffered bytes after it follow). Afterwards the 4-tuple is
  remembered (``idle_timeout``) so late retransmissions and ACKs are dropped, and a new SYN on
  it starts a new connection. A SYN with a new sequence number on a live 4-tuple closes the old
  connection (reason ``IDLE``, with a note) and starts a new one.
* A connection with no packet for ``idle_timeout`` seconds of capture time is closed (``IDLE``);
  the check runs whenever capture time has moved ``idle_timeout / 8`` on. With ``max_flows``
  connections open, a new one first closes the least recently active one (``FLOW_LIMIT``).
* :meth:`Reassembler.ignore` stops following a connection or one side: its buffers are freed and
  its segments cost one dict lookup, but FIN/RST/expiry still close it.

Defaults: ``max_flows=100_000``, ``max_buffered_per_side=1 MiB``, ``idle_timeout=300 s``,
``ack_grace=1 s`` (how long ACKs must keep proving a hole lost before it becomes a gap). A
connection costs about 0.9 KB, plus the last delivered segment of each side (kept by reference)
and whatever it buffers.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

from authaudit.pcap._sides import HALF, MASK, Flow, Half, Key
from authaudit.pcap.ip import ACK, FIN, RST, SYN, TcpSegment
from authaudit.pcap.stream import (
    CloseReason,
    Connection,
    Side,
    StreamClosed,
    StreamData,
    StreamEvent,
)

__all__ = ["Reassembler"]


class Reassembler:
    """Follows TCP connections in one capture; see the module docstring for the rules."""

    def __init__(
        self,
        *,
        max_flows: int = 100_000,
        max_buffered_per_side: int = 1 << 20,
        idle_timeout: float = 300.0,
        ack_grace: float = 1.0,
    ) -> None:
        self.max_flows = max(1, max_flows)
        self.max_buffered_per_side = max_buffered_per_side
        self.idle_timeout = idle_timeout
        self.ack_grace = ack_grace
        self.counters: Counter[str] = Counter()
        """Segments dropped outside any connection, retransmissions and the like, by reason."""
        self._halves: dict[Key, Half] = {}
        self._lru: OrderedDict[Flow, None] = OrderedDict()
        self._touch = self._lru.move_to_end
        self._closed: OrderedDict[Key, tuple[float, int]] = OrderedDict()
        """Recently closed 4-tuples: (close time, ISN of side A)."""
        self._next_ident = 0
        self._sweep_every = max(idle_timeout / 8, 1e-3)
        self._sweep_at = float("-inf")

    @property
    def flows(self) -> int:
        """Connections currently followed."""
        return len(self._lru)

    def buffered(self) -> int:
        """Bytes held in out-of-order buffers across all connections (walks every flow)."""
        return sum(f.a.buffered + f.b.buffered for f in self._lru)

    def feed(self, seg: TcpSegment) -> list[StreamEvent]:
        """Events caused by one captured segment (often none), in order."""
        ts, src, sport, dst, dport, seq, _ack, flags, payload = seg
        half = self._halves.get((src, sport, dst, dport))
        if half is None or ts >= self._sweep_at:
            return self._feed_slow(seg)
        flow = half.flow
        flow.last_ts = ts
        self._touch(flow)
        conn = half.conn
        conn.packets += 1
        if seq == half.nxt and not (flags & 7 or half.slow):  # the fast path
            if not payload:
                return []
            half.nxt = (seq + len(payload)) & MASK
            half.last = payload
            return [StreamData(conn, half.side, ts, payload)]
        if half.ignored and not flags & (FIN | RST):
            return []
        events: list[StreamEvent] = []
        self._slow(half, seg, events)
        return events

    def _feed_slow(self, seg: TcpSegment) -> list[StreamEvent]:
        """feed() for segments of unknown connections, or when idle connections are due."""
        events: list[StreamEvent] = []
        ts = seg.ts
        if ts >= self._sweep_at:
            self._expire(ts, events)
        half = self._halves.get((seg.src, seg.sport, seg.dst, seg.dport))
        if half is None:
            return self._unknown(seg, events)
        half.flow.last_ts = ts
        self._touch(half.flow)
        half.conn.packets += 1
        self._slow(half, seg, events)
        return events

    def close_all(self, ts: float) -> list[StreamEvent]:
        """End of capture: flush and close every connection (``END_OF_CAPTURE``)."""
        events: list[StreamEvent] = []
        for flow in list(self._lru):
            self._close(flow, ts, CloseReason.END_OF_CAPTURE, events)
        self._closed.clear()
        return events

    def ignore(self, conn: Connection, side: Side | None = None) -> None:
        """Stop delivering bytes of ``conn`` (one side, or both); it is still closed as usual."""
        half = self._halves.get((conn.a_ip, conn.a_port, conn.b_ip, conn.b_port))
        if half is None or half.conn is not conn:
            return
        flow = half.flow
        for h in (flow.a, flow.b) if side is None else (flow.a if side is Side.A else flow.b,):
            h.ignored = h.slow = True
            h.buf = None
            h.buffered = 0
            h.last = b""

    # --- slow path -----------------------------------------------------------------------------

    def _unknown(self, seg: TcpSegment, events: list[StreamEvent]) -> list[StreamEvent]:
        """A segment of no open connection: maybe start one."""
        ts, src, sport, dst, dport, seq, _ack, flags, payload = seg
        key = (src, sport, dst, dport)
        if src == dst and sport == dport:
            self.counters["segment addressed to its own source"] += 1
            return events
        pure_syn = flags & (SYN | ACK | RST) == SYN
        tomb = self._closed.get(key)
        if tomb is not None:
            if not pure_syn or seq == tomb[1]:
                self.counters["segment after close"] += 1
                return events
            del self._closed[key]
            self._closed.pop((dst, dport, src, sport), None)
        if flags & RST or not (payload or flags & SYN):
            self.counters["segment outside a connection"] += 1
            return events
        if len(self._lru) >= self.max_flows:
            self._close(next(iter(self._lru)), ts, CloseReason.FLOW_LIMIT, events)
        src_is_a = not flags & ACK if flags & SYN else sport >= dport
        key_a = key if src_is_a else (dst, dport, src, sport)
        conn = Connection(self._next_ident, key_a[0], key_a[1], key_a[2], key_a[3], ts,
                          syn_seen=bool(flags & SYN))
        if flags & SYN and not src_is_a:
            conn.notes.append("SYN not captured; side A is the receiver of the SYN-ACK")
        self._next_ident += 1
        flow = Flow(conn, key_a, ts)
        self._halves[flow.a.key] = flow.a
        self._halves[flow.b.key] = flow.b
        self._lru[flow] = None
        half = flow.a if src_is_a else flow.b
        conn.packets += 1
        self._slow(half, seg, events)
        return events

    def _slow(self, half: Half, seg: TcpSegment, events: list[StreamEvent]) -> None:
        ts, _src, _sport, _dst, _dport, seq, ack, flags, payload = seg
        flow = half.flow
        if flags & RST:
            self._close(flow, ts, CloseReason.RST, events)
            return
        other = half.other()
        if other.buf is not None and flags & ACK:
            self._acked(other, ack, ts, events)
        if half.ignored:
            if flags & FIN:
                half.fin = seq
        else:
            start = seq
            if flags & SYN:
                if half.nxt < 0:
                    half.isn = seq
                elif seq != half.isn:
                    self._unexpected_syn(half, seg, events)
                    return
                start = (seq + 1) & MASK
            if half.nxt < 0 and (payload or flags & (SYN | FIN)):
                half.nxt = start  # not from a bare ACK: data sent before it may come later
            if half.nxt >= 0:
                if payload:
                    self._accept(half, start, payload, ts, events)
                if flags & FIN and half.fin < 0:
                    half.fin = (start + len(payload)) & MASK
                half.reach_fin()
        if half.fin >= 0 and other.fin >= 0:
            self._close(flow, ts, CloseReason.FIN, events)
            return
        half.calm()
        other.calm()

    def _unexpected_syn(self, half: Half, seg: TcpSegment, events: list[StreamEvent]) -> None:
        """A SYN that does not repeat this side's first one: a new connection, or noise."""
        if half.side is Side.A and not seg.flags & ACK:
            conn = half.conn
            conn.notes.append("superseded by a new SYN on the same 4-tuple")
            conn.packets -= 1
            self._close(half.flow, seg.ts, CloseReason.IDLE, events)
            self._unknown(seg, events)
        else:
            self.counters["SYN with an unexpected sequence number"] += 1

    def _acked(self, half: Half, ack: int, ts: float, events: list[StreamEvent]) -> None:
        """The peer acknowledged bytes of ``half`` beyond a hole: they were sent but not captured.

        The capture may still hold them, just later (the capture point can reorder the two
        directions), so the hole is given up only when such ACKs keep coming ``ack_grace``
        seconds after the first one.
        """
        buf = half.buf  # a local: skip_hole below may empty half.buf, so it is never narrowed
        assert buf is not None
        ack_off = (ack - half.anchor) & MASK
        if not buf[0][0] <= ack_off < HALF:
            return
        if half.proof < 0:
            half.proof = ts
        elif ts - half.proof >= self.ack_grace:
            while buf is not None and buf[0][0] <= ack_off:
                half.skip_hole(ts, events)
                buf = half.buf

    def _accept(self, half: Half, start: int, data: bytes, ts: float,
                events: list[StreamEvent]) -> None:
        """Place payload bytes starting at sequence number ``start``."""
        nxt = half.nxt
        delta = (start - nxt) & MASK
        if delta >= HALF:
            delta -= 1 << 32
        if delta < 0:
            self.counters["retransmitted segment"] += 1
            half.check_old(delta, data[:-delta])
            if delta + len(data) <= 0:
                return
            data = data[-delta:]
            delta = 0
        if half.done:
            self.counters["data after FIN"] += 1
            return
        if delta == 0 and half.buf is None:
            half.nxt = (nxt + len(data)) & MASK
            half.last = data
            events.append(StreamData(half.conn, half.side, ts, data))
            return
        half.store(delta, data)
        half.drain(ts, events)
        while half.buf is not None and half.buffered > self.max_buffered_per_side:
            half.skip_hole(ts, events)

    def _close(self, flow: Flow, ts: float, reason: CloseReason,
               events: list[StreamEvent]) -> None:
        """Flush both sides, report the close, forget the flow (remembering FIN/RST 4-tuples)."""
        flow.a.flush(ts, events)
        flow.b.flush(ts, events)
        events.append(StreamClosed(flow.conn, ts, reason))
        del self._halves[flow.a.key], self._halves[flow.b.key], self._lru[flow]
        if reason in (CloseReason.FIN, CloseReason.RST):
            closed = self._closed
            closed[flow.a.key] = closed[flow.b.key] = (ts, flow.a.isn)
            while len(closed) > 2 * self.max_flows:
                closed.popitem(last=False)

    def _expire(self, now: float, events: list[StreamEvent]) -> None:
        """Close connections idle for ``idle_timeout``; forget old closed 4-tuples."""
        self._sweep_at = now + self._sweep_every
        cutoff = now - self.idle_timeout
        lru = self._lru
        while lru:
            flow = next(iter(lru))
            if flow.last_ts > cutoff:
                break
            self._close(flow, now, CloseReason.IDLE, events)
        closed = self._closed
        while closed and next(iter(closed.values()))[0] <= cutoff:
            closed.popitem(last=False)
