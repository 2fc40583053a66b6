"""Link layers: where the IP packet starts inside a captured frame.

:func:`ip_offset` maps ``(linktype, frame bytes)`` to the offset of the IP header, or to a short
reason string when the frame carries no IP packet (ARP, LLDP, an unsupported link type ...). The
reasons come from a small fixed vocabulary plus the ethertype or family number, so callers can
count them. The IP version is not decided here: the IP decoder reads the header's version nibble.

Supported link types (LINKTYPE_* numbers as stored in pcap/pcapng):

* 1 Ethernet, with any stack of 802.1Q (0x8100), 802.1ad (0x88a8) and old QinQ (0x9100, 0x9200)
  tags, 802.3 LLC/SNAP encapsulation, PPPoE session frames and MPLS label stacks;
* 113 Linux cooked v1 and 276 Linux cooked v2 (protocol field, tags after it are followed);
* 12 and 101 raw IP, 228 raw IPv4, 229 raw IPv6;
* 0 BSD loopback (address family in the capturing host's byte order: both are accepted) and
  108 OpenBSD loopback (network order), with AF_INET 2 and AF_INET6 24, 28 or 30.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "LINKTYPE_ETHERNET",
    "LINKTYPE_IPV4",
    "LINKTYPE_IPV6",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_LINUX_SLL2",
    "LINKTYPE_LOOP",
    "LINKTYPE_NAMES",
    "LINKTYPE_NULL",
    "LINKTYPE_RAW",
    "ip_offset",
]

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

LINKTYPE_NAMES = {
    LINKTYPE_NULL: "BSD loopback (NULL)",
    LINKTYPE_ETHERNET: "Ethernet",
    12: "raw IP",
    LINKTYPE_RAW: "raw IP",
    LINKTYPE_LOOP: "OpenBSD loopback (LOOP)",
    LINKTYPE_LINUX_SLL: "Linux cooked (SLL)",
    LINKTYPE_IPV4: "raw IPv4",
    LINKTYPE_IPV6: "raw IPv6",
    LINKTYPE_LINUX_SLL2: "Linux cooked v2 (SLL2)",
}
"""Readable names of the link types this module decodes."""

_TAGS = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
_PPPOE_SESSION = 0x8864
_MPLS = frozenset({0x8847, 0x8848})
_PPP_IP = {0x0021: True, 0x0057: True}

_TRUNCATED = "truncated link-layer header"
_NOT_IP_ETHERTYPES = {0x0806: "ARP", 0x8035: "RARP", 0x88CC: "LLDP", 0x888E: "EAPOL"}
_AF_INET = 2
_AF_INET6 = frozenset({24, 28, 30})


def ip_offset(linktype: int, data: bytes) -> int | str:
    """Offset of the IP header in ``data`` for a frame of ``linktype``, or why there is none."""
    if linktype == LINKTYPE_ETHERNET:
        if len(data) >= 14:
            return _after_ethertype(data, (data[12] << 8) | data[13], 14)
        return _TRUNCATED
    decode = _DECODERS.get(linktype)
    if decode is None:
        return f"unsupported link type {linktype}"
    return decode(data)


def _after_ethertype(data: bytes, ethertype: int, offset: int) -> int | str:
    """Follow tags and encapsulations from ``ethertype`` (read just before ``offset``)."""
    if ethertype in (0x0800, 0x86DD):  # IPv4, IPv6: the common case, first
        return offset
    size = len(data)
    while ethertype in _TAGS:
        if size < offset + 4:
            return _TRUNCATED
        ethertype = (data[offset + 2] << 8) | data[offset + 3]
        offset += 4
    if ethertype in (0x0800, 0x86DD):
        return offset
    if ethertype <= 1500:  # 802.3 length field: only LLC/SNAP can carry IP
        if data[offset : offset + 6] == b"\xaa\xaa\x03\x00\x00\x00" and size >= offset + 8:
            return _after_ethertype(data, (data[offset + 6] << 8) | data[offset + 7], offset + 8)
        return "802.3 LLC frame (not IP)"
    if ethertype == _PPPOE_SESSION:
        if size < offset + 8:
            return _TRUNCATED
        if ((data[offset + 6] << 8) | data[offset + 7]) in _PPP_IP:
            return offset + 8
        return "PPPoE frame (not IP)"
    if ethertype in _MPLS:
        while size >= offset + 4:
            bottom = data[offset + 2] & 1
            offset += 4
            if bottom:
                return offset if size > offset and data[offset] >> 4 in (4, 6) else "MPLS (not IP)"
        return _TRUNCATED
    return _NOT_IP_ETHERTYPES.get(ethertype) or f"non-IP ethertype 0x{ethertype:04x}"


def _sll(data: bytes) -> int | str:
    if len(data) < 16:
        return _TRUNCATED
    return _after_ethertype(data, (data[14] << 8) | data[15], 16)


def _sll2(data: bytes) -> int | str:
    if len(data) < 20:
        return _TRUNCATED
    return _after_ethertype(data, (data[0] << 8) | data[1], 20)


def _raw(data: bytes) -> int | str:
    return 0


def _family(data: bytes) -> int | str:
    """DLT_NULL / DLT_LOOP: a 4-byte address family, read in whichever byte order fits."""
    if len(data) < 4:
        return _TRUNCATED
    family = int.from_bytes(data[:4], "little")
    if family > 0xFFFF:
        family = int.from_bytes(data[:4], "big")
    if family == _AF_INET or family in _AF_INET6:
        return 4
    return f"loopback address family {family} (not IP)"


_DECODERS: dict[int, Callable[[bytes], int | str]] = {
    LINKTYPE_NULL: _family,
    LINKTYPE_LOOP: _family,
    LINKTYPE_LINUX_SLL: _sll,
    LINKTYPE_LINUX_SLL2: _sll2,
    12: _raw,
    LINKTYPE_RAW: _raw,
    LINKTYPE_IPV4: _raw,
    LINKTYPE_IPV6: _raw,
}
