"""IP/TCP decoding: segments with exact fields, reasons for everything else, fast = slow path."""

from __future__ import annotations

import struct
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.pcap import ip
from authaudit.pcap.ip import (
    ACK,
    OTHER_SHARD,
    PSH,
    SYN,
    TRUNCATED_IP,
    TcpSegment,
    decode_frame,
    decode_ip,
    segments,
)
from authaudit.pcap.reader import Frame, iter_frames
from tests.pcap.builders import (
    AH,
    DEST_OPTS,
    FRAGMENT,
    HOP_BY_HOP,
    PUBLIC_CORPUS,
    ROUTING,
    ethernet,
    fragment_body,
    ipv4,
    ipv6,
    loop,
    null,
    sll,
    sll2,
    tcp,
)

CORPUS = PUBLIC_CORPUS
SEG = tcp(b"AUTH LOGIN\r\n", 49152, 587, seq=0xFFFFFFF0, ack=77, flags=PSH | ACK)


def test_ipv4_segment_exact() -> None:
    assert decode_ip(ipv4(SEG, "192.0.2.1", "198.51.100.7"), 0, 12.5) == TcpSegment(
        12.5, "192.0.2.1", 49152, "198.51.100.7", 587, 0xFFFFFFF0, 77, PSH | ACK,
        b"AUTH LOGIN\r\n")


def test_ipv4_padding_trimmed_by_total_length() -> None:
    frame = ethernet(ipv4(tcp(b"", 1, 2, flags=SYN)), trailer=b"\x00" * 6)
    result = decode_ip(frame, 14, 0.0)
    assert isinstance(result, TcpSegment)
    assert (result.payload, result.flags) == (b"", SYN)


def test_ipv4_options_and_tcp_options() -> None:
    packet = ipv4(tcp(b"hi", options=b"\x02\x04\x05\xb4"), options=b"\x01\x01\x01\x00")
    result = decode_ip(packet, 0, 0.0)
    assert isinstance(result, TcpSegment)
    assert result.payload == b"hi"


def test_ipv4_total_length_zero_means_tso() -> None:
    result = decode_ip(ipv4(tcp(b"x" * 3000), total_length=0), 0, 0.0)
    assert isinstance(result, TcpSegment)
    assert result.payload == b"x" * 3000


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (ipv4(SEG, frag=0x2000), "IPv4 fragment"),  # more fragments
        (ipv4(SEG, frag=0x0010), "IPv4 fragment"),  # offset 16 * 8
        (ipv4(b"\x00" * 8, proto=17), "not TCP (UDP)"),
        (ipv4(b"\x00" * 8, proto=1), "not TCP (ICMP)"),
        (ipv4(b"\x00" * 8, proto=200), "not TCP (IP protocol 200)"),
        (ipv4(SEG, total_length=200), TRUNCATED_IP),
        (ipv4(SEG)[:19], TRUNCATED_IP),
        (ipv4(SEG, total_length=10), "bad IPv4 header length"),
        (bytes([0x44]) + ipv4(SEG)[1:], "bad IPv4 header length"),
        (ipv4(SEG, version=5), "not an IP packet (version 5)"),
        (ipv4(tcp(b"", data_offset=4)), "bad TCP header length"),
        (ipv4(tcp(b"abc", data_offset=15)), "bad TCP header length"),
        (ipv4(tcp(b"")[:12]), "truncated TCP header"),
    ],
)
def test_ipv4_not_a_segment(packet: bytes, reason: str) -> None:
    assert decode_ip(packet, 0, 0.0) == reason
    assert decode_frame(1, ethernet(packet), 0.0) == reason


def test_ipv4_dont_fragment_is_whole() -> None:
    assert isinstance(decode_ip(ipv4(SEG, frag=0x4000), 0, 0.0), TcpSegment)


def test_ipv6_segment_exact() -> None:
    packet = ipv6(SEG, "2001:db8::ffff:a0a:104", "2001:db8:0:0:1::1")
    assert decode_ip(packet, 0, 1.0) == TcpSegment(
        1.0, "2001:db8::ffff:a0a:104", 49152, "2001:db8::1:0:0:1", 587, 0xFFFFFFF0, 77,
        PSH | ACK, b"AUTH LOGIN\r\n")


