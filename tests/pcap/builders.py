"""Build packets and capture files byte by byte, for tests of every layer that reads captures.

Layers nest by passing one builder's result to the next::

    frame = ethernet(ipv4(tcp(b"EHLO x\\r\\n", 1025, 25, seq=100, flags=PSH | ACK), "10.0.0.1",
                          "10.0.0.2"), vlans=[0x8100, 42])
    data = pcap_file([(1.5, frame)])

Every function returns ``bytes``; nothing is checked, so tests can build broken input on purpose
(wrong lengths, truncated headers). Checksums are left at zero: the decoders never verify them.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from authaudit.pcap.ip import TcpSegment

__all__ = [
    "ACK",
    "AH",
    "DEST_OPTS",
    "FIN",
    "FRAGMENT",
    "HOP_BY_HOP",
    "PSH",
    "PUBLIC_CORPUS",
    "ROUTING",
    "RST",
    "SYN",
    "URG",
    "Conversation",
    "PcapNg",
    "ethernet",
    "fragment_body",
    "ipv4",
    "ipv6",
    "loop",
    "null",
    "pcap_file",
    "raw_tcp4",
    "raw_tcp6",
    "segment",
    "sll",
    "sll2",
    "tcp",
]

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20

_CORPORA = (Path(__file__).resolve().parents[2] / "pcaps" / "public",
            Path("/work/shared/pcaps-public"))
PUBLIC_CORPUS = next((p for p in _CORPORA if p.is_dir()), _CORPORA[0])
"""The public capture corpus (its README lists the files): the repository's copy, else the
shared one. Tests that need it skip when neither exists."""

ETH_SRC = bytes.fromhex("020000000001")
ETH_DST = bytes.fromhex("020000000002")


# --- transport and network layers -----------------------------------------------------------


def tcp(
    payload: bytes = b"",
    sport: int = 1025,
    dport: int = 25,
    *,
    seq: int = 0,
    ack: int = 0,
    flags: int = ACK,
    window: int = 65535,
    options: bytes = b"",
    data_offset: int | None = None,
) -> bytes:
    """A TCP header (plus ``options``, padded to 4 bytes) followed by ``payload``."""
    options += b"\x00" * (-len(options) % 4)
    words = data_offset if data_offset is not None else 5 + len(options) // 4
    header = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, words << 4, flags,
        window, 0, 0,
    )
    return header + options + payload


def ipv4(
    payload: bytes,
    src: str = "10.0.0.1",
    dst: str = "10.0.0.2",
    *,
    proto: int = 6,
    ident: int = 0,
    frag: int = 0x4000,
    ttl: int = 64,
    options: bytes = b"",
    total_length: int | None = None,
    version: int = 4,
) -> bytes:
    """An IPv4 header around ``payload``; ``frag`` is the 16-bit flags + fragment offset field."""
    options += b"\x00" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    length = total_length if total_length is not None else ihl * 4 + len(payload)
    header = struct.pack(
        "!BBHHHBBH4s4s", version << 4 | ihl, 0, length, ident, frag, ttl, proto, 0,
        socket.inet_pton(socket.AF_INET, src), socket.inet_pton(socket.AF_INET, dst),
    )
    return header + options + payload


HOP_BY_HOP, ROUTING, FRAGMENT, AH, DEST_OPTS = 0, 43, 44, 51, 60


def ipv6(
    payload: bytes,
    src: str = "2001:db8::1",
    dst: str = "2001:db8::2",
    *,
    proto: int = 6,
    ext: Sequence[tuple[int, bytes]] = (),
    payload_length: int | None = None,
) -> bytes:
    """An IPv6 header, then extension headers, then ``payload`` (of protocol ``proto``).

    ``ext`` lists ``(type, body)`` pairs in wire order; the next-header and length bytes are
    filled in. Options-style headers (0, 43, 60, others) have their body zero-padded to a
    multiple of 8 bytes with the 2-byte prefix; a fragment header (44) takes a 6-byte body
    (offset/flags, identification); AH (51) a body whose length + 2 is a multiple of 4.
    """
    chain = b""
    types = [t for t, _ in ext] + [proto]
    for (kind, body), nxt in zip(ext, types[1:], strict=True):
        if kind == FRAGMENT:
            chain += bytes([nxt, 0]) + body[:6].ljust(6, b"\x00")
        elif kind == AH:
            body += b"\x00" * (-(len(body) + 2) % 4)
            chain += bytes([nxt, (len(body) + 2) // 4 - 2]) + body
        else:
            body += b"\x00" * (-(len(body) + 2) % 8)
            chain += bytes([nxt, (len(body) + 2) // 8 - 1]) + body
    rest = chain + payload
    length = payload_length if payload_length is not None else len(rest)
    header = struct.pack(
        "!IHBB16s16s", 6 << 28, length, types[0], 64,
        socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst),
    )
    return header + rest


def fragment_body(offset: int = 0, more: bool = False, ident: int = 1) -> bytes:
    """The 6-byte body of an IPv6 fragment header (offset in 8-byte units)."""
    return struct.pack("!HI", offset << 3 | int(more), ident)


def raw_tcp4(
    src: str, sport: int, dst: str, dport: int, seq: int, payload: bytes = b"", *,
    flags: int = PSH | ACK, ack: int = 0,
) -> bytes:
    """An IPv4 packet holding one TCP segment (the common case in tests)."""
    return ipv4(tcp(payload, sport, dport, seq=seq, ack=ack, flags=flags), src, dst)


def raw_tcp6(
    src: str, sport: int, dst: str, dport: int, seq: int, payload: bytes = b"", *,
    flags: int = PSH | ACK, ack: int = 0,
) -> bytes:
    """An IPv6 packet holding one TCP segment."""
    return ipv6(tcp(payload, sport, dport, seq=seq, ack=ack, flags=flags), src, dst)


# --- link layers -------------------------------------------------------------------------------


def ethernet(
    payload: bytes, ethertype: int = 0x0800, *, vlans: Sequence[tuple[int, int]] = (),
    trailer: bytes = b"",
) -> bytes:
    """An Ethernet II frame; ``vlans`` are ``(tpid, vlan_id)`` tags, outermost first."""
    tags = b"".join(struct.pack("!HH", tpid, vid) for tpid, vid in vlans)
    return ETH_DST + ETH_SRC + tags + struct.pack("!H", ethertype) + payload + trailer


def sll(payload: bytes, protocol: int = 0x0800, *, packet_type: int = 0) -> bytes:
    """A Linux cooked v1 (DLT_LINUX_SLL, 113) frame: 16-byte header."""
    return struct.pack("!HHH8sH", packet_type, 1, 6, ETH_SRC + b"\0\0", protocol) + payload


def sll2(payload: bytes, protocol: int = 0x0800, *, ifindex: int = 1) -> bytes:
    """A Linux cooked v2 (DLT_LINUX_SLL2, 276) frame: 20-byte header."""
    return struct.pack("!HHIHBB8s", protocol, 0, ifindex, 1, 0, 6, ETH_SRC + b"\0\0") + payload


def null(payload: bytes, family: int = 2, *, byteorder: str = "<") -> bytes:
    """A BSD loopback (DLT_NULL, 0) frame: address family in the writer's byte order."""
    return struct.pack(byteorder + "I", family) + payload


