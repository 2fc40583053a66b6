"""Tests of the synthetic capture generator behind the pcap benchmark (``bench/synth.py``).

The capture is small (30 SMTP sessions, fixed seed) so that the whole module runs in about a
second. Seed 4 was picked because its 30 sessions cover every mechanism, port, IP version,
VLAN framing, STARTTLS, a session without AUTH, a retry and both outcomes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import shutil
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from bench import synth

SESSIONS = 30
SEED = 4

_Frame = tuple[int, bytes]
"""(timestamp in µs, frame bytes)."""


def _read_pcap(path: Path) -> tuple[tuple[int, ...], list[_Frame]]:
    """The global header fields and every record of a classic little-endian pcap."""
    data = path.read_bytes()
    header = struct.unpack_from("<IHHiIII", data, 0)
    frames: list[_Frame] = []
    off = 24
    while off < len(data):
        sec, usec, caplen, origlen = struct.unpack_from("<IIII", data, off)
        assert caplen == origlen
        assert usec < 1_000_000
        off += 16
        frames.append((sec * 1_000_000 + usec, data[off : off + caplen]))
        off += caplen
    assert off == len(data)
    return header, frames


def _ipv4_checksum(header: bytes) -> int:
    total = sum(int(word) for word in struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


_HalfFlow = tuple[bytes, int, bytes, int]


def _tcp(frame: bytes) -> tuple[str, _HalfFlow, int, int, bytes, bool]:
    """Parse Ethernet/802.1Q/IP/TCP: (framing, half-flow, seq, flags, payload, IPv4 csum ok)."""
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    off = 14
    framing = ""
    if ethertype == 0x8100:
        ethertype = struct.unpack_from("!H", frame, 16)[0]
        off = 18
        framing = "vlan-"
    if ethertype == 0x0800:
        ihl = (frame[off] & 0x0F) * 4
        total = struct.unpack_from("!H", frame, off + 2)[0]
        assert off + total == len(frame)
        csum_ok = _ipv4_checksum(frame[off : off + ihl]) == 0
        src, dst = frame[off + 12 : off + 16], frame[off + 16 : off + 20]
        framing += "ipv4"
        off += ihl
    else:
        assert ethertype == 0x86DD
        assert frame[off + 6] == 6  # next header: TCP
        plen = struct.unpack_from("!H", frame, off + 4)[0]
        assert off + 40 + plen == len(frame)
        csum_ok = True
        src, dst = frame[off + 8 : off + 24], frame[off + 24 : off + 40]
        framing += "ipv6"
        off += 40
    sport, dport, seq, _ack, hlen, flags = struct.unpack_from("!HHIIBB", frame, off)
    payload = frame[off + (hlen >> 4) * 4 :]
    return framing, (src, sport, dst, dport), seq, flags, payload, csum_ok


def _streams(frames: list[_Frame]) -> dict[_HalfFlow, bytes]:
    """Each direction of each connection reassembled by sequence number (duplicates must agree)."""
    isn: dict[_HalfFlow, int] = {}
    segments: dict[_HalfFlow, dict[int, bytes]] = {}
    for _t, frame in frames:
        _framing, key, seq, flags, payload, _ok = _tcp(frame)
        if flags & 0x02:
            isn[key] = seq
        elif payload:
            seen = segments.setdefault(key, {})
            assert seen.get(seq, payload) == payload
            seen[seq] = payload
    out: dict[_HalfFlow, bytes] = {}
    for key, segs in segments.items():
        nxt = (isn[key] + 1) & 0xFFFFFFFF
        parts = []
        while segs:
            part = segs.pop(nxt)  # a KeyError here is a gap in the stream
            parts.append(part)
            nxt = (nxt + len(part)) & 0xFFFFFFFF
        out[key] = b"".join(parts)
    return out


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthResult:
    """The 30-session capture with the default impairments."""
    path = tmp_path_factory.mktemp("synth") / "small.pcap"
    return synth.generate(path, synth.SynthConfig(sessions=SESSIONS, seed=SEED))


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthResult:
    """The same capture without retransmissions and reordering."""
    path = tmp_path_factory.mktemp("synth") / "clean.pcap"
    cfg = synth.SynthConfig(sessions=SESSIONS, seed=SEED, retransmit_rate=0.0, reorder_rate=0.0)
    return synth.generate(path, cfg)


def test_md4_rfc1320_vectors() -> None:
    assert synth.md4(b"").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"
    assert synth.md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"
    assert synth.md4(b"message digest").hex() == "d9130a8164549fe818874806e1c7014b"
    digits = b"1234567890" * 8
    assert synth.md4(digits).hex() == "e33b4ddc9c38f2199c3e7b164fcc0536"


def test_pcap_header_and_records(small: synth.SynthResult) -> None:
    header, frames = _read_pcap(small.path)
    assert header == (0xA1B2C3D4, 2, 4, 0, 0, 262_144, 1)
    assert len(frames) == small.packets
    assert small.path.stat().st_size == small.size
    times = [t for t, _ in frames]
    assert times == sorted(times)
    assert times[0] >= synth.CAPTURE_START_US
    assert small.packets == small.smtp_packets + small.http_packets


def test_frames_parse_and_framing_mix(small: synth.SynthResult) -> None:
    _header, frames = _read_pcap(small.path)
    framing: Counter[str] = Counter()
    ports: Counter[int] = Counter()
    for _t, frame in frames:
        kind, (_s, sport, _d, dport), _seq, _flags, payload, csum_ok = _tcp(frame)
        assert csum_ok
        assert len(payload) <= synth.MSS
        framing[kind] += 1
        ports[min(sport, dport)] += 1
    assert set(framing) == {"ipv4", "ipv6", "vlan-ipv4", "vlan-ipv6"}
    assert set(ports) == {25, 80, 587, 2525}
    assert ports[80] == small.http_packets


def test_same_seed_same_bytes(small: synth.SynthResult, tmp_path: Path) -> None:
    again = synth.generate(tmp_path / "again.pcap", synth.SynthConfig(sessions=SESSIONS, seed=SEED))
    digest = hashlib.sha256(small.path.read_bytes()).hexdigest()
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == digest
    assert again.truth_path.read_bytes() == small.truth_path.read_bytes()
    assert again.tls_path.read_bytes() == small.tls_path.read_bytes()
    other = synth.generate(
        tmp_path / "other.pcap", synth.SynthConfig(sessions=SESSIONS, seed=SEED + 1)
    )
    assert hashlib.sha256(other.path.read_bytes()).hexdigest() != digest


def test_truth_file_round_trip(small: synth.SynthResult) -> None:
    assert small.truth_path.read_text(encoding="utf-8").split("\n", 1)[0].split("\t") == list(
        synth.TRUTH_COLUMNS
    )
    assert synth.read_truth(small.truth_path) == small.truth
    assert synth.read_tls(small.tls_path) == small.tls


def test_truth_covers_mechanisms_ports_ip_versions(small: synth.SynthResult) -> None:
    truth = small.truth
    assert {r.mechanism for r in truth} == {"LOGIN", "PLAIN", "CRAM-MD5", "NTLM", "XOAUTH2"}
    assert {r.server_port for r in truth} == {25, 587, 2525}
    assert {ipaddress.ip_address(r.client_ip).version for r in truth} == {4, 6}
    assert {(r.outcome, r.reply_code) for r in truth} == {("success", 235), ("failure", 535)}
    flows = Counter((r.client_ip, r.client_port, r.server_ip, r.server_port) for r in truth)
    assert max(flows.values()) > 1  # a retry after a failure
    assert small.starttls_sessions == len(small.tls) > 0
    assert small.noauth_sessions > 0
    assert len(flows) + small.starttls_sessions + small.noauth_sessions == SESSIONS
    tls_flows = {(r.client_ip, r.client_port, r.server_ip, r.server_port) for r in small.tls}
    assert not tls_flows & set(flows)


def test_truth_secret_shapes(small: synth.SynthResult) -> None:
    for row in small.truth:
        assert "\t" not in row.username + row.secret
        if row.mechanism == "CRAM-MD5":
            _empty, tag, chal64, resp64 = row.secret.split("$")
            assert (_empty, tag) == ("", "cram_md5")
            challenge = binascii.a2b_base64(chal64, strict_mode=True)
            assert challenge.startswith(b"<") and challenge.endswith(b">")
            user, digest = binascii.a2b_base64(resp64, strict_mode=True).decode().split(" ")
            assert (user, len(digest)) == (row.username, 32)
        elif row.mechanism == "NTLM":
            domain, user = row.username.split("\\")
            f = row.secret.split(":")
            assert (f[0], f[1], f[2]) == (user, "", domain)
            assert (len(f), len(f[3]), len(f[4])) == (6, 16, 32)
            assert f[5].startswith("0101000000000000")
        elif row.mechanism == "XOAUTH2":
            assert row.secret.startswith("ya29.")


def test_plain_and_login_lines_are_in_the_client_stream(clean: synth.SynthResult) -> None:
    """Every LOGIN password and PLAIN blob of the truth is sent, base64-encoded, by its client."""
    _header, frames = _read_pcap(clean.path)
    streams = _streams(frames)
    by_client = {(key[1], key[3]): data for key, data in streams.items() if key[3] != 80}
    for row in clean.truth:
        sent = by_client[(row.client_port, row.server_port)]
        if row.mechanism == "LOGIN":
            assert b"\n" + base64.b64encode(row.secret.encode()) + b"\r\n" in sent
        elif row.mechanism == "PLAIN":
            assert f"\0{row.username}\0{row.secret}".encode() in _decoded_lines(sent)


def _decoded_lines(stream: bytes) -> bytes:
    """The base64 decoding of the last word of every line that has one, joined by newlines."""
    out = []
    for line in stream.split(b"\r\n"):
        word = line.rsplit(b" ", 1)[-1]
        try:
            out.append(binascii.a2b_base64(word, strict_mode=True))
        except binascii.Error:
            continue
    return b"\n".join(out)


def test_impairments_change_nothing_but_packet_order(
    small: synth.SynthResult, clean: synth.SynthResult
) -> None:
    assert small.truth == clean.truth
    assert small.tls == clean.tls
    assert small.retransmitted > 0
    assert small.reordered > 0
    assert clean.retransmitted == clean.reordered == 0
    assert small.packets == clean.packets + small.retransmitted
    assert _streams(_read_pcap(small.path)[1]) == _streams(_read_pcap(clean.path)[1])


def test_cli_writes_capture_and_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.pcap"
    assert synth.main([str(out), "--sessions", "5", "--seed", "9"]) == 0
    assert "packets" in capsys.readouterr().out
    assert out.exists()
    assert synth.truth_path_for(out).exists()
    assert synth.tls_path_for(out).exists()


@pytest.mark.peer
def test_tshark_sees_every_auth_command(clean: synth.SynthResult) -> None:
    """tshark counts one AUTH command per truth row.

    The capture without impairments is used: with reordered segments tshark (no out-of-order
    reassembly by default in 4.0) sometimes drops a command or parses body lines as commands,
    which is what the benchmark measures, not what this test is about.
    """
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark is not installed")
    argv = [tshark, "-r", str(clean.path), "-d", "tcp.port==2525,smtp"]
    argv += ["-Y", 'smtp.req.command == "AUTH"', "-T", "fields", "-e", "tcp.srcport"]
    argv += ["-e", "tcp.dstport", "-e", "smtp.req.parameter"]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120)
    seen: Counter[tuple[int, int, str]] = Counter()
    for line in done.stdout.splitlines():
        sport, dport, parameter = line.split("\t")
        seen[(int(sport), int(dport), parameter.split(" ")[0].upper())] += 1
    want = Counter((r.client_port, r.server_port, r.mechanism) for r in clean.truth)
    assert seen == want
