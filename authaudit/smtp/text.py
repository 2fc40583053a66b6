"""How bytes seen on the wire become text in reports: readable when possible, never lossy."""

from __future__ import annotations

__all__ = ["escape_bytes", "render_bytes", "render_text"]


def escape_bytes(data: bytes) -> str:
    """Every byte as a ``\\xHH`` escape, e.g. ``b"AB\\x13"`` becomes ``\\x41\\x42\\x13``."""
    return "".join(f"\\x{b:02x}" for b in data)


def render_bytes(data: bytes) -> str:
    """``data`` as UTF-8 text when it is valid and printable; otherwise every byte escaped.

    All-or-nothing on purpose: a partly escaped string could collide with a real identity, while a
    fully escaped one is unambiguous (user names and passwords are reported with this rule).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return escape_bytes(data)
    return text if text.isprintable() else escape_bytes(data)


def render_text(data: bytes) -> str:
    """Protocol text (reply text, host names) for display: UTF-8, undecodable bytes escaped."""
    return data.decode("utf-8", "backslashreplace")
