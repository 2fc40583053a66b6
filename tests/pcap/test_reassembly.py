"""TCP reassembly: ordering, retransmissions, overlaps, gaps, closing, limits, fuzzing."""

from __future__ import annotations

import random
import tracemalloc
from dataclasses import FrozenInstanceError

import pytest

from authaudit.pcap.ip import ACK, FIN, PSH, RST, SYN, TcpSegment
from authaudit.pcap.reassembly import Reassembler
from authaudit.pcap.stream import (
    CloseReason,
    Connection,
    Side,
    StreamData,
    StreamEvent,
)
from tests.pcap.builders import Conversation, segment
from tests.pcap.events import check_contract, feed, render, streams

A, B = Side.A, Side.B


def smtp(**kw: object) -> Conversation:
    conv = Conversation(**kw).handshake()  # type: ignore[arg-type]
    conv.send(False, b"220 mx ESMTP\r\n").send(True, b"EHLO me\r\n")
    conv.send(False, b"250 mx\r\n").send(True, b"AUTH LOGIN\r\n")
    return conv.close()


CLIENT = [b"EHLO me\r\nAUTH LOGIN\r\n"]
SERVER = [b"220 mx ESMTP\r\n250 mx\r\n"]


# --- the ordinary case ------------------------------------------------------------------------


def test_in_order_exact_events() -> None:
    conv = smtp()
    events = feed(Reassembler(), conv.segments)
    assert render(events) == [
        ("data", 0, "B", b"220 mx ESMTP\r\n"),
        ("data", 0, "A", b"EHLO me\r\n"),
        ("data", 0, "B", b"250 mx\r\n"),
        ("data", 0, "A", b"AUTH LOGIN\r\n"),
        ("closed", 0, CloseReason.FIN),
    ]
    conn = events[0].conn
    assert (conn.a_ip, conn.a_port, conn.b_ip, conn.b_port) == ("10.0.0.1", 40000, "10.0.0.2", 25)
    assert (conn.syn_seen, conn.first_seen, conn.overlaps, conn.gaps) == (True, 100.0, 0, 0)
    assert conn.packets == len(conv.segments) - 1  # the last ACK comes after the close
    assert [e.ts for e in events] == [conv.segments[i].ts for i in (3, 5, 7, 9, 12)]


def test_reordered_segments() -> None:
    conv = Conversation().handshake()
    conv.send(True, bytes(range(256)) * 20, mss=100, ack=False).close()
    segs = conv.segments
    shuffled = segs[:3] + random.Random(5).sample(  # noqa: S311 - a fixed test order
        segs[3:-3], len(segs) - 6) + segs[-3:]
    events = feed(Reassembler(), shuffled)
    assert streams(events) == {(0, "A"): [bytes(range(256)) * 20]}
    assert events[-1].conn.gaps == 0
    assert render(events)[-1] == ("closed", 0, CloseReason.FIN)


def test_retransmissions_dropped() -> None:
    conv = Conversation().handshake().send(True, b"abcdefghij" * 30, mss=50).close()
    doubled = [s for s in conv.segments for _ in (0, 1)]
    r = Reassembler()
    events = feed(r, doubled)
    assert streams(events) == {(0, "A"): [b"abcdefghij" * 30]}
    assert events[-1].conn.overlaps == 0
    assert r.counters["retransmitted segment"] == 6


def test_whole_shuffled_duplicated_same_bytes() -> None:
    conv = smtp(client_isn=2**32 - 7)
    segs = conv.segments
    rng = random.Random(1)  # noqa: S311 - a fixed test order
    middle = [s for s in segs[3:-3] for _ in range(rng.randint(1, 3))]
    rng.shuffle(middle)
    events = feed(Reassembler(), [*segs[:3], *middle, *segs[-3:]])
    assert streams(events) == {(0, "A"): CLIENT, (0, "B"): SERVER}
    check_contract(events)


# --- overlaps: the first copy wins ------------------------------------------------------------

CLI, SRV = ("10.0.0.1", 40000), ("10.0.0.2", 25)


def c2s(seq: int, data: bytes = b"", flags: int = PSH | ACK, ts: float = 1.0) -> TcpSegment:
    return segment(*CLI, *SRV, seq, data, flags=flags, ts=ts)


def s2c(seq: int, data: bytes = b"", flags: int = PSH | ACK, ts: float = 1.0,
        ack: int = 0) -> TcpSegment:
    return segment(*SRV, *CLI, seq, data, flags=flags, ts=ts, ack=ack)


