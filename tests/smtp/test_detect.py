"""Content classification of new connections."""

from __future__ import annotations

import pytest

from authaudit.smtp.detect import Kind, Verdict, classify
from tests.smtp.tls_data import client_hello, record, server_hello

SOCKS5_CLIENT = (
    b"\x05\x01\x00" + b"\x05\x01\x00\x03\x0e010.000.00.003\x00\x19" + b"EHLO User\r\nAUTH LOGIN\r\n"
)
SOCKS5_SERVER = (
    b"\x05\x00"
    + b"\x05\x00\x00\x01\x0a\x00\x00\x01\xd1\xcd"
    + b"220 xxxxxxxx.xxxxxxxxxx.xx ESMTP Exim 4.80\r\n"
)


def grown(a: bytes, b: bytes) -> Verdict:
    """The first verdict other than NEED_MORE while both sides grow one byte at a time."""
    for n in range(max(len(a), len(b)) + 1):
        verdict = classify(a[:n], b[:n])
        if verdict.kind is not Kind.NEED_MORE:
            return verdict
    return classify(a, b, final=True)


def three_ways(a: bytes, b: bytes) -> Verdict:
    whole = classify(a, b)
    assert grown(a, b) == whole
    assert classify(a + b"MAIL FROM:<x@y>\r\n", b + b"250 ok\r\n") == whole
    return whole


def test_client_ehlo_and_greeting() -> None:
    got = three_ways(b"EHLO client.example\r\n", b"220 mx.example ESMTP Postfix\r\n")
    assert got == Verdict(Kind.SMTP, True, reason="client EHLO/HELO/LHLO")
    swapped = classify(b"220 mx.example ESMTP Postfix\r\n", b"EHLO client.example\r\n")
    assert (swapped.kind, swapped.client_is_a) == (Kind.SMTP, False)


def test_greeting_alone_is_enough_when_it_names_smtp() -> None:
    got = three_ways(b"", b"220 mail.example.com Microsoft ESMTP MAIL Service ready\r\n")
    assert (got.kind, got.client_is_a, got.mid_session) == (Kind.SMTP, True, False)


def test_a_bare_220_needs_the_client() -> None:
    assert classify(b"", b"220 ready\r\n").kind is Kind.NEED_MORE
    assert classify(b"", b"220 ready\r\n", final=True).kind is Kind.NOT_SMTP
    assert classify(b"USER anonymous\r\n", b"220 ProFTPD Server\r\n").kind is Kind.NOT_SMTP
    assert classify(b"AUTH TLS\r\n", b"220 FTP ready\r\n").kind is Kind.NOT_SMTP
    assert classify(b"HELO x\r\n", b"220 ready\r\n").kind is Kind.SMTP


def test_capture_starting_mid_session() -> None:
    got = three_ways(b"AUTH LOGIN\r\n", b"334 VXNlcm5hbWU6\r\n")
    assert (got.kind, got.client_is_a, got.mid_session) == (Kind.SMTP, True, True)
    got = three_ways(b"Z2FsdW50\r\n", b"334 UGFzc3dvcmQ6\r\n")
    assert (got.kind, got.client_is_a, got.mid_session) == (Kind.SMTP, True, True)
    got = classify(b"235 2.7.0 ok\r\n", b"VjF2MXRyMG4=\r\n")
    assert (got.kind, got.client_is_a, got.mid_session) == (Kind.SMTP, False, True)
    got = classify(b"EHLO\n", b"250\n")
    assert (got.kind, got.client_is_a, got.mid_session) == (Kind.SMTP, True, True)


def test_client_command_alone() -> None:
    assert classify(b"AUTH LOGIN\r\n", b"").kind is Kind.NEED_MORE
    got = classify(b"AUTH LOGIN\r\n", b"", final=True)
    assert (got.kind, got.client_is_a, got.mid_session) == (Kind.SMTP, True, True)
    assert classify(b"Z2FsdW50\r\n", b"", final=True).kind is Kind.NOT_SMTP


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (b"AUTH NTLM\r\n", b"+ \r\n"),  # POP3
        (b"CAPA\r\n", b"+OK POP3 server ready\r\n"),
        (b"a001 AUTHENTICATE NTLM\r\n", b"* OK IMAP4rev1 server ready\r\n"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200 OK\r\n"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", b"SSH-2.0-OpenSSH_9.2\r\n"),
        (b"\x05\x00\x0b\x03\x10\x00\x00\x00", b"\x05\x00\x0c\x03\x10\x00\x00\x00"),  # DCE/RPC
        (b"EHLO a\r\n", b"EHLO b\r\n"),
        (b"250 ok\r\n", b"220 x ESMTP\r\n"),
    ],
)
def test_other_protocols(a: bytes, b: bytes) -> None:
    assert classify(a, b).kind is Kind.NOT_SMTP
    assert classify(b, a).kind is Kind.NOT_SMTP


