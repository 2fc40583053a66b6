"""Capture file reading: formats, timestamps, damage, the public corpus, fuzzing."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.utils import RawPcapReader

from authaudit.errors import CaptureError
from authaudit.pcap.reader import Frame, FrameReader, iter_frames
from tests.pcap.builders import PUBLIC_CORPUS, PcapNg, ethernet, pcap_file, raw_tcp4, sll

CORPUS = PUBLIC_CORPUS
F1 = ethernet(raw_tcp4("10.0.0.1", 1025, "10.0.0.2", 25, 100, b"EHLO a\r\n"))
F2 = ethernet(raw_tcp4("10.0.0.2", 25, "10.0.0.1", 1025, 7, b"250 ok\r\n"))


def write(tmp_path: Path, data: bytes, name: str = "c.pcap") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def read(path: str) -> tuple[list[Frame], FrameReader]:
    reader = iter_frames(path)
    return list(reader), reader


# --- classic pcap ----------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
def test_classic_microseconds_both_byte_orders(tmp_path: Path, order: str) -> None:
    frames, reader = read(write(tmp_path, pcap_file([(1.5, F1), (1700000000.25, F2)],
                                                    byteorder=order)))
    assert frames == [Frame(1, 1.5, 1, F1, 0), Frame(2, 1700000000.25, 1, F2, 0)]
    assert (reader.format, reader.linktype, reader.compressed, reader.skipped) == (
        "pcap", 1, False, [])


@pytest.mark.parametrize("order", ["<", ">"])
def test_classic_nanoseconds(tmp_path: Path, order: str) -> None:
    header = pcap_file([], byteorder=order, nano=True)
    record = struct.pack(order + "IIII", 1700000000, 123456789, len(F1), len(F1)) + F1
    frames, _ = read(write(tmp_path, header + record))
    assert frames == [Frame(1, 1700000000 + 123456789 / 1e9, 1, F1, 0)]
    assert frames[0].ts != 1700000000.123456  # not cut to microseconds


def test_classic_linktype_fcs_bits_masked(tmp_path: Path) -> None:
    data = bytearray(pcap_file([(1.0, F1)], linktype=1))
    data[20:24] = struct.pack("<I", 1 | 0x14000000)  # FCS length 1 (x16 bits), F flag
    frames, reader = read(write(tmp_path, bytes(data)))
    assert reader.linktype == 1
    assert frames[0].linktype == 1


def test_classic_kuznetsov_records(tmp_path: Path) -> None:
    header = struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 113)
    record = struct.pack("<IIII", 10, 500000, len(F1), len(F1)) + b"\x00" * 8 + F1
    frames, _ = read(write(tmp_path, header + record + record))
    assert frames == [Frame(1, 10.5, 113, F1, 0), Frame(2, 10.5, 113, F1, 0)]


def test_classic_many_frames_cross_chunk_boundaries(tmp_path: Path) -> None:
    big = b"\xab" * 60000
    records = [(float(i), big if i % 3 else F1) for i in range(60)]  # ~2.4 MB: 3 chunks
    frames, reader = read(write(tmp_path, pcap_file(records)))
    assert [(f.number, f.ts, f.data) for f in frames] == [
        (i + 1, float(i), big if i % 3 else F1) for i in range(60)]
    assert reader.skipped == []


def test_truncated_record_body(tmp_path: Path) -> None:
    data = pcap_file([(1.0, F1), (2.0, F2)])
    frames, reader = read(write(tmp_path, data[:-5]))
    assert [f.data for f in frames] == [F1]
    assert len(reader.skipped) == 1
    skipped = reader.skipped[0]
    assert skipped.where == f"packet 2 (offset {24 + 16 + len(F1)})"
    assert skipped.reason == (f"truncated record: the file ends {16 + len(F2) - 5} bytes into a "
                              f"record of {16 + len(F2)} bytes")


def test_truncated_record_header(tmp_path: Path) -> None:
    frames, reader = read(write(tmp_path, pcap_file([(1.0, F1), (2.0, F2)])[: 24 + 16 + len(F1)
                                                                            + 7]))
    assert len(frames) == 1
    assert [s.reason for s in reader.skipped] == [
        "truncated record: the file ends 7 bytes into a 16-byte record header"]


def test_implausible_record_length_stops(tmp_path: Path) -> None:
    data = pcap_file([(1.0, F1)]) + struct.pack("<IIII", 2, 0, 1 << 30, 1 << 30) + b"x" * 100
    frames, reader = read(write(tmp_path, data))
    assert len(frames) == 1
    assert reader.skipped[0].reason.startswith("implausible record length 1073741824")


def test_big_frame_not_cut(tmp_path: Path) -> None:
    frame = b"\x01" * 70000
    frames, _ = read(write(tmp_path, pcap_file([(1.0, frame)])))
    assert frames[0].data == frame


# --- refusing what is no capture --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>", "not a pcap or pcapng file (magic 0x3c68746d)"),
        (b"", "empty file"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "truncated pcap file header"),
        (gzip.compress(b"hello world"), "gzip-compressed, but not a pcap or pcapng file "
                                        "(magic 0x68656c6c)"),
        (gzip.compress(b"")[:10] + b"\xff" * 10, "gzip-compressed, but the gzip stream is damaged"),
        (b"\x1f\x8b\x08\x00garbage", "gzip-compressed, but the gzip stream is truncated"),
        (b"\n\r\r\n\x00\x00\x00\x00\x4d\x3c\x2b\x1a", "damaged pcapng section header block"),
    ],
)
def test_not_a_capture(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, content, "x.pcap")
    with pytest.raises(CaptureError) as info:
        iter_frames(path)
    assert info.value.source == path
    assert info.value.reason.startswith(message)


def test_missing_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot open: No such file or directory"):
        iter_frames(str(tmp_path / "nope.pcap"))
    with pytest.raises(CaptureError, match="cannot open: Is a directory"):
        iter_frames(str(tmp_path))


# --- gzip ------------------------------------------------------------------------------------


def test_gzip_detected_by_magic_not_name(tmp_path: Path) -> None:
    plain = pcap_file([(1.0, F1), (2.0, F2)])
    frames, reader = read(write(tmp_path, gzip.compress(plain), "looks-plain.pcap"))
    assert [f.data for f in frames] == [F1, F2]
    assert reader.compressed
    assert reader.skipped == []


def test_gzip_multi_member_and_pcapng(tmp_path: Path) -> None:
    ng = PcapNg()
    ng.idb(1)
    ng.epb(0, 1.0, F1).epb(0, 2.0, F2)
    data = ng.build()
    frames, reader = read(write(tmp_path, gzip.compress(data[:50]) + gzip.compress(data[50:])))
    assert [f.data for f in frames] == [F1, F2]
    assert (reader.format, reader.skipped) == ("pcapng", [])


def test_gzip_truncated_keeps_earlier_frames(tmp_path: Path) -> None:
    records = [(float(i), bytes([i]) * 1000) for i in range(200)]
    packed = gzip.compress(pcap_file(records), compresslevel=0)  # stored: cut lands mid-record
    frames, reader = read(write(tmp_path, packed[: len(packed) // 2]))
    assert 90 < len(frames) < 100
    assert [f.data for f in frames] == [r[1] for r in records[: len(frames)]]
    assert len(reader.skipped) == 1
    assert reader.skipped[0].reason.startswith("the gzip stream is truncated: truncated record")


def test_gzip_trailing_garbage_reported(tmp_path: Path) -> None:
    frames, reader = read(write(tmp_path, gzip.compress(pcap_file([(1.0, F1)])) + b"junk"))
    assert len(frames) == 1
    assert [s.reason for s in reader.skipped] == [
        "data after the end of the gzip stream was ignored"]


# --- pcapng ----------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
def test_pcapng_interfaces_resolutions_and_block_kinds(tmp_path: Path, order: str) -> None:
    ng = PcapNg(byteorder=order)
    eth = ng.idb(1, tsresol=9)  # ns
    cooked = ng.idb(113, tsresol=0x94, tsoffset=1000)  # 2^-20 s, +1000 s
    ng.block(4, b"\x00" * 4)  # name resolution block: skipped
    ng.epb(eth, 0, F1, raw_ticks=True)
    ng.epb(eth, 1700000000_123456789, F2, raw_ticks=True)
    ng.epb(cooked, 3 << 20 | 1 << 19, sll(b"x"), raw_ticks=True)
    ng.block(5, b"\x00" * 12)  # interface statistics: skipped
    ng.opb(cooked, 2.0, F1)
    ng.spb(F2)
    ng.block(0x40000BAD, b"custom")
    frames, reader = read(write(tmp_path, ng.build(), "c.pcapng"))
    assert frames == [
        Frame(1, 0.0, 1, F1, 0),
        Frame(2, 1700000000_123456789 / 10**9, 1, F2, 0),
        Frame(3, 1003.5, 113, sll(b"x"), 1),
        Frame(4, 1002.0, 113, F1, 1),
        Frame(5, 1002.0, 1, F2, 0),  # SPB: interface 0, time of the previous packet
    ]
    assert (reader.format, reader.linktype, reader.skipped) == ("pcapng", None, [])


def test_pcapng_new_section_renumbers_interfaces(tmp_path: Path) -> None:
    ng = PcapNg()
    ng.idb(1)
    ng.epb(0, 1.0, F1)
    ng.shb(byteorder=">")
    ng.idb(113)
    ng.epb(0, 2.0, sll(b"y"))
    frames, _ = read(write(tmp_path, ng.build()))
    assert [(f.linktype, f.interface) for f in frames] == [(1, 0), (113, 0)]


def test_pcapng_simple_packet_block_snaplen(tmp_path: Path) -> None:
    ng = PcapNg()
    ng.idb(1, snaplen=0)
    ng.spb(F1)
    unlimited, _ = read(write(tmp_path, ng.build(), "a.pcapng"))
    ng = PcapNg()
    ng.idb(1, snaplen=20)
    ng.spb(F1)
    limited, _ = read(write(tmp_path, ng.build(), "b.pcapng"))
    assert unlimited[0].data == F1
    assert limited[0].data == F1[:20]


def test_pcapng_big_frame_not_cut(tmp_path: Path) -> None:
    ng = PcapNg()
    ng.idb(1)
    ng.epb(0, 1.0, b"\x02" * 70001)
    frames, _ = read(write(tmp_path, ng.build()))
    assert frames[0].data == b"\x02" * 70001


def test_pcapng_packet_on_undescribed_interface_skipped_and_counted(tmp_path: Path) -> None:
    ng = PcapNg()
    ng.idb(1)
    ng.epb(0, 1.0, F1).epb(3, 2.0, F2).epb(0, 3.0, F2).epb(5, 4.0, F1)
    frames, reader = read(write(tmp_path, ng.build()))
    assert [f.number for f in frames] == [1, 3]
    assert len(reader.skipped) == 1
    skipped = reader.skipped[0]
    assert (skipped.reason, skipped.count) == ("packet block names an undescribed interface", 2)
    assert skipped.where.startswith("packet 2 (offset ")
    assert skipped.where.endswith(", interface 3")


def test_pcapng_epb_with_options(tmp_path: Path) -> None:
    ng = PcapNg()
    ng.idb(1)
    opts = PcapNg.option(1, b"a comment") + PcapNg.option(2, struct.pack("<I", 1)) + \
        PcapNg.option(0, b"")
    ng.epb(0, 1.0, F1, options=opts)
    frames, reader = read(write(tmp_path, ng.build()))
    assert frames == [Frame(1, 1.0, 1, F1, 0)]
    assert reader.skipped == []


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (-3, "truncated block: the file ends "),
        (-40, "truncated block: the file ends "),
    ],
)
def test_pcapng_truncated_last_block(tmp_path: Path, cut: int, reason: str) -> None:
    ng = PcapNg()
    ng.idb(1)
    ng.epb(0, 1.0, F1).epb(0, 2.0, F2)
    frames, reader = read(write(tmp_path, ng.build()[:cut]))
    assert [f.data for f in frames] == [F1]
    assert len(reader.skipped) == 1
    assert reader.skipped[0].reason.startswith(reason)


def test_pcapng_bad_length_and_trailer(tmp_path: Path) -> None:
    ng = PcapNg()
    ng.idb(1)
    ng.epb(0, 1.0, F1)
    good = ng.build()
    bad_length = good + struct.pack("<II", 6, 13) + b"\x00" * 20
    frames, reader = read(write(tmp_path, bad_length, "a.pcapng"))
    assert len(frames) == 1
    assert reader.skipped[0].reason.startswith("invalid pcapng block length 13")
    ng.epb(0, 2.0, F2)
    bad_trailer = bytearray(ng.build())
    bad_trailer[-1] ^= 0xFF
    frames, reader = read(write(tmp_path, bytes(bad_trailer), "b.pcapng"))
    assert len(frames) == 1
    assert reader.skipped[0].reason.startswith("pcapng block length and trailer disagree")


def test_scapy_warnings_do_not_reach_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    ng = PcapNg()
    bad_tsresol = PcapNg.option(9, b"\x06\x06") + PcapNg.option(0, b"")
    ng.block(1, struct.pack("<HHI", 1, 0, 0) + bad_tsresol)
    ng.epb(0, 1.0, F1)
    frames, _ = read(write(tmp_path, ng.build()))
    assert len(frames) == 1
    assert capfd.readouterr() == ("", "")


def test_reader_protocols(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_file([(1.0, F1), (2.0, F2)]))
    with FrameReader(path) as reader:
        assert next(reader).number == 1
        assert reader.position == 24 + 2 * 16 + len(F1) + len(F2)
        assert [f.number for f in reader] == [2]
    assert reader.position == 0  # closed


# --- the public corpus ------------------------------------------------------------------------

CORPUS_COUNTS = {
    "smtp-auth-login_gurpartap.pcap": (60, "pcap", {1}),
    "smtp-auth-login_gurpartap.pcapng": (60, "pcapng", {1}),
    "smtp-auth-plain_authzid-only.pcap": (14, "pcap", {1}),
    "smtp-auth-plain_authzid-only.pcapng": (14, "pcapng", {1}),
    "smtp-auth-cram-md5.pcap": (18, "pcap", {1}),
    "smtp-auth-cram-md5.pcapng": (18, "pcapng", {1}),
    "smtp-auth-plain_networksims.pcap": (209, "pcap", {1}),
    "smtp-auth-plain-inline_587_aol.pcap": (30, "pcap", {1}),
    "smtp-auth-plain-continuation_587_aol.pcap": (38, "pcap", {1}),
    "multiproto-ntlm_incl-smtp-auth-ntlm.pcap": (218, "pcap", {1}),
    "smtp-over-socks5_auth-login-503.pcap": (20, "pcap", {1}),
    "emotet-malspam_auth-login_587.pcap": (169, "pcap", {1}),
    "smtp-auth-login_galunt_587.pcap": (46, "pcap", {1}),
    "smtp-auth-login_server-stream-overlap.pcap": (47, "pcap", {1}),
    "smtp-auth-login-aborted_long-ehlo.pcap": (25, "pcap", {1}),
    "smtp-auth-login_plus-noauth-session_mixed.pcap": (125, "pcap", {1}),
    "smtp-starttls_gmail.pcap": (37, "pcap", {1}),
    "smtp-starttls_ipv4-and-ipv6-vlan.pcap": (69, "pcap", {1}),
    "smtp-starttls-then-cleartext_decrypted.pcap": (110, "pcap", {1}),
    "smtps-465-implicit-tls.pcapng": (4, "pcapng", {1}),
    "smtp-rset-starttls_dlt-null.pcap": (10, "pcap", {0}),
    "smtp-noauth_negative-control.pcap": (21, "pcap", {1}),
    "derived/smtp-auth-login_gurpartap.ipv6.pcap": (60, "pcap", {1}),
    "derived/smtp-auth-login_gurpartap.sll.pcap": (60, "pcap", {113}),
    "derived/smtp-auth-login_gurpartap.sll2.pcap": (60, "pcap", {276}),
    "derived/smtp-auth-login_gurpartap.vlan42.pcap": (60, "pcap", {1}),
    "derived/smtp-auth-plain-continuation_587_aol.ipv6.pcap": (38, "pcap", {1}),
    "derived/smtp-auth-plain-continuation_587_aol.sll.pcap": (38, "pcap", {113}),
    "derived/smtp-auth-plain-continuation_587_aol.sll2.pcap": (38, "pcap", {276}),
    "derived/smtp-auth-plain-continuation_587_aol.vlan42.pcap": (38, "pcap", {1}),
}
corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="public corpus not present")


@corpus
@pytest.mark.parametrize("name", sorted(CORPUS_COUNTS))
def test_corpus_counts_and_link_types(name: str) -> None:
    count, fmt, linktypes = CORPUS_COUNTS[name]
    frames, reader = read(str(CORPUS / name))
    assert (len(frames), reader.format, {f.linktype for f in frames}) == (count, fmt, linktypes)
    assert [f.number for f in frames] == list(range(1, count + 1))
    assert reader.skipped == []


@corpus
@pytest.mark.parametrize("name", sorted(CORPUS_COUNTS))
def test_corpus_same_bytes_and_times_as_scapy(name: str) -> None:
    frames, _ = read(str(CORPUS / name))
    with RawPcapReader(str(CORPUS / name)) as scapy_reader:
        theirs = list(scapy_reader)
    assert [f.data for f in frames] == [data for data, _ in theirs]
    for frame, (_, scapy_meta) in zip(frames, theirs, strict=True):
        meta: Any = scapy_meta
        if hasattr(meta, "tshigh"):
            ts = ((meta.tshigh << 32) | meta.tslow) / meta.tsresol
        else:
            ts = meta.sec + meta.usec / 1e6
        assert frame.ts == pytest.approx(ts, abs=1e-6)


@corpus
@pytest.mark.parametrize("name", ["smtp-auth-login_gurpartap.pcap",
                                  "smtp-auth-login_gurpartap.pcapng"])
def test_corpus_cut_in_last_record(tmp_path: Path, name: str) -> None:
    data = (CORPUS / name).read_bytes()
    frames, reader = read(write(tmp_path, data[:-30]))
    assert len(frames) == 59
    assert len(reader.skipped) == 1
    assert "truncated" in reader.skipped[0].reason
    assert reader.skipped[0].where.startswith("packet 60 (offset ")


# --- fuzzing ---------------------------------------------------------------------------------

SEED_PCAP = pcap_file([(1.0, F1), (2.0, F2)])
_ng = PcapNg()
_ng.idb(1, tsresol=9)
_ng.idb(113)
SEED_PCAPNG = _ng.epb(0, 1.0, F1).spb(F2).opb(1, 2.0, F1).build()


def _check_reads(path: str) -> None:
    try:
        reader = iter_frames(path)
    except CaptureError:
        return
    frames = list(reader)
    assert all(isinstance(f.data, bytes) for f in frames)
    assert [f.number for f in frames] == sorted({f.number for f in frames})


fuzz = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(data=st.binary(max_size=300))
def test_fuzz_any_bytes(tmp_path: Path, data: bytes) -> None:
    _check_reads(write(tmp_path, data))


@fuzz
@given(seed=st.sampled_from([SEED_PCAP, SEED_PCAPNG, gzip.compress(SEED_PCAPNG)]),
       edits=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=6),
       cut=st.integers(0, 400))
def test_fuzz_damaged_captures(tmp_path: Path, seed: bytes, edits: list[tuple[int, int]],
                               cut: int) -> None:
    data = bytearray(seed)
    for pos, value in edits:
        if pos < len(data):
            data[pos] = value
    _check_reads(write(tmp_path, bytes(data[: len(data) - cut % (len(data) + 1)])))
