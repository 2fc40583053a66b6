"""Layouts of crypt(3) strings and PHC argon2 strings: which method, which cost parameters.

Formats follow crypt(5) of libxcrypt 4.4 (Debian 12) and the yescrypt/scrypt parameter encoding of
its ``alg-yescrypt-common.c``. Parsing is strict: a string that starts like a known method but does
not have that method's layout is reported as malformed rather than passed on to crypt(3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from authaudit.accounts.schemes_model import Cost

__all__ = ["CryptFormat", "NotCrypt", "parse_argon2", "parse_crypt"]

ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
"""The crypt(3) base-64 alphabet, in value order."""
_ATOI64 = {c: i for i, c in enumerate(ITOA64)}
_C = "[./0-9A-Za-z]"

_MD5 = re.compile(rf"\$1\$([^$]{{0,8}})\${_C}{{22}}")
_SHA = re.compile(rf"\$([56])\$(?:rounds=([1-9][0-9]{{0,9}})\$)?[^$:\n]{{0,16}}\$({_C}+)")
_BCRYPT = re.compile(rf"\$2([abxy])\$([0-9]{{2}})\${_C}{{53}}")
_YESCRYPT = re.compile(rf"\$(g?y)\$({_C}+)\${_C}{{0,86}}\${_C}{{43}}")
_SCRYPT = re.compile(rf"\$7\$({_C}{{11}}){_C}{{0,86}}\${_C}{{43}}")
_SHA1 = re.compile(rf"\$sha1\$([1-9][0-9]{{0,9}})\${_C}{{1,64}}\${_C}{{28}}")
_SUNMD5 = re.compile(rf"\$md5(?:,rounds=([0-9]{{1,10}}))?\${_C}{{1,8}}\$\$?{_C}{{22}}")
_NT = re.compile(r"\$3\$\$[0-9a-f]{32}")
_BSDI = re.compile(rf"_({_C}{{4}}){_C}{{15}}")
_DES = re.compile(rf"{_C}{{13}}(?:{_C}{{11}}){{0,15}}")
_ARGON2 = re.compile(
    r"\$argon2(id|i|d)\$(?:v=([0-9]{1,3})\$)?m=([0-9]{1,10}),t=([0-9]{1,10}),p=([0-9]{1,3})"
    r"\$[A-Za-z0-9+/]{8,}\$[A-Za-z0-9+/]{16,}"
)

_PREFIXES = (
    ("$1$", "MD5-CRYPT"),
    ("$5$", "SHA256-CRYPT"),
    ("$6$", "SHA512-CRYPT"),
    ("$2", "BLF-CRYPT"),
    ("$y$", "YESCRYPT"),
    ("$gy$", "GOST-YESCRYPT"),
    ("$7$", "SCRYPT"),
    ("$sha1$", "SHA1-CRYPT"),
    ("$md5", "SUN-MD5-CRYPT"),
    ("$3$", "NT-CRYPT"),
    ("_", "BSDI-CRYPT"),
    ("$argon2", "ARGON2"),
)


@dataclass(frozen=True, slots=True)
class CryptFormat:
    """A well-formed crypt(3) or argon2 string: its method and work factors."""

    name: str
    """``DES-CRYPT``, ``MD5-CRYPT``, ``SHA512-CRYPT``, ``BLF-CRYPT``, ``YESCRYPT`` ..."""
    cost: Cost
    truncates_at: int | None = None
    """Password bytes that count (DES 8, bcrypt 72, bigcrypt 128); None when unlimited."""


@dataclass(frozen=True, slots=True)
class NotCrypt:
    """Why a string is not a usable crypt(3) string."""

    method: str | None
    """The method its prefix names when it starts like one (then it is malformed), else None."""
    reason: str


def _decode_var(text: str, pos: int, minimum: int) -> tuple[int, int] | None:
    """yescrypt's variable-length number at ``text[pos:]``: (value, next position) or None."""
    if pos >= len(text) or text[pos] not in _ATOI64:
        return None
    c = _ATOI64[text[pos]]
    start, end, chars, bits = 0, 47, 1, 0
    value = minimum
    while c > end:
        value += (end + 1 - start) << bits
        start = end + 1
        end = start + (62 - end) // 2
        chars += 1
        bits += 6
    value += (c - start) << bits
    pos += 1
    for _ in range(chars - 1):
        if pos >= len(text) or text[pos] not in _ATOI64:
            return None
        bits -= 6
        value += _ATOI64[text[pos]] << bits
        pos += 1
    return value, pos


