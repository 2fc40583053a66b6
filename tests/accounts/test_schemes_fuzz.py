"""Property tests: any text identifies without raising; any candidate verifies without raising."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authaudit.accounts.schemes import SchemeInfo, UnknownScheme, identify, make_verifier

from .test_schemes import BY_LABEL

SCHEME_NAMES = [
    "PLAIN", "CLEAR", "PLAIN-TRUNC", "CRYPT", "MD5", "MD5-CRYPT", "SHA512-CRYPT", "BLF-CRYPT",
    "SHA", "SHA256", "SSHA", "SMD5", "PLAIN-MD5", "LDAP-MD5", "CRAM-MD5", "DIGEST-MD5", "NTLM",
    "SCRAM-SHA-1", "SCRAM-SHA-256", "PBKDF2", "ARGON2ID", "OTP", "SKEY", "RPA", "FOO", "",
]  # fmt: skip
SUFFIXES = ["", ".b64", ".HEX", ".base64", ".x", "."]
FRAGMENTS = [
    "$1$", "$5$", "$6$", "rounds=", "$2y$05$", "$2x$", "$y$", "$gy$", "$7$", "$sha1$", "$md5",
    "$3$$", "_", "$argon2id$v=19$m=", ",t=", ",p=", "$", ",", "-", " ", "!", "*", "=", "{", "}",
    "4096,", "sha1 ", "md5 ", "99 ", "j9T", "CU..../....", "0123456789abcdef", "AAAA", "./",
]  # fmt: skip
DEFAULTS = [None, "CRYPT", "MD5", "PLAIN", "SHA1", "BOGUS", "PLAIN.b64"]

text_like = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=8).map(
    "".join
)
prefixed = st.builds(
    lambda name, suffix, data: f"{{{name}{suffix}}}{data}",
    st.sampled_from(SCHEME_NAMES),
    st.sampled_from(SUFFIXES),
    text_like,
)


def _check(stored: str, default: str | None) -> None:
    info = identify(stored, default_scheme=default)
    assert isinstance(info, SchemeInfo | UnknownScheme)
    if isinstance(info, UnknownScheme):
        assert "internal error" not in info.reason, (stored, info)
        assert info.reason
    else:
        assert info.name and info.cost_seconds > 0


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200), st.sampled_from(DEFAULTS))
def test_identify_arbitrary_text(stored: str, default: str | None) -> None:
    """Any Unicode string gives a SchemeInfo or an UnknownScheme with a reason."""
    _check(stored, default)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(prefixed, text_like), st.sampled_from(DEFAULTS))
def test_identify_structured_text(stored: str, default: str | None) -> None:
    """Near-miss values built from real prefixes and fragments never crash the parser."""
    _check(stored, default)


CHEAP_LABELS = [
    "PLAIN", "PLAIN-TRUNC-8", "PLAIN.B64", "SHA1", "SSHA512", "PLAIN-MD4", "PLAIN-MD5",
    "CRAM-MD5", "DIGEST-MD5", "OTP", "DES-CRYPT", "MD5-CRYPT", "BLF-CRYPT-r4", "bsdi", "nt",
    "SHA512-CRYPT-r1000",
]  # fmt: skip


def _verifiers() -> list[Callable[[str], bool]]:
    out = []
    for label in CHEAP_LABELS:
        row = BY_LABEL[label]
        verify = make_verifier(identify(row.hash), username=row.user or "u@r")
        assert verify is not None, label
        out.append(verify)
    return out


VERIFIERS = _verifiers()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120))
def test_verifiers_accept_any_candidate(candidate: str) -> None:
    """Any candidate (lone surrogates, NUL, huge) gives a bool from every verifier."""
    for verify in VERIFIERS:
        assert isinstance(verify(candidate), bool)


def test_verifiers_edge_candidates() -> None:
    """Candidates no client can send, or no backend takes, are simply not the password."""
    for candidate in ("", "\0", "\ud800", "\udcff", "x" * 5000, "é" * 300):
        for verify in VERIFIERS:
            assert verify(candidate) is False
