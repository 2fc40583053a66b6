"""Link-layer decoding: where the IP header starts, or why there is none."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.pcap.link import LINKTYPE_NAMES, ip_offset
from tests.pcap.builders import ethernet, ipv4, ipv6, loop, null, sll, sll2, tcp

V4 = ipv4(tcp(b"x"))
V6 = ipv6(tcp(b"x"))
Q, AD, OLD_QINQ = 0x8100, 0x88A8, 0x9100


@pytest.mark.parametrize(
    ("frame", "offset"),
    [
        (ethernet(V4), 14),
        (ethernet(V6, 0x86DD), 14),
        (ethernet(V4, vlans=[(Q, 42)]), 18),
        (ethernet(V6, 0x86DD, vlans=[(Q, 125)]), 18),
        (ethernet(V4, vlans=[(AD, 100), (Q, 42)]), 22),
        (ethernet(V4, vlans=[(OLD_QINQ, 100), (Q, 42)]), 22),
        (ethernet(V4, vlans=[(0x9200, 1), (AD, 2), (Q, 3)]), 26),
        (ethernet(b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + V4, len(V4) + 8), 22),  # 802.3 SNAP
        (ethernet(b"\x11\x00\x00\x01\x00\x40\x00\x21" + V4, 0x8864), 22),  # PPPoE, PPP IPv4
        (ethernet(b"\x11\x00\x00\x01\x00\x40\x00\x57" + V6, 0x8864), 22),  # PPPoE, PPP IPv6
        (ethernet(b"\x00\x01\x01\x40" + V4, 0x8847), 18),  # one MPLS label
        (ethernet(b"\x00\x01\x00\x40\x00\x02\x01\x40" + V6, 0x8847), 22),  # two labels
    ],
)
def test_ethernet(frame: bytes, offset: int) -> None:
    assert ip_offset(1, frame) == offset


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (ethernet(b"\x00" * 28, 0x0806), "ARP"),
        (ethernet(b"\x00" * 28, 0x0806, vlans=[(Q, 5)]), "ARP"),
        (ethernet(b"\x00" * 40, 0x88CC), "LLDP"),
        (ethernet(b"\x00" * 40, 0x1234), "non-IP ethertype 0x1234"),
        (ethernet(b"\x42\x42\x03" + b"\x00" * 40, 43), "802.3 LLC frame (not IP)"),
        (ethernet(b"\x11\x00\x00\x01\x00\x40\xc0\x21" + b"\x00" * 8, 0x8864),
         "PPPoE frame (not IP)"),
        (ethernet(b"\x00\x01\x01\x40" + b"\x00" * 20, 0x8847), "MPLS (not IP)"),
        (ethernet(b"")[:13], "truncated link-layer header"),
        (ethernet(b"", vlans=[(Q, 5)])[:16], "truncated link-layer header"),
        (ethernet(b"\x11\x00", 0x8864), "truncated link-layer header"),
        (ethernet(b"\x00\x01\x00\x40", 0x8847), "truncated link-layer header"),
    ],
)
def test_ethernet_not_ip(frame: bytes, reason: str) -> None:
    assert ip_offset(1, frame) == reason


def test_linux_cooked() -> None:
    assert ip_offset(113, sll(V4)) == 16
    assert ip_offset(113, sll(V6, 0x86DD)) == 16
    assert ip_offset(113, sll(struct.pack("!HH", 7, 0x0800) + V4, Q)) == 20
    assert ip_offset(113, sll(b"\x00" * 28, 0x0806)) == "ARP"
    assert ip_offset(113, sll(V4)[:15]) == "truncated link-layer header"
    assert ip_offset(276, sll2(V4)) == 20
    assert ip_offset(276, sll2(V6, 0x86DD)) == 20
    assert ip_offset(276, sll2(b"", 0x88CC)) == "LLDP"
    assert ip_offset(276, sll2(V4)[:19]) == "truncated link-layer header"


@pytest.mark.parametrize("linktype", [12, 101, 228, 229])
def test_raw_ip(linktype: int) -> None:
    assert ip_offset(linktype, V4) == 0
    assert ip_offset(linktype, V6) == 0


@pytest.mark.parametrize("family", [2, 24, 28, 30])
@pytest.mark.parametrize("order", ["<", ">"])
def test_bsd_loopback_either_byte_order(family: int, order: str) -> None:
    assert ip_offset(0, null(V4, family, byteorder=order)) == 4


@pytest.mark.parametrize("family", [2, 24, 28, 30])
def test_openbsd_loopback(family: int) -> None:
    assert ip_offset(108, loop(V6, family)) == 4


def test_loopback_not_ip() -> None:
    assert ip_offset(0, null(b"", 7)) == "loopback address family 7 (not IP)"
    assert ip_offset(108, loop(b"", 17)) == "loopback address family 17 (not IP)"
    assert ip_offset(0, b"\x02\x00") == "truncated link-layer header"


def test_unsupported_link_type() -> None:
    assert ip_offset(105, b"\x00" * 40) == "unsupported link type 105"
    assert LINKTYPE_NAMES[276] == "Linux cooked v2 (SLL2)"


@given(linktype=st.sampled_from([0, 1, 12, 101, 108, 113, 127, 228, 229, 276]),
       data=st.binary(max_size=80))
def test_fuzz_never_raises(linktype: int, data: bytes) -> None:
    result = ip_offset(linktype, data)
    assert isinstance(result, str) or 0 <= result <= len(data)
