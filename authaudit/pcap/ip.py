"""IP and TCP headers: from the IP packet inside a frame to one :class:`TcpSegment`.

:func:`decode_ip` reads IPv4 (options, total length trimming Ethernet padding, a zero total length
as written by TSO-offloaded captures) or IPv6 (hop-by-hop, routing, destination options, mobility,
HIP, shim6, fragment and AH extension headers), then the TCP header. Anything that is not a whole,
unfragmented TCP segment gives a short reason string instead, from a small vocabulary (plus
protocol numbers) so callers can count them. Checksums are not verified: captures taken on the
sending host routinely carry offloaded, unset checksums.

IPv4 fragments and non-atomic IPv6 fragments are not reassembled (reason ``IPv4 fragment`` /
``IPv6 fragment``): TCP avoids fragmentation, and SMTP over fragmented TCP is vanishingly rare.

Addresses are formatted with :func:`socket.inet_ntop` once per (source, destination) pair and
cached in a bounded dict, so the common case costs one slice and one dict lookup.
"""

from __future__ import annotations

import socket
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from authaudit.pcap.link import ip_offset

if TYPE_CHECKING:
    from authaudit.pcap.reader import Frame

__all__ = [
    "ACK",
    "CWR",
    "ECE",
    "FIN",
    "OTHER_SHARD",
    "PSH",
    "RST",
    "SYN",
    "TRUNCATED_IP",
    "URG",
    "TcpSegment",
    "decode_frame",
    "decode_ip",
    "segments",
]

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
"""TCP flag bits, as found in :attr:`TcpSegment.flags`."""


class TcpSegment(NamedTuple):
    """One TCP segment as captured: addressing, sequence numbers, flags and payload."""

    ts: float
    """Capture time of the packet, seconds since the epoch (UTC)."""
    src: str
    """Source address as text (``192.0.2.1``, ``2001:db8::1``)."""
    sport: int
    dst: str
    dport: int
    seq: int
    """Sequence number of the first byte (of the SYN, when SYN is set)."""
    ack: int
    flags: int
    """TCP flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 ...)."""
    payload: bytes


_TCP = struct.Struct("!HHIIBB").unpack_from
_new = tuple.__new__

_PROTOCOL_NAMES = {1: "ICMP", 2: "IGMP", 4: "IP-in-IP", 17: "UDP", 41: "IPv6-in-IP", 47: "GRE",
                   50: "ESP", 58: "ICMPv6", 59: "IPv6 no next header", 89: "OSPF", 103: "PIM",
                   112: "VRRP", 132: "SCTP"}
_NOT_TCP = tuple(f"not TCP ({_PROTOCOL_NAMES.get(p, f'IP protocol {p}')})" for p in range(256))
_BAD_VERSION = tuple(f"not an IP packet (version {v})" for v in range(16))
_V6_EXTENSIONS = frozenset({0, 43, 60, 135, 139, 140})  # all with (next header, length/8 - 1)
_V6_HEADERS = _V6_EXTENSIONS | {44, 51}  # plus fragment and authentication headers

TRUNCATED_IP = "truncated IP packet"
"""The captured frame ends before the length its IP header announces (snaplen)."""

_CACHE_LIMIT = 1 << 16
_PAIRS: dict[bytes, tuple[str, str]] = {}


def _pair(key: bytes, family: socket.AddressFamily, size: int) -> tuple[str, str]:
    """(source, destination) text for the raw addresses ``key``, cached."""
    if len(_PAIRS) >= _CACHE_LIMIT:
        _PAIRS.clear()
    src = socket.inet_ntop(family, key[:size])
    pair = _PAIRS[key] = (src, socket.inet_ntop(family, key[size:]))
    return pair


_V4_TCP = struct.Struct("!BxHxxHxB2x8sHHIIBB").unpack_from
"""An option-less IPv4 header and the first 14 bytes of a TCP header, in one call."""


def decode_ip(data: bytes, offset: int, ts: float) -> TcpSegment | str:
    """The TCP segment in the IP packet at ``data[offset:]``, or why there is none."""
    if len(data) < offset + 34:
        return _decode_ip(data, offset, ts)
    first, total, frag, proto, key, sport, dport, seq, ack, words, flags = _V4_TCP(data, offset)
    end = offset + total
    header = (words >> 4) << 2
    start = offset + 20 + header
    if (first != 0x45 or proto != 6 or frag & 0x3FFF or end > len(data) or header < 20
            or start > end):
        return _decode_ip(data, offset, ts)  # IPv6, options, fragments, TSO, damage
    pair = _PAIRS.get(key) or _pair(key, socket.AF_INET, 4)
    return _new(
        TcpSegment, (ts, pair[0], sport, pair[1], dport, seq, ack, flags, data[start:end])
    )


def _decode_ip(data: bytes, offset: int, ts: float) -> TcpSegment | str:
    """The general case of decode_ip, for everything but plain IPv4 + TCP."""
    size = len(data)
    if size - offset < 20:
        return TRUNCATED_IP
    first = data[offset]
    if first >> 4 == 4:
        ihl = (first & 15) << 2
        total = (data[offset + 2] << 8) | data[offset + 3]
        end = offset + total if total else size  # 0: TSO, the capture holds the whole packet
        if ihl < 20 or end - offset < ihl:
            return "bad IPv4 header length"
        if end > size:
            return TRUNCATED_IP
        if data[offset + 9] != 6:
            return _NOT_TCP[data[offset + 9]]
        if data[offset + 6] & 0x3F or data[offset + 7]:
            return "IPv4 fragment"
        key = data[offset + 12 : offset + 20]
        pair = _PAIRS.get(key) or _pair(key, socket.AF_INET, 4)
        return _tcp(data, offset + ihl, end, pair, ts)
    if first >> 4 == 6:
        return _ipv6(data, offset, ts)
    return _BAD_VERSION[first >> 4]


