"""Recognising the start of TLS in a byte stream, and reading the server name from a ClientHello.

Used on the first client bytes after ``220`` to STARTTLS and on the first bytes of a connection
(implicit TLS on 465 or any port). Only the record layer and the ClientHello (RFC 8446 4.1.2,
RFC 5246 7.4.1.2) are parsed, plus the server_name extension (RFC 6066 section 3).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["MAX_HELLO", "Hello", "Sniff", "looks_like_tls", "sniff_tls"]

MAX_HELLO = 64 * 1024
"""Bytes read at most to find a whole ClientHello (post-quantum key shares make them several KB)."""

_HANDSHAKE = 0x16
_CLIENT_HELLO = 0x01
_SERVER_HELLO = 0x02
_SNI = 0x0000
_RECORD_TYPES = frozenset({0x14, 0x15, _HANDSHAKE, 0x17})


class Sniff(enum.Enum):
    """What the first bytes of a stream are."""

    NOT_TLS = "not TLS"
    NEED_MORE = "need more bytes"
    CLIENT_HELLO = "TLS ClientHello"
    SERVER_HELLO = "TLS ServerHello"
    OTHER_TLS = "other TLS record"


@dataclass(frozen=True, slots=True)
class Hello:
    """The verdict on some bytes, with the SNI host name when a whole ClientHello carried one."""

    kind: Sniff
    sni: str | None = None


def looks_like_tls(data: bytes) -> bool | None:
    """Whether ``data`` starts like a TLS record (or an SSLv2 hello); None when it is too short."""
    n = len(data)
    if n == 0:
        return None
    first = data[0]
    if first in _RECORD_TYPES:
        if n > 1 and data[1] != 3:
            return False
        return None if n < 3 else data[2] <= 4
    if first & 0x80:  # SSLv2 header: 2-byte length, msg_type 1, version 0x0002 or 0x03xx
        if n < 4:
            return None
        return data[2] == _CLIENT_HELLO and data[3] in (0, 3)
    return False


def sniff_tls(data: bytes, *, final: bool = False) -> Hello:
    """Classify the first bytes of a stream and, for a ClientHello, extract its SNI.

    Args:
        data: bytes from the start of the stream (or from just after a STARTTLS 220).
        final: no more bytes will come; answer with what there is instead of ``NEED_MORE``.
    """
    tls = looks_like_tls(data)
    if tls is None:
        return Hello(Sniff.NOT_TLS if final else Sniff.NEED_MORE)
    if not tls:
        return Hello(Sniff.NOT_TLS)
    if data[0] & 0x80:
        return Hello(Sniff.CLIENT_HELLO)
    if data[0] != _HANDSHAKE:
        return Hello(Sniff.OTHER_TLS)
    message = _handshake_message(data)
    if message is None:
        if final or len(data) >= MAX_HELLO:
            hello = len(data) > 5 and data[5] == _CLIENT_HELLO
            return Hello(Sniff.CLIENT_HELLO if hello else Sniff.OTHER_TLS)
        return Hello(Sniff.NEED_MORE)
    if message[0] == _SERVER_HELLO:
        return Hello(Sniff.SERVER_HELLO)
    if message[0] != _CLIENT_HELLO:
        return Hello(Sniff.OTHER_TLS)
    try:
        sni = _server_name(message)
    except (IndexError, ValueError):
        sni = None
    return Hello(Sniff.CLIENT_HELLO, sni)


def _handshake_message(data: bytes) -> bytes | None:
    """The first handshake message, joined across records; None until it is complete."""
    payload = bytearray()
    pos = 0
    while pos + 5 <= len(data) and data[pos] == _HANDSHAKE:
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        payload += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
        if len(payload) >= 4:
            need = 4 + int.from_bytes(payload[1:4], "big")
            if len(payload) >= need:
                return bytes(payload[:need])
        if pos > len(data):
            return None
    return None


def _server_name(hello: bytes) -> str | None:
    """The host_name of the server_name extension of a ClientHello handshake message."""
    pos = 4 + 2 + 32  # handshake header, legacy_version, random
    pos += 1 + hello[pos]  # legacy_session_id
    pos += 2 + int.from_bytes(hello[pos : pos + 2], "big")  # cipher_suites
    pos += 1 + hello[pos]  # legacy_compression_methods
    if pos + 2 > len(hello):
        return None  # no extensions (SSL 3.0 style)
    end = min(len(hello), pos + 2 + int.from_bytes(hello[pos : pos + 2], "big"))
    pos += 2
    while pos + 4 <= end:
        ext_type = int.from_bytes(hello[pos : pos + 2], "big")
        ext_len = int.from_bytes(hello[pos + 2 : pos + 4], "big")
        body = hello[pos + 4 : pos + 4 + ext_len]
        pos += 4 + ext_len
        if ext_type != _SNI:
            continue
        at = 2  # server_name_list length
        while at + 3 <= len(body):
            name_type = body[at]
            name_len = int.from_bytes(body[at + 1 : at + 3], "big")
            name = body[at + 3 : at + 3 + name_len]
            at += 3 + name_len
            if name_type == 0 and name:
                return name.decode("ascii", "backslashreplace")
        return None
    return None