def test_conflicting_retransmission_counted_first_kept() -> None:
    events = feed(Reassembler(), [c2s(100, b"hello "), c2s(100, b"HELLO "), c2s(106, b"world")])
    assert streams(events) == {(0, "A"): [b"hello world"]}
    assert events[0].conn.overlaps == 1


def test_partial_overlap_delivers_only_new_bytes() -> None:
    events = feed(Reassembler(), [c2s(100, b"abcd"), c2s(102, b"CDef")])
    assert render(events) == [("data", 0, "A", b"abcd"), ("data", 0, "A", b"ef")]
    assert events[0].conn.overlaps == 1


def test_buffered_copy_beats_later_in_order_copy() -> None:
    events = feed(Reassembler(), [c2s(100, b"ab"), c2s(104, b"EF"), c2s(102, b"cdefgh")])
    assert streams(events) == {(0, "A"): [b"abcdEFgh"]}
    assert events[0].conn.overlaps == 1


def test_overlapping_out_of_order_pieces() -> None:
    segs = [c2s(100, b"0"), c2s(105, b"56"), c2s(103, b"34567"), c2s(104, b"4X6"),
            c2s(101, b"12")]
    events = feed(Reassembler(), segs)
    assert streams(events) == {(0, "A"): [b"01234567"]}
    assert events[0].conn.overlaps == 1


def test_corpus_style_overlap_server_stream() -> None:
    """Like smtp-auth-login_server-stream-overlap: later segments rewrite an early big one."""
    big = b"220 " + b"A" * 996
    segs = [s2c(5000, big), c2s(100, b"EHLO x\r\n"), s2c(5000 + 4, b"334 VXNlcm5hbWU6\r\n")]
    events = feed(Reassembler(), segs)
    assert streams(events) == {(0, "B"): [big], (0, "A"): [b"EHLO x\r\n"]}
    assert events[0].conn.overlaps == 1


# --- gaps -----------------------------------------------------------------------------------


def test_gap_reported_at_close_then_data() -> None:
    conv = Conversation().handshake().send(True, b"x" * 300, mss=100, ack=False).close()
    segs = [s for s in conv.segments if s.payload != b"x" * 100 or s.seq != 1101]
    events = feed(Reassembler(), segs)
    assert render(events) == [
        ("data", 0, "A", b"x" * 100),
        ("gap", 0, "A", 100),
        ("data", 0, "A", b"x" * 100),
        ("closed", 0, CloseReason.FIN),
    ]
    assert events[-1].conn.gaps == 1


def test_rst_flushes_hole() -> None:
    events = feed(Reassembler(), [c2s(100, b"ab"), c2s(110, b"zz"), s2c(7, flags=RST | ACK)])
    assert render(events) == [
        ("data", 0, "A", b"ab"), ("gap", 0, "A", 8), ("data", 0, "A", b"zz"),
        ("closed", 0, CloseReason.RST),
    ]


def test_buffer_limit_gives_up_on_hole() -> None:
    r = Reassembler(max_buffered_per_side=250)
    segs = [c2s(100, b"a"), *(c2s(200 + 100 * i, bytes([66 + i]) * 100) for i in range(3))]
    events = feed(r, segs)
    assert render(events) == [
        ("data", 0, "A", b"a"), ("gap", 0, "A", 99),
        ("data", 0, "A", b"B" * 100 + b"C" * 100), ("data", 0, "A", b"D" * 100),
    ]
    assert r.buffered() == 0
    assert render(feed(r, [c2s(500, b"E" * 100)])) == [("data", 0, "A", b"E" * 100)]


def test_ack_proves_hole_lost_after_grace() -> None:
    r = Reassembler(ack_grace=1.0)
    segs = [c2s(100, b"ab", ts=1.0), c2s(110, b"zz", ts=1.1),
            s2c(7, flags=ACK, ack=112, ts=1.2), s2c(7, flags=ACK, ack=112, ts=1.5)]
    assert render(feed(r, segs)) == [("data", 0, "A", b"ab")]  # within the grace: wait
    assert render(feed(r, [s2c(7, flags=ACK, ack=112, ts=2.3)])) == [
        ("gap", 0, "A", 8), ("data", 0, "A", b"zz")]


def test_ack_before_data_it_acknowledges_is_not_a_gap() -> None:
    segs = [c2s(100, b"ab", ts=1.0), c2s(104, b"ef", ts=1.1), s2c(7, flags=ACK, ack=106, ts=1.1),
            c2s(102, b"cd", ts=1.2)]
    assert streams(feed(Reassembler(), segs)) == {(0, "A"): [b"abcdef"]}


# --- starting and ending --------------------------------------------------------------------