def _yescrypt_cost(params: str) -> Cost | None:
    """Cost of a ``$y$`` parameter string such as ``j9T`` (flavor, log2 N, r, optional extras)."""
    fields: list[int] = []
    pos = 0
    for minimum in (0, 1, 1):
        got = _decode_var(params, pos, minimum)
        if got is None:
            return None
        fields.append(got[0])
        pos = got[1]
    _flavor, n_log2, r = fields
    p, t = 1, 0
    if pos < len(params):
        got = _decode_var(params, pos, 1)
        if got is None:
            return None
        have, pos = got
        for bit, minimum in ((1, 2), (2, 1), (4, 1), (8, 1)):
            if have & bit:
                got = _decode_var(params, pos, minimum)
                if got is None:
                    return None
                if bit == 1:
                    p = got[0]
                elif bit == 2:
                    t = got[0]
                pos = got[1]
    if pos != len(params) or not 1 <= n_log2 <= 63:
        return None
    memory = (128 * r << n_log2) // 1024
    return Cost(memory_kib=memory, time_cost=t or None, parallelism=p)


def _fixed30(chars: str) -> int:
    return sum(_ATOI64[c] << (6 * i) for i, c in enumerate(chars))


def _scrypt_cost(params: str) -> Cost | None:
    n_log2 = _ATOI64[params[0]]
    r, p = _fixed30(params[1:6]), _fixed30(params[6:11])
    if not 1 <= n_log2 <= 63 or r == 0 or p == 0:
        return None
    return Cost(memory_kib=(128 * r << n_log2) // 1024, parallelism=p)


def parse_argon2(value: str) -> CryptFormat | NotCrypt:
    """Parse a PHC argon2 string (``$argon2id$v=19$m=65536,t=3,p=1$salt$hash``)."""
    m = _ARGON2.fullmatch(value)
    if m is None:
        return NotCrypt(
            "ARGON2", "not a well-formed $argon2...$v=..$m=..,t=..,p=..$salt$hash string"
        )
    variant, _version, memory, passes, lanes = m.groups()
    cost = Cost(memory_kib=int(memory), time_cost=int(passes), parallelism=int(lanes))
    return CryptFormat("ARGON2" + variant.upper(), cost)


def parse_crypt(value: str) -> CryptFormat | NotCrypt:
    """Identify a crypt(3) string (or an argon2 string) and read its cost parameters."""
    if value.startswith("$argon2"):
        return parse_argon2(value)
    if value.startswith("$"):
        return _parse_dollar(value)
    if value.startswith("_"):
        m = _BSDI.fullmatch(value)
        if m is None:
            return NotCrypt("BSDI-CRYPT", "BSDi extended DES strings are '_' and 19 characters")
        count = _fixed30(m.group(1))
        if count == 0:
            return NotCrypt("BSDI-CRYPT", "BSDi extended DES with a zero iteration count")
        return CryptFormat("BSDI-CRYPT", Cost(rounds=count))
    if _DES.fullmatch(value):
        if len(value) == 13:
            return CryptFormat("DES-CRYPT", Cost(rounds=25), truncates_at=8)
        return CryptFormat("BIGCRYPT", Cost(rounds=25 * ((len(value) - 2) // 11)), 128)
    return NotCrypt(None, "not a crypt(3) string")


def _parse_dollar(value: str) -> CryptFormat | NotCrypt:
    method = next((name for prefix, name in _PREFIXES if value.startswith(prefix)), None)
    if method is None:
        return NotCrypt(None, "unknown crypt(3) method prefix")
    bad = NotCrypt(method, f"not a well-formed {method} string")
    if method == "MD5-CRYPT":
        return CryptFormat(method, Cost(rounds=1000)) if _MD5.fullmatch(value) else bad
    if method in ("SHA256-CRYPT", "SHA512-CRYPT"):
        m = _SHA.fullmatch(value)
        if m is None or len(m.group(3)) != (43 if m.group(1) == "5" else 86):
            return bad
        rounds = int(m.group(2)) if m.group(2) else 5000
        return CryptFormat(method, Cost(rounds=rounds))
    if method == "BLF-CRYPT":
        m = _BCRYPT.fullmatch(value)
        if m is None or not 4 <= int(m.group(2)) <= 31:
            return bad
        return CryptFormat(method, Cost(cost=int(m.group(2))), truncates_at=72)
    if method in ("YESCRYPT", "GOST-YESCRYPT"):
        m = _YESCRYPT.fullmatch(value)
        cost = None if m is None else _yescrypt_cost(m.group(2))
        return bad if cost is None else CryptFormat(method, cost)
    if method == "SCRYPT":
        m = _SCRYPT.fullmatch(value)
        cost = None if m is None else _scrypt_cost(m.group(1))
        return bad if cost is None else CryptFormat(method, cost)
    if method == "SHA1-CRYPT":
        m = _SHA1.fullmatch(value)
        return bad if m is None else CryptFormat(method, Cost(rounds=int(m.group(1))))
    if method == "SUN-MD5-CRYPT":
        m = _SUNMD5.fullmatch(value)
        if m is None:
            return bad
        return CryptFormat(method, Cost(rounds=4096 + int(m.group(1) or 0)))
    return CryptFormat(method, Cost()) if _NT.fullmatch(value) else bad