def loop(payload: bytes, family: int = 2) -> bytes:
    """An OpenBSD loopback (DLT_LOOP, 108) frame: address family in network byte order."""
    return struct.pack("!I", family) + payload


# --- capture files -----------------------------------------------------------------------------

Record = tuple[float, bytes] | tuple[float, bytes, int]
"""``(timestamp, captured bytes)`` or ``(timestamp, captured bytes, original length)``."""


def _split_ts(ts: float, scale: int) -> tuple[int, int]:
    ticks = round(ts * scale)
    return ticks // scale, ticks % scale


def pcap_file(
    records: Iterable[Record], linktype: int = 1, *, byteorder: str = "<", nano: bool = False,
    snaplen: int = 262144,
) -> bytes:
    """A classic pcap file (µs or ns timestamps, either byte order)."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    scale = 1_000_000_000 if nano else 1_000_000
    out = [struct.pack(byteorder + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for rec in records:
        ts, data = rec[0], rec[1]
        wirelen = rec[2] if len(rec) == 3 else len(data)
        sec, frac = _split_ts(ts, scale)
        out.append(struct.pack(byteorder + "IIII", sec, frac, len(data), wirelen) + data)
    return b"".join(out)


def _pad4(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


@dataclass
class PcapNg:
    """A pcapng file under construction: call the block methods in file order, then ``build``.

    Timestamps given as floats are converted with the resolution of the packet's interface.
    """

    byteorder: str = "<"
    blocks: list[bytes] = field(default_factory=list)
    resolutions: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.blocks:
            self.shb()

    def block(self, kind: int, body: bytes) -> PcapNg:
        """Append a block of any type (body padded to 4 bytes)."""
        body = _pad4(body)
        length = len(body) + 12
        e = self.byteorder
        trailer = struct.pack(e + "I", length)
        self.blocks.append(struct.pack(e + "II", kind, length) + body + trailer)
        return self

    def shb(self, byteorder: str | None = None) -> PcapNg:
        """Start a new section (interfaces are numbered from 0 again)."""
        if byteorder is not None:
            self.byteorder = byteorder
        self.resolutions = []
        return self.block(0x0A0D0D0A, struct.pack(self.byteorder + "IHHq", 0x1A2B3C4D, 1, 0, -1))

    @staticmethod
    def option(code: int, value: bytes, byteorder: str = "<") -> bytes:
        """One option TLV, padded."""
        return struct.pack(byteorder + "HH", code, len(value)) + _pad4(value)

    def idb(
        self, linktype: int = 1, *, snaplen: int = 0, tsresol: int | None = None,
        tsoffset: int | None = None, name: bytes | None = None,
    ) -> int:
        """Describe an interface; returns its id. ``tsresol`` is the raw if_tsresol byte."""
        e = self.byteorder
        opts = b""
        if name is not None:
            opts += self.option(2, name, e)
        if tsresol is not None:
            opts += self.option(9, bytes([tsresol]), e)
        if tsoffset is not None:
            opts += self.option(14, struct.pack(e + "q", tsoffset), e)
        if opts:
            opts += self.option(0, b"", e)
        self.block(1, struct.pack(e + "HHI", linktype, 0, snaplen) + opts)
        if tsresol is None:
            resolution = 1_000_000
        elif tsresol & 0x80:
            resolution = 2 ** (tsresol & 0x7F)
        else:
            resolution = 10 ** tsresol
        self.resolutions.append(resolution)
        return len(self.resolutions) - 1

    def _ticks(self, iface: int, ts: float | int, raw: bool) -> int:
        if raw:
            return int(ts)
        resolution = self.resolutions[iface] if iface < len(self.resolutions) else 1_000_000
        return round(ts * resolution)

    def epb(
        self, iface: int, ts: float, data: bytes, *, wirelen: int | None = None,
        options: bytes = b"", raw_ticks: bool = False,
    ) -> PcapNg:
        """An Enhanced Packet Block."""
        ticks = self._ticks(iface, ts, raw_ticks)
        e = self.byteorder
        head = struct.pack(
            e + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(data),
            len(data) if wirelen is None else wirelen,
        )
        return self.block(6, head + _pad4(data) + options)

    def spb(self, data: bytes, *, wirelen: int | None = None) -> PcapNg:
        """A Simple Packet Block (interface 0, no timestamp)."""
        length = len(data) if wirelen is None else wirelen
        return self.block(3, struct.pack(self.byteorder + "I", length) + data)

    def opb(self, iface: int, ts: float, data: bytes) -> PcapNg:
        """An obsolete Packet Block (type 2)."""
        ticks = self._ticks(iface, ts, False)
        e = self.byteorder
        head = struct.pack(e + "HHIIII", iface, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data),
                           len(data))
        return self.block(2, head + data)

    def build(self) -> bytes:
        """The file's bytes."""
        return b"".join(self.blocks)