def test_midstream_higher_port_is_side_a() -> None:
    events = feed(Reassembler(), [s2c(900, b"250 ok\r\n"), c2s(50, b"MAIL\r\n")], end=9.0)
    conn = events[0].conn
    assert (conn.a_port, conn.b_port, conn.syn_seen) == (40000, 25, False)
    assert render(events) == [("data", 0, "B", b"250 ok\r\n"), ("data", 0, "A", b"MAIL\r\n"),
                              ("closed", 0, CloseReason.END_OF_CAPTURE)]


def test_midstream_same_ports_first_sender_is_side_a() -> None:
    segs = [segment("10.0.0.9", 25, "10.0.0.1", 25, 1, b"x"),
            segment("10.0.0.1", 25, "10.0.0.9", 25, 1, b"y")]
    events = feed(Reassembler(), segs)
    assert (events[0].conn.a_ip, render(events)) == (
        "10.0.0.9", [("data", 0, "A", b"x"), ("data", 0, "B", b"y")])


def test_bare_segments_do_not_start_connections() -> None:
    r = Reassembler()
    assert feed(r, [c2s(1, flags=ACK), c2s(1, flags=FIN | ACK), c2s(1, flags=RST)]) == []
    assert (r.flows, r.counters["segment outside a connection"]) == (0, 3)


def test_syn_ack_without_syn() -> None:
    events = feed(Reassembler(), [s2c(4999, flags=SYN | ACK), c2s(1001, b"EHLO\r\n")], end=5.0)
    conn = events[0].conn
    assert (conn.a_port, conn.syn_seen) == (40000, True)
    assert conn.notes == ["SYN not captured; side A is the receiver of the SYN-ACK"]
    assert render(events)[0] == ("data", 0, "A", b"EHLO\r\n")


def test_sequence_wraparound() -> None:
    conv = Conversation(client_isn=2**32 - 10, server_isn=2**32 - 1).handshake()
    conv.send(True, b"0123456789abcdef", mss=4, ack=False).send(False, b"xyz" * 5, mss=4)
    segs = conv.close().segments
    events = feed(Reassembler(), [*segs[:3], *reversed(segs[3:-3]), *segs[-3:]])
    assert streams(events) == {(0, "B"): [b"xyz" * 5], (0, "A"): [b"0123456789abcdef"]}
    assert render(events)[-1] == ("closed", 0, CloseReason.FIN)


def test_fast_open_payload_on_syn_and_syn_ack() -> None:
    segs = [c2s(999, b"EHLO\r\n", flags=SYN), s2c(4999, b"220\r\n", flags=SYN | ACK),
            c2s(1006, b"QUIT\r\n", flags=ACK | PSH), c2s(999, b"EHLO\r\n", flags=SYN)]
    events = feed(Reassembler(), segs)
    assert streams(events) == {(0, "A"): [b"EHLO\r\nQUIT\r\n"], (0, "B"): [b"220\r\n"]}


def test_fins_from_both_sides_close_and_report_a_hole() -> None:
    segs = [c2s(100, b"ab"), c2s(104, flags=FIN | ACK), s2c(7, flags=FIN | ACK, ts=3.0)]
    events = feed(Reassembler(), segs)
    assert render(events) == [("data", 0, "A", b"ab"), ("gap", 0, "A", 2),
                              ("closed", 0, CloseReason.FIN)]
    assert events[-1].ts == 3.0


def test_fin_before_the_last_data_of_its_side() -> None:
    segs = [c2s(100, b"ab"), c2s(104, flags=FIN | ACK), c2s(102, b"cd"), c2s(104, b"zz"),
            s2c(7, flags=FIN | ACK)]
    r = Reassembler()
    assert render(feed(r, segs)) == [("data", 0, "A", b"ab"), ("data", 0, "A", b"cd"),
                                     ("closed", 0, CloseReason.FIN)]
    assert r.counters["data after FIN"] == 1


def test_late_packets_after_close_and_a_new_syn() -> None:
    conv = smtp()
    r = Reassembler()
    first = feed(r, conv.segments)
    old_syn = conv.segments[0]
    late = feed(r, [conv.segments[5], old_syn])
    assert late == []
    assert r.counters["segment after close"] == 3  # last ACK, late data, old SYN
    again = smtp(client_isn=77777, ts=200.0)
    second = feed(r, again.segments)
    assert streams(second) == {(1, "A"): CLIENT, (1, "B"): SERVER}
    assert first[0].conn is not second[0].conn