def test_implicit_tls_with_sni() -> None:
    hello = record(0x16, client_hello("smtp.example.net"))
    got = three_ways(hello, b"")
    assert got == Verdict(Kind.IMPLICIT_TLS, True, sni="smtp.example.net", reason="TLS ClientHello")
    assert classify(b"", hello).client_is_a is False
    got = classify(b"", record(0x16, server_hello()))
    assert (got.kind, got.client_is_a) == (Kind.IMPLICIT_TLS, True)
    assert classify(record(0x17, bytes(30)), b"").client_is_a is None


def test_socks5_tunnel() -> None:
    got = three_ways(SOCKS5_CLIENT, SOCKS5_SERVER)
    assert got == Verdict(
        Kind.SMTP, True, tunnel="socks5", skip_a=24, skip_b=12, reason="client EHLO/HELO/LHLO"
    )
    swapped = classify(SOCKS5_SERVER, SOCKS5_CLIENT)
    assert (swapped.client_is_a, swapped.skip_a, swapped.skip_b) == (False, 12, 24)


def test_socks5_with_username_password() -> None:
    client = (
        b"\x05\x02\x00\x02"
        + b"\x01\x03bob\x06secret"
        + b"\x05\x01\x00\x04"
        + bytes(16)
        + b"\x02\x4b"
        + b"EHLO a\r\n"
    )
    server = (
        b"\x05\x02" + b"\x01\x00" + b"\x05\x00\x00\x01" + bytes(4) + b"\x00\x00" + b"220 x SMTP\r\n"
    )
    got = classify(client, server)
    assert (got.kind, got.tunnel, got.skip_a, got.skip_b) == (Kind.SMTP, "socks5", 4 + 12 + 22, 14)


def test_socks5_refused_or_incomplete() -> None:
    assert classify(SOCKS5_CLIENT, b"").kind is Kind.NEED_MORE
    assert classify(SOCKS5_CLIENT[:5], SOCKS5_SERVER[:3]).kind is Kind.NEED_MORE
    refused = b"\x05\x00" + b"\x05\x05\x00\x01" + bytes(6)
    assert classify(SOCKS5_CLIENT, refused).kind is Kind.NOT_SMTP
    to_http = b"\x05\x01\x00\x05\x01\x00\x01" + bytes(6) + b"GET / HTTP/1.1\r\n"
    assert (
        classify(to_http, b"\x05\x00\x05\x00\x00\x01" + bytes(6) + b"HTTP/1.1 200 OK\r\n").kind
        is Kind.NOT_SMTP
    )


def test_socks4_and_4a() -> None:
    client = b"\x04\x01\x00\x19\x0a\x00\x00\x01user\x00EHLO a\r\n"
    server = b"\x00\x5a" + bytes(6) + b"220 mx ESMTP\r\n"
    got = classify(client, server)
    assert (got.kind, got.tunnel, got.skip_a, got.skip_b) == (Kind.SMTP, "socks4", 13, 8)
    client4a = b"\x04\x01\x00\x19\x00\x00\x00\x07\x00mx.example\x00EHLO a\r\n"
    got = classify(client4a, server)
    assert (got.kind, got.tunnel, got.skip_a) == (Kind.SMTP, "socks4", 20)
    assert classify(client, b"\x00\x5b" + bytes(6)).kind is Kind.NOT_SMTP


def test_nothing_yet() -> None:
    assert classify(b"", b"").kind is Kind.NEED_MORE
    assert classify(b"EH", b"").kind is Kind.NEED_MORE
    assert classify(b"", b"", final=True).kind is Kind.NOT_SMTP
