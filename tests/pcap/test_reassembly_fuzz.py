"""Property tests of the reassembler: any order, lost segments, arbitrary input."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from authaudit.pcap.ip import ACK, FIN, PSH, RST, SYN, TcpSegment
from authaudit.pcap.reassembly import Reassembler
from authaudit.pcap.stream import CloseReason, Side, StreamClosed, StreamEvent
from tests.pcap.builders import Conversation, segment
from tests.pcap.events import check_contract, feed, render, streams

A, B = Side.A, Side.B


@st.composite
def conversations(draw: st.DrawFn) -> tuple[Conversation, bytes, bytes]:
    isn_c, isn_s = draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1))
    conv = Conversation(client_isn=isn_c, server_isn=isn_s)
    if draw(st.booleans()):
        conv.handshake()
    else:
        conv.start_midstream()
    sent = {True: b"", False: b""}
    for from_client, size, mss in draw(st.lists(st.tuples(st.booleans(), st.integers(1, 300),
                                                           st.integers(1, 120)), max_size=8)):
        data = bytes((len(sent[from_client]) + i) % 251 for i in range(size))
        conv.send(from_client, data, mss=mss)
        sent[from_client] += data
    if draw(st.booleans()):
        conv.close()
    return conv, sent[True], sent[False]


@settings(max_examples=200, deadline=None)
@given(conversations(), st.randoms(use_true_random=False), st.integers(0, 3))
def test_fuzz_complete_conversation_any_order(
    case: tuple[Conversation, bytes, bytes], rng: random.Random, copies: int
) -> None:
    """Handshake (or each side's first data segment) first, then anything in any order."""
    conv, client, server = case
    first: list[TcpSegment] = []
    for s in conv.segments:
        if s.flags & SYN or (s.payload and s.sport not in {f.sport for f in first if f.payload}
                             and not any(f.flags & SYN for f in conv.segments)):
            first.append(s)
    rest = [s for s in conv.segments if s not in first and not s.flags & FIN]
    rest = [s for s in rest for _ in range(1 + rng.randint(0, copies))]
    rng.shuffle(rest)
    ends = [s for s in conv.segments if s.flags & FIN]
    events = feed(Reassembler(), [*first, *rest, *ends], end=1e9)
    got = streams(events)
    assert got.get((0, "A"), [b""]) == [client] or (not client and (0, "A") not in got)
    assert got.get((0, "B"), [b""]) == [server] or (not server and (0, "B") not in got)
    check_contract(events)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 200), min_size=2, max_size=12), st.data())
def test_fuzz_lost_segment_becomes_exact_gap(sizes: list[int], data: st.DataObject) -> None:
    conv = Conversation(client_isn=data.draw(st.integers(0, 2**32 - 1))).handshake()
    sent = b""
    for size in sizes:
        chunk = bytes((len(sent) + i) % 251 for i in range(size))
        conv.send(True, chunk, ack=False)
        sent += chunk
    conv.close()
    body = conv.segments[3:-3]
    lost = data.draw(st.integers(0, len(body) - 1))
    kept = body[:lost] + body[lost + 1 :]
    data.draw(st.randoms(use_true_random=False)).shuffle(kept)
    events = feed(Reassembler(), [*conv.segments[:3], *kept, *conv.segments[-3:]])
    start = sum(sizes[:lost])
    expected: list[bytes | int] = [sent[:start], sizes[lost], sent[start + sizes[lost] :]]
    assert streams(events)[(0, "A")] == [x for x in expected if x != b""]
    assert render(events)[-1] == ("closed", 0, CloseReason.FIN)


_HOSTS = [("10.0.0.1", 1000), ("10.0.0.2", 25), ("10.0.0.3", 25)]


@st.composite
def junk_segments(draw: st.DrawFn) -> TcpSegment:
    src, dst = draw(st.sampled_from(_HOSTS)), draw(st.sampled_from(_HOSTS))
    return segment(src[0], src[1], dst[0], dst[1],
                   draw(st.one_of(st.integers(0, 2**32 - 1), st.integers(0, 300))),
                   draw(st.binary(max_size=150)),
                   flags=draw(st.sampled_from([ACK, PSH | ACK, SYN, SYN | ACK, FIN | ACK, RST,
                                               FIN | PSH | ACK, 0xFF])),
                   ack=draw(st.integers(0, 400)), ts=draw(st.floats(0, 1000)))


@settings(max_examples=300, deadline=None)
@given(st.lists(junk_segments(), max_size=40), st.integers(64, 2000), st.integers(1, 3),
       st.sets(st.integers(0, 6)), st.sampled_from([None, A, B]))
def test_fuzz_arbitrary_segments(segs: list[TcpSegment], limit: int, flows: int,
                                 ignored: set[int], side: Side | None) -> None:
    """Anything in: no exception, bounded buffers and flows, the event contract holds."""
    r = Reassembler(max_buffered_per_side=limit, max_flows=flows, idle_timeout=100.0)
    events: list[StreamEvent] = []
    for seg in segs:
        new = r.feed(seg)
        events.extend(new)
        for event in new:
            if event.conn.ident in ignored and not isinstance(event, StreamClosed):
                r.ignore(event.conn, side)
        assert r.buffered() <= 2 * flows * limit
        assert r.flows <= flows
    events.extend(r.close_all(2000.0))
    check_contract(events)
    assert (r.flows, r.buffered()) == (0, 0)
