"""Rendering wire bytes as report text."""

from __future__ import annotations

from authaudit.smtp.text import escape_bytes, render_bytes, render_text


def test_printable_utf8_is_kept() -> None:
    assert render_bytes(b"gurpartap@patriots.in") == "gurpartap@patriots.in"
    assert render_bytes("jürgen méyer".encode()) == "jürgen méyer"


def test_anything_else_is_escaped_byte_by_byte() -> None:
    assert render_bytes(b"AB\x13") == "\\x41\\x42\\x13"
    assert render_bytes(b"\xff") == "\\xff"
    assert render_bytes(b"tab\there") == escape_bytes(b"tab\there")


def test_protocol_text_keeps_what_it_can() -> None:
    assert render_text(b"2.7.0 Authentication successful") == "2.7.0 Authentication successful"
    assert render_text(b"caf\xe9") == "caf\\xe9"
