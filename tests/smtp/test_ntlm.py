"""NTLMSSP parsing and NetNTLM lines."""

from __future__ import annotations

import pytest

from authaudit.redact import SecretKind
from authaudit.smtp import ntlm
from authaudit.smtp.b64 import strict_b64decode
from tests.smtp.ntlm_data import (
    CORPUS_TYPE1,
    CORPUS_TYPE2,
    CORPUS_TYPE3,
    CORPUS_V1_LINE,
    SPEC_V2_BLOB,
    authenticate,
    challenge,
)


def test_message_types() -> None:
    assert ntlm.message_type(strict_b64decode(CORPUS_TYPE1)) == 1
    assert ntlm.message_type(strict_b64decode(CORPUS_TYPE2)) == 2
    assert ntlm.message_type(strict_b64decode(CORPUS_TYPE3)) == 3
    assert ntlm.message_type(b"NTLMSSP") is None
    assert ntlm.message_type(b"NOTLMSSP\x00\x03\x00\x00\x00") is None


def test_corpus_exchange_gives_the_expected_netntlmv1_line() -> None:
    server_challenge = ntlm.parse_challenge(strict_b64decode(CORPUS_TYPE2))
    assert server_challenge.hex() == "0123456789abcdef"
    auth = ntlm.parse_authenticate(strict_b64decode(CORPUS_TYPE3))
    assert (auth.domain, auth.user, auth.workstation) == ("SMTPDOM", "jack", "SMTPHOST")
    assert auth.unicode
    assert auth.identity == "SMTPDOM\\jack"
    secret = ntlm.netntlm_secret(auth, server_challenge)
    assert secret is not None
    assert (secret.kind, secret.value) == (SecretKind.NETNTLMV1, CORPUS_V1_LINE)


def test_ntlmv2_line_splits_ntproofstr_and_blob() -> None:
    nt = bytes.fromhex("68cd0ab851e51c96aabc927bebef6a1c") + SPEC_V2_BLOB
    auth = ntlm.parse_authenticate(authenticate(bytes(24), nt, "Domain", "User", "COMPUTER"))
    secret = ntlm.netntlm_secret(auth, bytes.fromhex("0123456789abcdef"))
    assert secret is not None
    assert secret.kind is SecretKind.NETNTLMV2
    assert secret.value == (
        "User::Domain:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:" + SPEC_V2_BLOB.hex()
    )


def test_oem_names_and_no_domain() -> None:
    auth = ntlm.parse_authenticate(authenticate(b"", bytes(24), "", "bob", "PC", unicode=False))
    assert (auth.domain, auth.user, auth.identity, auth.unicode) == ("", "bob", "bob", False)


def test_anonymous_or_short_response_gives_no_line() -> None:
    auth = ntlm.parse_authenticate(authenticate(b"\x00", b"", "", "", "PC"))
    assert ntlm.netntlm_secret(auth, bytes(8)) is None


@pytest.mark.parametrize(
    "blob",
    [
        b"NTLMSSP\x00\x03\x00\x00\x00",
        authenticate(b"", bytes(24), "D", "U", "H")[:70],
        b"NTLMSSP\x00\x03\x00\x00\x00" + b"\x18\x00\x18\x00\xff\xff\x00\x00" + bytes(60),
    ],
)
def test_malformed_authenticate_raises_value_error(blob: bytes) -> None:
    with pytest.raises(ValueError, match="NTLMSSP"):
        ntlm.parse_authenticate(blob)


def test_bad_utf16_names_are_escaped() -> None:
    auth = ntlm.parse_authenticate(authenticate(b"", bytes(24), "", "x", "H"))
    blob = authenticate(b"", bytes(24), "", "x", "H")
    odd = blob[: -len("H".encode("utf-16-le"))] + b"\x00\xd8"  # a lone surrogate as host name
    assert auth.user == "x"
    assert ntlm.parse_authenticate(odd).workstation == "\\x00\\xd8"


def test_challenge_needs_a_type2_message() -> None:
    assert ntlm.parse_challenge(challenge(b"\x11" * 8)) == b"\x11" * 8
    with pytest.raises(ValueError, match="CHALLENGE"):
        ntlm.parse_challenge(strict_b64decode(CORPUS_TYPE1))
