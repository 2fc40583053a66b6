"""Password schemes against real ``doveadm pw`` output and libcrypt hashes (data/doveadm).

``hashes.tsv`` is written by ``data/doveadm/generate.py`` and every row in it was verified by
``doveadm pw -t``; the peer test at the end regenerates it in a temporary directory.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from authaudit.accounts.schemes import (
    Family,
    Problem,
    SchemeInfo,
    UnknownScheme,
    identify,
    make_verifier,
    verifier_backend,
)
from authaudit.accounts.schemes_verify import _libpass_verifier

DATA = Path(__file__).parent / "data" / "doveadm"
GENERATOR = DATA / "generate.py"


@dataclass(frozen=True)
class Row:
    """One line of hashes.tsv."""

    source: str
    label: str
    scheme: str
    rounds: int
    user: str
    password: str
    hash: str
    expect: str


def read_rows(path: Path) -> list[Row]:
    """The rows of a hashes.tsv file."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        return [
            Row(
                r["source"],
                r["label"],
                r["scheme"],
                int(r["rounds"]),
                r["user"],
                r["password"],
                r["hash"],
                r["expect"],
            )
            for r in reader
        ]


ROWS = read_rows(DATA / "hashes.tsv")
BY_LABEL = {row.label: row for row in ROWS}

# Canonical name per doveadm scheme where it differs, and per label for the other rows.
NAMES = {
    "SHA": "SHA1",
    "CRYPT": "BLF-CRYPT",
    "CLEAR": "PLAIN",
    "CLEARTEXT": "PLAIN",
    "HMAC-MD5": "CRAM-MD5",
    "LDAP-MD5": "PLAIN-MD5",
    "MD5": "MD5-CRYPT",
    "MD5-hex": "PLAIN-MD5",
    "PLAIN-TRUNC-full": "PLAIN-TRUNC",
    "PLAIN-TRUNC-8": "PLAIN-TRUNC",
    "bare-md5-crypt": "MD5-CRYPT",
    "bare-md5-crypt-trailing": "MD5-CRYPT",
    "vpopmail-des": "DES-CRYPT",
    "vpopmail-md5": "MD5-CRYPT",
    "vpopmail-sha512": "SHA512-CRYPT",
    "des": "DES-CRYPT",
    "bsdi": "BSDI-CRYPT",
    "md5-crypt": "MD5-CRYPT",
    "sha256-crypt": "SHA256-CRYPT",
    "sha512-crypt": "SHA512-CRYPT",
    "sha512-crypt-1000": "SHA512-CRYPT",
    "bcrypt-2b": "BLF-CRYPT",
    "bcrypt-2a": "BLF-CRYPT",
    "yescrypt": "YESCRYPT",
    "yescrypt-cost3": "YESCRYPT",
    "gost-yescrypt": "GOST-YESCRYPT",
    "scrypt": "SCRYPT",
    "sha1crypt": "SHA1-CRYPT",
    "sun-md5": "SUN-MD5-CRYPT",
    "nt": "NT-CRYPT",
}
WEAK_NAMES = {
    "DES-CRYPT", "BSDI-CRYPT", "MD5-CRYPT", "SUN-MD5-CRYPT", "SHA1-CRYPT", "NT-CRYPT",
    "PLAIN-MD4", "PLAIN-MD5", "SHA1", "SHA256", "SHA512", "SMD5", "SSHA", "SSHA256", "SSHA512",
    "CRAM-MD5", "DIGEST-MD5", "OTP",
}  # fmt: skip
LOW_COST = {
    "BLF-CRYPT", "CRYPT", "BLF-CRYPT.B64", "BLF-CRYPT-r4", "BLF-CRYPT-pw0", "BLF-CRYPT-pw3",
    "bcrypt-2b", "bcrypt-2a", "SHA512-CRYPT-r1000", "SHA256-CRYPT-r2000", "sha512-crypt-1000",
    "PBKDF2", "PBKDF2-r1000", "PBKDF2-pw0", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-256-pw0",
    "yescrypt-cost3",
}  # fmt: skip
COSTS: dict[str, dict[str, int]] = {
    "BLF-CRYPT": {"cost": 5},
    "BLF-CRYPT-r4": {"cost": 4},
    "BLF-CRYPT-r10": {"cost": 10},
    "SHA512-CRYPT": {"rounds": 5000},
    "SHA512-CRYPT-r1000": {"rounds": 1000},
    "SHA512-CRYPT-r20000": {"rounds": 20000},
    "SHA256-CRYPT-r2000": {"rounds": 2000},
    "MD5-CRYPT": {"rounds": 1000},
    "PBKDF2": {"iterations": 5000},
    "PBKDF2-r20000": {"iterations": 20000},
    "SCRAM-SHA-1": {"iterations": 4096},
    "ARGON2I": {"memory_kib": 32768, "time_cost": 4, "parallelism": 1},
    "ARGON2ID": {"memory_kib": 65536, "time_cost": 3, "parallelism": 1},
    "OTP": {"iterations": 1024},
    "bsdi": {"rounds": 725},
    "yescrypt": {"memory_kib": 16384, "parallelism": 1},
    "yescrypt-cost3": {"memory_kib": 4096},
    "gost-yescrypt": {"memory_kib": 16384},
    "scrypt": {"memory_kib": 65536, "parallelism": 1},
    "sha512-crypt-1000": {"rounds": 1000},
}
DOVECOT_2_3_19_SCHEMES = set(
    "SHA1 SSHA512 SCRAM-SHA-256 BLF-CRYPT PLAIN HMAC-MD5 OTP SHA512 SHA DES-CRYPT CRYPT SSHA "
    "MD5-CRYPT PLAIN-MD4 PLAIN-MD5 SCRAM-SHA-1 SHA512-CRYPT CLEAR CLEARTEXT ARGON2I ARGON2ID "
    "SSHA256 MD5 PBKDF2 SHA256 CRAM-MD5 PLAIN-TRUNC SHA256-CRYPT SMD5 DIGEST-MD5 LDAP-MD5".split()
)
"""What ``doveadm pw -l`` lists on Debian 12's dovecot-core 2.3.19.1."""
ENCODED = {"PLAIN.HEX": "hex", "SHA1.HEX": "hex", "CRAM-MD5.B64": "b64", "SHA": "b64"}


