"""Stdlib computations behind the cheap Dovecot schemes that no library implements as stored.

* the CRAM-MD5 / HMAC-MD5 *context*: the two MD5 chaining states after one compression of the
  HMAC key xor opad (outer) and xor ipad (inner), each as four little-endian 32-bit words. hashlib
  hides MD5's internal state, so the compression function is written out here (RFC 1321);
* RFC 2289 OTP / S/KEY hash chains with their 64-bit folding;
* MD4, which OpenSSL 3 no longer offers through hashlib (libpass ships a pure-Python one).
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Callable

from passlib.crypto.digest import lookup_hash  # type: ignore[import-untyped]

__all__ = ["CRAM_MD5_SIZE", "cram_md5_context", "cram_md5_inner", "md4", "otp_hash"]

CRAM_MD5_SIZE = 32
"""Bytes in a CRAM-MD5 context: outer state then inner state, 16 bytes each."""

_MASK = 0xFFFFFFFF
_IV = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
_K = tuple(int(abs(math.sin(i + 1)) * 2**32) & _MASK for i in range(64))
_SHIFTS = (7, 12, 17, 22) * 4 + (5, 9, 14, 20) * 4 + (4, 11, 16, 23) * 4 + (6, 10, 15, 21) * 4
_ORDER = (
    tuple(range(16))
    + tuple((5 * i + 1) % 16 for i in range(16, 32))
    + tuple((3 * i + 5) % 16 for i in range(32, 48))
    + tuple((7 * i) % 16 for i in range(48, 64))
)
_ROUNDS = tuple(
    tuple(zip(_K[r : r + 16], _SHIFTS[r : r + 16], _ORDER[r : r + 16], strict=True))
    for r in (0, 16, 32, 48)
)
_MD4: Callable[[bytes], hashlib._Hash] = lookup_hash("md4").const


def _md5_compress(block: bytes) -> bytes:
    """MD5's chaining state after compressing one 64-byte ``block`` from the initial state."""
    x = struct.unpack("<16I", block)
    a, b, c, d = _IV
    r1, r2, r3, r4 = _ROUNDS
    for k, s, i in r1:
        f = (((b & c) | (~b & d)) + a + k + x[i]) & _MASK
        a, d, c = d, c, b
        b = (b + ((f << s) | (f >> (32 - s)))) & _MASK
    for k, s, i in r2:
        f = (((d & b) | (~d & c)) + a + k + x[i]) & _MASK
        a, d, c = d, c, b
        b = (b + ((f << s) | (f >> (32 - s)))) & _MASK
    for k, s, i in r3:
        f = ((b ^ c ^ d) + a + k + x[i]) & _MASK
        a, d, c = d, c, b
        b = (b + ((f << s) | (f >> (32 - s)))) & _MASK
    for k, s, i in r4:
        f = ((c ^ (b | ~d)) + a + k + x[i]) & _MASK
        a, d, c = d, c, b
        b = (b + ((f << s) | (f >> (32 - s)))) & _MASK
    return struct.pack(
        "<4I",
        (a + _IV[0]) & _MASK,
        (b + _IV[1]) & _MASK,
        (c + _IV[2]) & _MASK,
        (d + _IV[3]) & _MASK,
    )


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def _hmac_key(password: bytes) -> bytes:
    if len(password) > 64:
        password = hashlib.md5(password, usedforsecurity=False).digest()
    return password.ljust(64, b"\0")


def cram_md5_inner(password: bytes) -> bytes:
    """The inner half of the context (16 bytes): enough to reject a wrong password."""
    return _md5_compress(_hmac_key(password).translate(_IPAD))


def cram_md5_context(password: bytes) -> bytes:
    """Dovecot's 32-byte ``{CRAM-MD5}`` value (also Courier's ``hmac-md5pw``) for ``password``."""
    key = _hmac_key(password)
    return _md5_compress(key.translate(_OPAD)) + _md5_compress(key.translate(_IPAD))


def md4(data: bytes) -> bytes:
    """MD4 digest of ``data`` (RFC 1320)."""
    return _MD4(data).digest()


_QQ = struct.Struct("<QQ")
_Q = struct.Struct("<Q")
_SHA1_WORDS = struct.Struct("<5I")
_SHA1_FOLDED = struct.Struct(">2I")


def _fold_md(digest: bytes) -> bytes:
    """MD4/MD5 folding: the two 64-bit halves xor-ed (byte order does not matter for xor)."""
    low, high = _QQ.unpack(digest)
    return _Q.pack(low ^ high)


def _fold_sha1(digest: bytes) -> bytes:
    """SHA-1 folding as Dovecot does it: five little-endian words xor-ed into two, then each
    word written big-endian (RFC 2289 appendix A)."""
    w = _SHA1_WORDS.unpack(digest)
    return _SHA1_FOLDED.pack(w[0] ^ w[2] ^ w[4], w[1] ^ w[3])


def otp_hash(algo: str, seed: str, password: bytes, steps: int) -> bytes:
    """The 64-bit OTP value after ``steps`` applications of ``algo`` (``md4``/``md5``/``sha1``)."""
    fold = _fold_sha1 if algo == "sha1" else _fold_md
    if algo == "md4":
        digest = md4
    else:
        base = hashlib.new("sha1" if algo == "sha1" else "md5", usedforsecurity=False)

        def digest(data: bytes) -> bytes:
            h = base.copy()
            h.update(data)
            return h.digest()

    value = fold(digest(seed.encode("ascii") + password))
    for _ in range(steps):
        value = fold(digest(value))
    return value