def test_ipv6_extension_headers() -> None:
    ext = [(HOP_BY_HOP, b"\x01\x02\x00\x00"), (ROUTING, b"\x00" * 20),
           (FRAGMENT, fragment_body(0, more=False)), (DEST_OPTS, b""), (AH, b"\x00" * 14)]
    result = decode_ip(ipv6(SEG, ext=ext), 0, 0.0)
    assert isinstance(result, TcpSegment)
    assert result.payload == b"AUTH LOGIN\r\n"


def test_ipv6_padding_trimmed_and_length_zero() -> None:
    result = decode_ip(ipv6(SEG) + b"\x00" * 10, 0, 0.0)
    assert isinstance(result, TcpSegment)
    assert result.payload == b"AUTH LOGIN\r\n"
    result = decode_ip(ipv6(SEG, payload_length=0), 0, 0.0)
    assert isinstance(result, TcpSegment)
    assert result.payload == b"AUTH LOGIN\r\n"


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (ipv6(SEG, ext=[(FRAGMENT, fragment_body(0, more=True))]), "IPv6 fragment"),
        (ipv6(SEG, ext=[(FRAGMENT, fragment_body(10))]), "IPv6 fragment"),
        (ipv6(b"\x80" + b"\x00" * 7, proto=58), "not TCP (ICMPv6)"),
        (ipv6(b"", proto=59), "not TCP (IPv6 no next header)"),
        (ipv6(b"\x00" * 16, proto=50, ext=[(HOP_BY_HOP, b"")]), "not TCP (ESP)"),
        (ipv6(SEG, payload_length=100), TRUNCATED_IP),
        (ipv6(SEG)[:39], TRUNCATED_IP),
        (ipv6(b"\x06\x05", proto=0), TRUNCATED_IP),  # extension header cut short
        (ipv6(b"\x06\x05" + b"\x00" * 46, proto=0), "truncated TCP header"),
        (ipv6(tcp(b"", data_offset=3)), "bad TCP header length"),
    ],
)
def test_ipv6_not_a_segment(packet: bytes, reason: str) -> None:
    assert decode_ip(packet, 0, 0.0) == reason


LINKS = [
    (1, ethernet),
    (1, lambda p: ethernet(p, vlans=[(0x8100, 42)])),
    (1, lambda p: ethernet(p, vlans=[(0x88A8, 1), (0x8100, 2)])),
    (113, sll),
    (276, sll2),
    (101, lambda p: p),
    (0, null),
    (108, loop),
]


@pytest.mark.parametrize(("linktype", "frame"), LINKS)
def test_decode_frame_every_link(linktype: int, frame: object) -> None:
    assert callable(frame)
    result = decode_frame(linktype, frame(ipv4(SEG, "10.0.0.1", "10.0.0.2")), 3.0)
    assert result == TcpSegment(3.0, "10.0.0.1", 49152, "10.0.0.2", 587, 0xFFFFFFF0, 77,
                                PSH | ACK, b"AUTH LOGIN\r\n")


def test_segments_counts_reasons_and_keeps_order() -> None:
    v6 = ethernet(ipv6(SEG), 0x86DD)
    v6_vlan = ethernet(ipv6(SEG), 0x86DD, vlans=[(0x8100, 125)])
    frames = [
        Frame(1, 1.0, 1, ethernet(ipv4(SEG)), 0),
        Frame(2, 2.0, 1, ethernet(b"\x00" * 28, 0x0806), 0),
        Frame(3, 3.0, 1, v6, 0),
        Frame(4, 4.0, 1, ethernet(ipv4(b"", proto=17)), 0),
        Frame(5, 5.0, 276, sll2(ipv4(SEG)), 0),
        Frame(6, 6.0, 1, v6_vlan, 0),
        Frame(7, 7.0, 1, ethernet(ipv4(SEG, frag=0x2000)), 0),
    ]
    skipped: Counter[str] = Counter()
    got = list(segments(frames, skipped))
    assert [s.ts for s in got] == [1.0, 3.0, 5.0, 6.0]
    assert skipped == Counter({"ARP": 1, "not TCP (UDP)": 1, "IPv4 fragment": 1})