def wrong(password: str) -> str:
    """A different password that differs in the first character (DES ignores chars 9+)."""
    return ("Y" if password.startswith("X") else "X") + password[1:]


def _check_row(row: Row) -> SchemeInfo:
    info = identify(row.hash)
    assert isinstance(info, SchemeInfo), (row.label, info)
    verify = make_verifier(info, username=row.user or None)
    assert verify is not None, row.label
    assert verify(row.password), row.label
    assert not verify(wrong(row.password)), row.label
    assert not verify(row.password + "\0"), row.label
    return info


@pytest.mark.parametrize("row", [r for r in ROWS if r.expect == "verify"], ids=lambda r: r.label)
def test_fixture_row(row: Row) -> None:
    """Right name, verdicts and parameters; the password verifies, a wrong one does not."""
    info = _check_row(row)
    base = row.scheme.split(".")[0]
    name = NAMES.get(base, base) if row.source == "doveadm" else NAMES[row.label]
    assert info.name == name
    assert (info.weak is not None) == (name in WEAK_NAMES), info.weak
    assert (info.low_cost is not None) == (row.label in LOW_COST), info.low_cost
    for field, value in COSTS.get(row.label, {}).items():
        assert getattr(info.cost, field) == value, field
    if row.label in ENCODED:
        assert info.encoding == ENCODED[row.label]
    if info.family is Family.CLEARTEXT:
        assert info.cleartext is not None
        assert row.password.startswith(info.cleartext.value)
    else:
        assert info.cleartext is None
    assert info.needs_username == (name == "DIGEST-MD5")
    assert info.cost_seconds > 0
    assert verifier_backend(info) is not None


def test_doveadm_plain_trunc_output_is_malformed() -> None:
    """doveadm's own PLAIN-TRUNC output lacks the length prefix Dovecot needs to verify it."""
    info = identify(BY_LABEL["PLAIN-TRUNC"].hash)
    assert isinstance(info, UnknownScheme)
    assert info.problem is Problem.MALFORMED
    assert info.declared == "PLAIN-TRUNC"