# --- TCP segments and scripted connections (for reassembly and protocol tests) ---------------


def segment(
    src: str, sport: int, dst: str, dport: int, seq: int, payload: bytes = b"", *,
    flags: int = PSH | ACK, ack: int = 0, ts: float = 0.0,
) -> TcpSegment:
    """A decoded TCP segment, as the IP layer hands it to the reassembler."""
    return TcpSegment(ts, src, sport, dst, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, flags,
                      payload)


@dataclass
class Conversation:
    """A TCP connection scripted step by step; ``segments`` holds what a capture would show.

    Sequence numbers, ACKs and timestamps (``step`` apart) are kept right; every data segment
    is followed by the peer's ACK unless ``ack=False``.
    """

    client: tuple[str, int] = ("10.0.0.1", 40000)
    server: tuple[str, int] = ("10.0.0.2", 25)
    client_isn: int = 1000
    server_isn: int = 5000
    ts: float = 100.0
    step: float = 0.001
    segments: list[TcpSegment] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.next = {True: self.client_isn, False: self.server_isn}

    def _emit(self, from_client: bool, seq: int, payload: bytes, flags: int) -> TcpSegment:
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        ack = self.next[not from_client] if flags & ACK else 0
        seg = segment(src[0], src[1], dst[0], dst[1], seq, payload, flags=flags, ack=ack,
                      ts=self.ts)
        self.ts = round(self.ts + self.step, 9)
        self.segments.append(seg)
        return seg

    def handshake(self) -> Conversation:
        """SYN, SYN-ACK, ACK."""
        self._emit(True, self.client_isn, b"", SYN)
        self.next[True] = (self.client_isn + 1) & 0xFFFFFFFF
        self._emit(False, self.server_isn, b"", SYN | ACK)
        self.next[False] = (self.server_isn + 1) & 0xFFFFFFFF
        self._emit(True, self.next[True], b"", ACK)
        return self

    def start_midstream(self) -> Conversation:
        """Pretend the handshake happened before the capture started."""
        self.next = {True: (self.client_isn + 1) & 0xFFFFFFFF,
                     False: (self.server_isn + 1) & 0xFFFFFFFF}
        return self

    def send(self, from_client: bool, data: bytes, *, mss: int = 1460,
             ack: bool = True) -> Conversation:
        """``data`` from one side, cut into segments of at most ``mss`` bytes."""
        for start in range(0, len(data), mss):
            chunk = data[start : start + mss]
            self._emit(from_client, self.next[from_client], chunk, PSH | ACK)
            self.next[from_client] = (self.next[from_client] + len(chunk)) & 0xFFFFFFFF
        if ack and data:
            self._emit(not from_client, self.next[not from_client], b"", ACK)
        return self

    def fin(self, from_client: bool) -> Conversation:
        """A FIN from one side (it takes one sequence number)."""
        self._emit(from_client, self.next[from_client], b"", FIN | ACK)
        self.next[from_client] = (self.next[from_client] + 1) & 0xFFFFFFFF
        return self

    def close(self) -> Conversation:
        """FIN from the client, FIN from the server, last ACK."""
        self.fin(True).fin(False)
        self._emit(True, self.next[True], b"", ACK)
        return self

    def rst(self, from_client: bool) -> Conversation:
        """A reset from one side."""
        self._emit(from_client, self.next[from_client], b"", RST | ACK)
        return self
