"""Strict and lenient base64."""

from __future__ import annotations

import binascii

import pytest

from authaudit.smtp.b64 import decode_b64, is_strict_b64, strict_b64decode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"", b""),
        (b"dXNlcm5hbWUAAHBhc3N3b3Jk", b"username\x00\x00password"),
        (b"QUIT", b"AB\x13"),
        (b"YQ==", b"a"),
    ],
)
def test_strict_accepts_canonical_base64(text: bytes, expected: bytes) -> None:
    assert strict_b64decode(text) == expected
    assert is_strict_b64(text)
    assert decode_b64(text) == (expected, False)


@pytest.mark.parametrize(
    "text",
    [b"YQ", b"YQ=", b"YWJj==", b"Y=Jj", b"YW Jj", b"YWJj\n", b"a-_b", b"=", b"MAIL FROM:<a@b>"],
)
def test_strict_rejects_everything_else(text: bytes) -> None:
    with pytest.raises(binascii.Error):
        strict_b64decode(text)
    assert not is_strict_b64(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"YQ", b"a"),  # missing padding
        (b"YWJj==", b"abc"),  # superfluous padding
        (b" YW Jj\t", b"abc"),  # whitespace
        (b"-_-_", b"\xfb\xff\xbf"),  # URL-safe alphabet
        (b"=", b""),  # the SASL "empty" marker sent where base64 was expected
    ],
)
def test_lenient_decoding_says_so(text: bytes, expected: bytes) -> None:
    assert decode_b64(text) == (expected, True)


@pytest.mark.parametrize("text", [b"MAIL FROM:<a@b>", b"a", b"abcde", b"ab=cd", b"\x16\x03\x01"])
def test_lenient_decoding_still_refuses_non_base64(text: bytes) -> None:
    with pytest.raises(ValueError, match="base64"):
        decode_b64(text)