def test_every_listed_scheme_is_in_the_fixtures() -> None:
    """The fixture covers every scheme `doveadm pw -l` listed when it was generated."""
    listed = {r.scheme for r in ROWS if r.source == "doveadm" and "." not in r.scheme}
    assert listed == DOVECOT_2_3_19_SCHEMES


@pytest.mark.parametrize(
    ("label", "longer"),
    [
        ("BLF-CRYPT-pw3", lambda pw: pw[:72] + "different tail"),
        ("DES-CRYPT-pw3", lambda pw: pw[:8] + "zzz"),
        ("vpopmail-des", lambda pw: pw[:8] + "!"),
        ("PLAIN-TRUNC-8", lambda pw: pw[:8] + "anything"),
    ],
)
def test_truncating_schemes_accept_what_dovecot_accepts(label: str, longer: object) -> None:
    """Only the first N bytes count for DES (8), bcrypt (72) and a truncated PLAIN-TRUNC."""
    row = BY_LABEL[label]
    info = identify(row.hash)
    assert isinstance(info, SchemeInfo)
    assert info.truncates_at in (8, 72)
    verify = make_verifier(info)
    assert verify is not None
    assert callable(longer)
    assert verify(longer(row.password))


def test_plain_trunc_full_length_needs_exact_password() -> None:
    """A PLAIN-TRUNC value shorter than its limit is the whole password: no prefix match."""
    info = identify("{PLAIN-TRUNC}20-Tr0ub4dor&3")
    assert isinstance(info, SchemeInfo)
    verify = make_verifier(info)
    assert verify is not None
    assert verify("Tr0ub4dor&3")
    assert not verify("Tr0ub4dor&34")


def test_digest_md5_needs_the_user() -> None:
    """DIGEST-MD5 hashes user:realm:password; the realm comes after the last '@'."""
    row = BY_LABEL["DIGEST-MD5"]
    info = identify(row.hash)
    assert isinstance(info, SchemeInfo) and info.needs_username
    assert make_verifier(info) is None
    explicit = make_verifier(info, username="alice", realm="example.com")
    assert explicit is not None and explicit(row.password)
    other = make_verifier(info, username="bob@example.com")
    assert other is not None and not other(row.password)
    nested = BY_LABEL["DIGEST-MD5-carol@sub.example.com@realm.example"]
    nested_info = identify(nested.hash)
    verify = make_verifier(nested_info, username=nested.user)
    assert verify is not None and verify(nested.password)


@pytest.mark.peer
@pytest.mark.skipif(shutil.which("doveadm") is None, reason="doveadm not installed")
def test_fresh_doveadm_hashes(tmp_path: Path) -> None:
    """Hashes generated now by doveadm (and libcrypt) identify and verify."""
    output = tmp_path / "hashes.tsv"
    subprocess.run([sys.executable, str(GENERATOR), str(output)], check=True, timeout=600)
    rows = read_rows(output)
    assert len(rows) == len(ROWS)
    for row in rows:
        if row.expect == "verify":
            _check_row(row)
        else:
            info = identify(row.hash)
            assert isinstance(info, UnknownScheme) and info.problem == row.expect


@pytest.mark.parametrize(
    "label",
    [
        "des",
        "bsdi",
        "vpopmail-md5",
        "sha256-crypt",
        "SHA512-CRYPT-r1000",
        "BLF-CRYPT-r4",
        "sun-md5",
    ],
)
def test_libpass_fallback(label: str) -> None:
    """Without libcrypt the classic crypt(3) methods still verify through libpass."""
    row = BY_LABEL[label]
    info = identify(row.hash)
    assert isinstance(info, SchemeInfo)
    verify = _libpass_verifier(info.name, info.data)
    assert verify is not None
    assert verify(row.password) and not verify(wrong(row.password))
    assert not verify("\ud800") and not verify("x\0")


def test_libpass_fallback_refuses_what_it_cannot_do() -> None:
    """yescrypt has no libpass handler; $2x$ would silently mis-verify there."""
    for label in ("yescrypt", "scrypt"):
        info = identify(BY_LABEL[label].hash)
        assert isinstance(info, SchemeInfo)
        assert _libpass_verifier(info.name, info.data) is None
    assert _libpass_verifier("BLF-CRYPT", "$2x$05$" + "a" * 53) is None