@pytest.mark.parametrize("count", [2, 3])
def test_segments_of_shards_partition_the_connections(count: int) -> None:
    frames = []
    for n, (sport, dport) in enumerate([(1025, 25), (1026, 25), (1027, 587), (40000, 2525)]):
        for seg, vlans in ((tcp(b"x", sport, dport), []), (tcp(b"y", dport, sport), [(0x8100, 7)])):
            frames.append(Frame(n, float(n), 1, ethernet(ipv4(seg), vlans=vlans), 0))
    frames.append(Frame(9, 9.0, 1, ethernet(ipv6(tcp(b"z", 1028, 25)), 0x86DD), 0))
    frames.append(Frame(10, 10.0, 1, ethernet(b"\x00" * 28, 0x0806), 0))
    whole: Counter[str] = Counter()
    everything = list(segments(frames, whole))
    assert whole == Counter({"ARP": 1})
    got = []
    for index in range(count):
        skipped: Counter[str] = Counter()
        mine = list(segments(frames, skipped, (index, count)))
        assert all((s.sport ^ s.dport) % count == index for s in mine)
        assert skipped == Counter({"ARP": 1, OTHER_SHARD: len(everything) - len(mine)})
        got.extend(mine)
    assert sorted(got) == sorted(everything)


def test_address_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ip, "_CACHE_LIMIT", 4)
    ip._PAIRS.clear()
    for n in range(10):
        result = decode_ip(ipv4(SEG, f"10.0.0.{n}", "10.0.1.1"), 0, 0.0)
        assert isinstance(result, TcpSegment)
        assert result.src == f"10.0.0.{n}"
        assert len(ip._PAIRS) <= 4


@pytest.mark.skipif(not CORPUS.is_dir(), reason="public corpus not present")
@pytest.mark.parametrize("base", ["smtp-auth-login_gurpartap",
                                  "smtp-auth-plain-continuation_587_aol"])
def test_corpus_reframed_variants_decode_alike(base: str) -> None:
    def payloads(path: Path) -> list[tuple[int, int, int, bytes]]:
        skipped: Counter[str] = Counter()
        return [(s.sport, s.dport, s.seq, s.payload)
                for s in segments(iter_frames(str(path)), skipped)]

    original = payloads(CORPUS / f"{base}.pcap")
    assert len(original) > 20
    for variant in ("sll", "sll2", "vlan42", "ipv6"):
        assert payloads(CORPUS / "derived" / f"{base}.{variant}.pcap") == original


# --- fuzzing: never an exception, and the inline fast path agrees with decode_frame ----------

_SEEDS = [
    ethernet(ipv4(SEG)),
    ethernet(ipv4(SEG), vlans=[(0x8100, 42)]),
    ethernet(ipv6(SEG, ext=[(HOP_BY_HOP, b"")]), 0x86DD),
    sll2(ipv4(SEG, options=b"\x01\x01\x01\x00")),
    null(ipv6(SEG), 30),
]


@st.composite
def frames(draw: st.DrawFn) -> Frame:
    linktype = draw(st.sampled_from([1, 1, 1, 276, 0, 101, 113]))
    if draw(st.booleans()):
        data = bytearray(draw(st.sampled_from(_SEEDS)))
        for pos, value in draw(st.lists(st.tuples(st.integers(0, 120), st.integers(0, 255)),
                                        max_size=4)):
            if pos < len(data):
                data[pos] = value
        data = data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data
        return Frame(1, 0.0, linktype, bytes(data), 0)
    return Frame(1, 0.0, linktype, draw(st.binary(max_size=100)), 0)


@given(st.lists(frames(), max_size=8))
def test_fuzz_segments_agree_with_decode_frame(batch: list[Frame]) -> None:
    skipped: Counter[str] = Counter()
    fast = list(segments(batch, skipped))
    slow = [decode_frame(f.linktype, f.data, f.ts) for f in batch]
    assert fast == [s for s in slow if isinstance(s, TcpSegment)]
    assert skipped == Counter(s for s in slow if isinstance(s, str))


@given(st.integers(0, 300), st.binary(max_size=120))
def test_fuzz_decode_never_raises(linktype: int, data: bytes) -> None:
    result = decode_frame(linktype, data, 0.0)
    assert isinstance(result, str | TcpSegment)
    if isinstance(result, TcpSegment):
        assert 0 <= result.seq < 2**32
        assert len(result.payload) <= len(data)


def test_struct_layouts() -> None:
    assert struct.calcsize("!BxHxxHxB2x8sHHIIBB") == 34
    assert struct.calcsize("!4xHBx32sHHIIBB") == 54
