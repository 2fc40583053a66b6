"""Regenerate ``hashes.tsv``: real ``doveadm pw`` output for every scheme this Dovecot offers, plus
bare crypt(3) strings from the system libcrypt as vpopmail writes them.

Every row is checked with ``doveadm pw -t`` before it is written (Dovecot's CRYPT verifies the
libcrypt rows too), except the rows whose ``expect`` column names the problem identify() must
report (``doveadm pw -s PLAIN-TRUNC`` output, which Dovecot itself cannot verify).

Usage: ``python tests/accounts/data/doveadm/generate.py [OUTPUT.tsv]`` (default: next to this file).
Columns: source, label, scheme, rounds, user, password, hash, expect. Needs ``doveadm`` on PATH.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

from authaudit.accounts import libcrypt

PASSWORD = "Tr0ub4dor&3"
UNICODE = "pässwörd€"
COLON = "sum:mer"
LONG = "correct horse battery staple " * 3  # 87 bytes: past bcrypt's 72
USER = "alice@example.com"
COLUMNS = ("source", "label", "scheme", "rounds", "user", "password", "hash", "expect")
OUTPUT = Path(__file__).with_name("hashes.tsv")

ENCODED = (
    "PLAIN.B64",
    "PLAIN.HEX",
    "CLEARTEXT.BASE64",
    "SHA1.HEX",
    "SHA256.HEX",
    "SHA512.HEX",
    "SSHA.HEX",
    "SSHA256.HEX",
    "SSHA512.HEX",
    "SMD5.HEX",
    "PLAIN-MD5.B64",
    "PLAIN-MD4.B64",
    "LDAP-MD5.HEX",
    "CRAM-MD5.B64",
    "DIGEST-MD5.B64",
    "SHA512-CRYPT.B64",
    "BLF-CRYPT.B64",
    "MD5-CRYPT.HEX",
)
WITH_ROUNDS = (
    ("BLF-CRYPT", 4),
    ("BLF-CRYPT", 10),
    ("SHA512-CRYPT", 1000),
    ("SHA512-CRYPT", 20000),
    ("SHA256-CRYPT", 2000),
    ("PBKDF2", 1000),
    ("PBKDF2", 20000),
)
OTHER_PASSWORDS = (
    (UNICODE, ("PLAIN", "SHA512-CRYPT", "BLF-CRYPT", "CRAM-MD5", "SCRAM-SHA-256", "PBKDF2")),
    (UNICODE, ("DIGEST-MD5", "SSHA256", "PLAIN-MD5", "MD5-CRYPT", "ARGON2ID")),
    (COLON, ("PLAIN.B64", "PLAIN.HEX")),
    (LONG, ("BLF-CRYPT", "DES-CRYPT", "CRAM-MD5", "SHA256-CRYPT")),
)
OTHER_USERS = ("bob", "carol@sub.example.com@realm.example")
# (label, crypt(3) setting prefix or full setting, count); vpopmail uses 8-character salts.
LIBCRYPT = (
    ("vpopmail-des", "Ab", 0),
    ("vpopmail-md5", "$1$Qx7.Lm2z", 0),
    ("vpopmail-sha512", "$6$Ab3dEf9h", 0),
    ("des", "", 0),
    ("bsdi", "_", 0),
    ("md5-crypt", "$1$", 0),
    ("sha256-crypt", "$5$", 0),
    ("sha512-crypt", "$6$", 0),
    ("sha512-crypt-1000", "$6$", 1000),
    ("bcrypt-2b", "$2b$", 5),
    ("bcrypt-2a", "$2a$", 6),
    ("yescrypt", "$y$", 0),
    ("yescrypt-cost3", "$y$", 3),
    ("gost-yescrypt", "$gy$", 0),
    ("scrypt", "$7$", 0),
    ("sha1crypt", "$sha1", 0),
    ("sun-md5", "$md5", 0),
    ("nt", "$3$", 0),
)


def _doveadm(*args: str) -> str:
    out = subprocess.run(
        ["doveadm", "-O", "pw", *args], capture_output=True, text=True, check=False, timeout=60
    )
    return (out.stdout + out.stderr).strip()


def _verified(hash_: str, password: str, user: str) -> bool:
    args = ["-t", hash_, "-p", password]
    if user:
        args += ["-u", user]
    return "(verified)" in _doveadm(*args)


def _make(label: str, scheme: str, rounds: int, password: str, user: str) -> list[str]:
    args = ["-s", scheme, "-p", password, "-u", user]
    if rounds:
        args += ["-r", str(rounds)]
    hash_ = _doveadm(*args)
    if not hash_.startswith("{") or not _verified(hash_, password, user):
        raise SystemExit(f"doveadm pw {' '.join(args)} gave an unverifiable {hash_!r}")
    return ["doveadm", label, scheme, str(rounds), user, password, hash_, "verify"]


def doveadm_rows() -> list[list[str]]:
    """Rows from ``doveadm pw``: every listed scheme, encodings, rounds, passwords, users."""
    schemes = _doveadm("-l").split()
    rows = []
    for scheme in schemes:
        if scheme == "PLAIN-TRUNC":
            raw = _doveadm("-s", scheme, "-p", PASSWORD)
            rows.append(["doveadm", scheme, scheme, "0", "", PASSWORD, raw, "malformed"])
            continue
        rows.append(_make(scheme, scheme, 0, PASSWORD, USER))
    rows += [_make(s, s, 0, PASSWORD, USER) for s in ENCODED]
    rows += [_make(f"{s}-r{r}", s, r, PASSWORD, USER) for s, r in WITH_ROUNDS]
    for i, (password, names) in enumerate(OTHER_PASSWORDS):
        rows += [_make(f"{s}-pw{i}", s, 0, password, USER) for s in names]
    rows += [_make(f"DIGEST-MD5-{u}", "DIGEST-MD5", 0, PASSWORD, u) for u in OTHER_USERS]
    return rows + _derived_rows(rows)


def _derived_rows(rows: list[list[str]]) -> list[list[str]]:
    """Values Dovecot accepts but doveadm does not print: PLAIN-TRUNC, {MD5}hex, bare $1$."""
    by_label = {row[1]: row for row in rows}
    plain_md5 = by_label["PLAIN-MD5"][6].removeprefix("{PLAIN-MD5}")
    bare = by_label["MD5-CRYPT"][6].removeprefix("{MD5-CRYPT}")
    out = []
    for label, hash_, password in (
        ("PLAIN-TRUNC-full", f"{{PLAIN-TRUNC}}{len(PASSWORD)}-{PASSWORD}", PASSWORD),
        ("PLAIN-TRUNC-8", "{PLAIN-TRUNC}8-" + PASSWORD[:8], PASSWORD),
        ("MD5-hex", "{MD5}" + plain_md5, PASSWORD),
        ("bare-md5-crypt", bare, PASSWORD),
        ("bare-md5-crypt-trailing", bare + "$ignored", PASSWORD),
    ):
        if not _verified(hash_, password, ""):
            raise SystemExit(f"doveadm does not verify derived {label}: {hash_!r}")
        out.append(["derived", label, "", "0", "", password, hash_, "verify"])
    return out


def libcrypt_rows() -> list[list[str]]:
    """Bare crypt(3) strings made with the system libcrypt (checked by Dovecot's CRYPT)."""
    lib = libcrypt.load()
    if lib is None:
        raise SystemExit("no libcrypt")
    rows = []
    for label, prefix, count in LIBCRYPT:
        if label.startswith("vpopmail"):
            raw = lib.crypt(PASSWORD.encode(), prefix.encode())
            hash_ = None if raw is None else raw.decode("ascii")
        else:
            hash_ = lib.hash_password(PASSWORD, prefix, count)
        if hash_ is None or not _verified("{CRYPT}" + hash_, PASSWORD, ""):
            raise SystemExit(f"libcrypt {label}: no verifiable hash ({hash_!r})")
        rows.append(["libcrypt", label, prefix, str(count), "", PASSWORD, hash_, "verify"])
    return rows


def main(argv: list[str]) -> int:
    """Write the TSV to ``argv[1]`` (or next to this file)."""
    if shutil.which("doveadm") is None:
        sys.stderr.write("doveadm not found\n")
        return 2
    output = Path(argv[1]) if len(argv) > 1 else OUTPUT
    rows = doveadm_rows() + libcrypt_rows()
    with output.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    sys.stderr.write(f"{len(rows)} rows -> {output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
