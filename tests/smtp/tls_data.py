"""Builders for TLS records used by the tests."""

from __future__ import annotations

__all__ = ["client_hello", "record", "server_hello"]


def record(content_type: int, body: bytes, version: bytes = b"\x03\x01") -> bytes:
    """One TLS record."""
    return bytes([content_type]) + version + len(body).to_bytes(2, "big") + body


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def client_hello(sni: str | None = None, *, padding: int = 0) -> bytes:
    """A ClientHello handshake message (not yet wrapped in a record)."""
    extensions = b""
    if sni is not None:
        name = sni.encode("ascii")
        entry = b"\x00" + len(name).to_bytes(2, "big") + name
        data = len(entry).to_bytes(2, "big") + entry
        extensions += b"\x00\x00" + len(data).to_bytes(2, "big") + data
    if padding:
        extensions += b"\x00\x15" + padding.to_bytes(2, "big") + bytes(padding)
    body = (
        b"\x03\x03"
        + bytes(32)
        + b"\x00"
        + b"\x00\x02\x13\x01"
        + b"\x01\x00"
        + len(extensions).to_bytes(2, "big")
        + extensions
    )
    return _handshake(1, body)


def server_hello() -> bytes:
    """A ServerHello handshake message."""
    return _handshake(2, b"\x03\x03" + bytes(32) + b"\x00\x13\x01\x00")