def test_new_syn_on_live_tuple_supersedes() -> None:
    r = Reassembler()
    feed(r, [c2s(100, b"old")])
    events = feed(r, [c2s(5000, flags=SYN), c2s(5001, b"new")])
    assert render(events) == [("closed", 0, CloseReason.IDLE), ("data", 1, "A", b"new")]
    assert events[0].conn.notes == ["superseded by a new SYN on the same 4-tuple"]


def test_idle_expiry() -> None:
    r = Reassembler(idle_timeout=300.0)
    feed(r, [c2s(100, b"a", ts=0.0)])
    assert feed(r, [s2c(1, b"b", ts=250.0)]) != []
    other = segment("10.9.9.9", 5000, "10.0.0.2", 25, 1, b"z", ts=600.0)
    events = feed(r, [other])
    assert render(events) == [("closed", 0, CloseReason.IDLE), ("data", 1, "A", b"z")]
    assert events[0].ts == 600.0


def test_close_all_flushes_holes() -> None:
    segs = [c2s(100, b"ab"), c2s(104, b"ef", flags=FIN | ACK | PSH), s2c(7, b"220")]
    events = feed(Reassembler(), segs, end=50.0)
    assert render(events) == [
        ("data", 0, "A", b"ab"), ("data", 0, "B", b"220"), ("gap", 0, "A", 2),
        ("data", 0, "A", b"ef"), ("closed", 0, CloseReason.END_OF_CAPTURE),
    ]
    assert events[-1].ts == 50.0


def test_flow_limit_evicts_least_recently_active() -> None:
    r = Reassembler(max_flows=2)
    one = segment("10.0.0.1", 1001, "10.0.0.2", 25, 1, b"1", ts=1.0)
    two = segment("10.0.0.1", 1002, "10.0.0.2", 25, 1, b"2", ts=2.0)
    one_again = segment("10.0.0.1", 1001, "10.0.0.2", 25, 2, b"1", ts=3.0)
    three = segment("10.0.0.1", 1003, "10.0.0.2", 25, 1, b"3", ts=4.0)
    events = feed(r, [one, two, one_again, three])
    assert render(events)[-2:] == [("closed", 1, CloseReason.FLOW_LIMIT), ("data", 2, "A", b"3")]
    assert r.flows == 2


# --- ignoring connections -------------------------------------------------------------------


def test_ignore_connection() -> None:
    conv = Conversation(server=("10.0.0.2", 80)).handshake()
    conv.send(True, b"GET / HTTP/1.1\r\n\r\n").send(False, b"x" * 5000, mss=1000)
    conv.close()
    r = Reassembler()
    events: list[StreamEvent] = []
    for seg in conv.segments:
        for event in r.feed(seg):
            events.append(event)
            if isinstance(event, StreamData):
                r.ignore(event.conn)
    assert render(events) == [("data", 0, "A", b"GET / HTTP/1.1\r\n\r\n"),
                              ("closed", 0, CloseReason.FIN)]
    assert r.flows == 0


def test_ignore_one_side_and_frees_buffers() -> None:
    r = Reassembler()
    events = feed(r, [c2s(100, b"a"), s2c(7, b"b"), s2c(9, b"d")])
    assert r.buffered() > 0
    r.ignore(events[0].conn, B)
    assert r.buffered() == 0
    later = feed(r, [s2c(8, b"c"), c2s(101, b"z"), c2s(102, flags=FIN | ACK),
                     s2c(10, flags=FIN | ACK)])
    assert render(later) == [("data", 0, "A", b"z"), ("closed", 0, CloseReason.FIN)]


def test_ignore_unknown_or_closed_connection_is_harmless() -> None:
    r = Reassembler()
    r.ignore(Connection(0, "1.1.1.1", 1, "2.2.2.2", 2, 0.0))
    events = feed(r, [c2s(1, b"x"), c2s(2, flags=RST)])
    r.ignore(events[0].conn)
    assert r.flows == 0


# --- memory ---------------------------------------------------------------------------------


def test_memory_per_flow_is_small() -> None:
    r = Reassembler()
    segs = [segment(f"10.1.{i >> 8}.{i & 255}", 40000, "10.0.0.2", 25, 1, b"x")
            for i in range(2000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    feed(r, segs)
    per_flow = (tracemalloc.get_traced_memory()[0] - before) / 2000
    tracemalloc.stop()
    assert per_flow < 1500


def test_events_are_frozen_records() -> None:
    event = Reassembler().feed(c2s(1, b"x"))[0]
    assert isinstance(event, StreamData)
    with pytest.raises(FrozenInstanceError):
        event.data = b"y"  # type: ignore[misc]