_V6_TCP = struct.Struct("!4xHBx32sHHIIBB").unpack_from
"""An IPv6 header and the first 14 bytes of a TCP header right after it, in one call."""


def _ipv6(data: bytes, offset: int, ts: float) -> TcpSegment | str:
    size = len(data)
    if size >= offset + 54:
        length, proto, key, sport, dport, seq, ack, words, flags = _V6_TCP(data, offset)
        end = offset + 40 + length
        start = offset + 40 + ((words >> 4) << 2)
        if proto == 6 and length and end <= size and offset + 60 <= start <= end:
            pair = _PAIRS.get(key) or _pair(key, socket.AF_INET6, 16)
            return _new(
                TcpSegment, (ts, pair[0], sport, pair[1], dport, seq, ack, flags, data[start:end])
            )
    if size - offset < 40:
        return TRUNCATED_IP
    length = (data[offset + 4] << 8) | data[offset + 5]
    end = offset + 40 + length if length else size  # 0: jumbogram or TSO
    if end > size:
        return TRUNCATED_IP
    proto = data[offset + 6]
    pos = offset + 40
    while proto != 6:
        if proto not in _V6_HEADERS:
            return _NOT_TCP[proto]
        if pos + 8 > end:
            return TRUNCATED_IP
        if proto in _V6_EXTENSIONS:
            proto, pos = data[pos], pos + ((data[pos + 1] + 1) << 3)
        elif proto == 44:  # fragment: offset and "more" bit; an atomic fragment is whole
            if (data[pos + 2] << 8 | data[pos + 3]) & 0xFFF9:
                return "IPv6 fragment"
            proto, pos = data[pos], pos + 8
        else:  # 51, authentication header: length in 4-byte units, minus 2
            proto, pos = data[pos], pos + ((data[pos + 1] + 2) << 2)
    key = data[offset + 8 : offset + 40]
    pair = _PAIRS.get(key) or _pair(key, socket.AF_INET6, 16)
    return _tcp(data, pos, end, pair, ts)


def _tcp(data: bytes, pos: int, end: int, pair: tuple[str, str], ts: float) -> TcpSegment | str:
    if end - pos < 20:
        return "truncated TCP header"
    sport, dport, seq, ack, words, flags = _TCP(data, pos)
    header = (words >> 4) << 2
    if header < 20 or pos + header > end:
        return "bad TCP header length"
    return _new(
        TcpSegment, (ts, pair[0], sport, pair[1], dport, seq, ack, flags, data[pos + header : end])
    )


def decode_frame(linktype: int, data: bytes, ts: float) -> TcpSegment | str:
    """The TCP segment in a captured frame of ``linktype``, or why there is none."""
    offset = ip_offset(linktype, data)
    if isinstance(offset, str):
        return offset
    return decode_ip(data, offset, ts)


_VLAN_TAGS = frozenset({b"\x81\x00", b"\x88\xa8", b"\x91\x00", b"\x92\x00"})


OTHER_SHARD = "segment of another shard"
"""The ``skipped`` key under which :func:`segments` counts the segments it leaves to other
shards (not damage: another process decodes them)."""


def segments(
    frames: Iterable[Frame], skipped: Counter[str], shard: tuple[int, int] = (0, 1)
) -> Iterator[TcpSegment]:
    """The TCP segments of ``frames``; every frame without one is counted in ``skipped``.

    Same results as :func:`decode_frame` on each frame, but Ethernet (also VLAN-tagged) with
    option-less IPv4 + TCP, nearly every packet of a mail server capture, is decoded inline.
    With ``shard = (index, count)``, only the segments of connections whose
    ``(sport ^ dport) % count == index`` are made; the others are counted as
    :data:`OTHER_SHARD` before their addresses, tuple or payload are built.
    """
    index, count = shard
    others = 0
    pairs = _PAIRS
    unpack = _V4_TCP
    new = _new
    for _number, ts, linktype, data, _interface in frames:
        if linktype == 1:
            ethertype = data[12:14]
            offset = 14
            if ethertype != b"\x08\x00":
                while ethertype in _VLAN_TAGS:
                    ethertype = data[offset + 2 : offset + 4]
                    offset += 4
            if ethertype == b"\x08\x00":
                if len(data) >= offset + 34:
                    first, total, frag, proto, key, sport, dport, seq, ack, words, flags = unpack(
                        data, offset)
                    end = offset + total
                    start = offset + 20 + ((words >> 4) << 2)
                    if (first == 0x45 and proto == 6 and not frag & 0x3FFF and end <= len(data)
                            and offset + 40 <= start <= end):
                        if count > 1 and (sport ^ dport) % count != index:
                            others += 1
                            continue
                        pair = pairs.get(key) or _pair(key, socket.AF_INET, 4)
                        yield new(TcpSegment, (ts, pair[0], sport, pair[1], dport, seq, ack,
                                               flags, data[start:end]))
                        continue
                segment = decode_ip(data, offset, ts)
            elif ethertype == b"\x86\xdd":
                segment = decode_ip(data, offset, ts)
            else:
                segment = decode_frame(linktype, data, ts)
        else:
            segment = decode_frame(linktype, data, ts)
        if isinstance(segment, str):
            skipped[segment] += 1
            continue
        if count > 1 and (segment.sport ^ segment.dport) % count != index:
            others += 1
            continue
        yield segment
    if others:
        skipped[OTHER_SHARD] += others
