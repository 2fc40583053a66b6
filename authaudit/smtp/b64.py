"""Base64 as SASL uses it (RFC 4648 section 4): a strict decoder, and a lenient one that says so.

SMTP AUTH carries every client response and server challenge as one line of base64 (RFC 4954
section 4). A passive decoder must not turn arbitrary text into "credentials" (the classic mistake
of decoding mail bodies with a forgiving decoder), so the strict form is the default. Some real
clients still send sloppy base64 (missing or extra padding, the URL-safe alphabet, stray spaces);
the lenient decoder accepts exactly those deviations and reports that it had to.
"""

from __future__ import annotations

import binascii

__all__ = ["decode_b64", "is_strict_b64", "strict_b64decode"]

_URLSAFE = bytes.maketrans(b"-_", b"+/")
_WHITESPACE = b" \t\r\n\x0b\x0c"
_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def strict_b64decode(s: bytes) -> bytes:
    """Decode canonical base64: standard alphabet, length a multiple of 4, padding only at the end.

    Raises:
        ValueError: (``binascii.Error``) on any other input.
    """
    if len(s) & 3:
        raise binascii.Error("base64 length is not a multiple of 4")
    return binascii.a2b_base64(s, strict_mode=True)


def is_strict_b64(s: bytes) -> bool:
    """True when :func:`strict_b64decode` would accept ``s``."""
    try:
        strict_b64decode(s)
    except ValueError:
        return False
    return True


def decode_b64(s: bytes) -> tuple[bytes, bool]:
    """Decode ``s`` strictly if possible, else leniently; the flag is True when leniency was needed.

    Lenient decoding tolerates surrounding and embedded whitespace, the URL-safe alphabet
    (``-`` and ``_``), and missing or superfluous ``=`` padding. Any other character means the text
    is not base64 at all.

    Raises:
        ValueError: ``s`` is not base64 even leniently.
    """
    try:
        return strict_b64decode(s), False
    except ValueError:
        pass
    body = s.translate(_URLSAFE, _WHITESPACE).rstrip(b"=")
    if not _ALPHABET.issuperset(body) or len(body) & 3 == 1:
        raise binascii.Error("not base64")
    body += b"=" * (-len(body) & 3)
    return binascii.a2b_base64(body, strict_mode=True), True
