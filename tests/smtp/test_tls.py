"""Recognising TLS and reading the SNI of a ClientHello."""

from __future__ import annotations

import pytest

from authaudit.smtp.tls import Hello, Sniff, looks_like_tls, sniff_tls
from tests.smtp.helpers import feed_three_ways
from tests.smtp.tls_data import client_hello, record, server_hello


def sniff_chunks(chunks: list[bytes]) -> Hello:
    """What the sniffer says once the bytes stop being NEED_MORE (fed incrementally)."""
    data = b""
    hello = Hello(Sniff.NEED_MORE)
    for chunk in chunks:
        data += chunk
        hello = sniff_tls(data)
        if hello.kind is not Sniff.NEED_MORE:
            return hello
    return hello


def test_client_hello_with_sni() -> None:
    data = record(0x16, client_hello("dovecot.weberlab.de"))
    got = feed_three_ways(data, sniff_chunks, trailing=record(0x16, b"\x10\x00\x00\x00"))
    assert got == Hello(Sniff.CLIENT_HELLO, "dovecot.weberlab.de")


def test_client_hello_without_sni() -> None:
    assert sniff_tls(record(0x16, client_hello())) == Hello(Sniff.CLIENT_HELLO)


def test_client_hello_split_over_records() -> None:
    message = client_hello("mail.example.org", padding=3000)
    data = (
        record(0x16, message[:1000])
        + record(0x16, message[1000:2000])
        + record(0x16, message[2000:])
    )
    assert sniff_chunks([data[i : i + 700] for i in range(0, len(data), 700)]) == Hello(
        Sniff.CLIENT_HELLO, "mail.example.org"
    )


def test_truncated_hello_is_a_client_hello_when_final() -> None:
    data = record(0x16, client_hello("x.example"))[:40]
    assert sniff_tls(data) == Hello(Sniff.NEED_MORE)
    assert sniff_tls(data, final=True) == Hello(Sniff.CLIENT_HELLO)


def test_other_records() -> None:
    assert sniff_tls(record(0x16, server_hello())) == Hello(Sniff.SERVER_HELLO)
    assert sniff_tls(record(0x17, b"\x00" * 20)) == Hello(Sniff.OTHER_TLS)
    assert sniff_tls(b"\x80\x2e\x01\x03\x01") == Hello(Sniff.CLIENT_HELLO)  # SSLv2-compatible


@pytest.mark.parametrize(
    ("data", "tls"),
    [
        (b"", None),
        (b"\x16", None),
        (b"\x16\x03", None),
        (b"\x16\x03\x01", True),
        (b"\x16\x03\x09", False),
        (b"\x16\x02", False),
        (b"EHLO", False),
        (b"\x80\x2e\x01", None),
        (b"\x80\x2e\x01\x03", True),
        (b"\x80\x2e\x02\x03", False),
    ],
)
def test_looks_like_tls(data: bytes, tls: bool | None) -> None:
    assert looks_like_tls(data) is tls


def test_not_tls() -> None:
    assert sniff_tls(b"EHLO x\r\n") == Hello(Sniff.NOT_TLS)
    assert sniff_tls(b"", final=True) == Hello(Sniff.NOT_TLS)


def test_garbage_after_a_hello_header_does_not_raise() -> None:
    body = b"\x01\x00\x00\x2d" + b"\x03\x03" + bytes(32) + b"\xff" + b"\x01" * 10
    assert sniff_tls(record(0x16, body)) == Hello(Sniff.CLIENT_HELLO)
