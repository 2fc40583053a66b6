"""Offline checking of candidate passwords against captured challenge-response secrets.

:func:`make_verifier` parses a secret line once (see :mod:`.mechanisms` for the formats) and returns
a function that answers "is this the password?" for one candidate, doing only the per-candidate
work: for CRAM-MD5 one HMAC-MD5; for NetNTLMv1 an MD4 and, almost always, one DES block (the last
one, whose key has only two unknown bytes and is memoised); for NetNTLMv2 an MD4 and two HMAC-MD5;
for DIGEST-MD5 three MD5; for SCRAM one PBKDF2 (the iteration count the server chose).

MD4 and DES come from passlib: OpenSSL 3 no longer offers MD4 through ``hashlib``.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import stringprep
import unicodedata
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from passlib.crypto.des import des_encrypt_block  # type: ignore[import-untyped]
from passlib.crypto.digest import lookup_hash  # type: ignore[import-untyped]

from authaudit.redact import Secret, SecretKind
from authaudit.smtp.b64 import decode_b64

__all__ = ["Verifier", "make_verifier", "nt_hash", "verify"]

Verifier = Callable[[str], bool]
"""Answers whether a candidate password produced the captured exchange."""

_md4_const = lookup_hash("md4").const
_SCRAM_HASHES = {
    "SHA-1": "sha1", "SHA-224": "sha224", "SHA-256": "sha256", "SHA-384": "sha384",
    "SHA-512": "sha512",
}


@functools.lru_cache(maxsize=1 << 16)
def nt_hash(password: str) -> bytes:
    """NTOWFv1: MD4 of the password in UTF-16LE ([MS-NLMP] section 3.3.1).

    Cached: MD4 runs in pure Python (OpenSSL 3 dropped it) at ~40 µs, and cracking tries the same
    candidates against every captured NTLM exchange."""
    return bytes(_md4_const(password.encode("utf-16-le")).digest())


def verify(secret: Secret, password: str) -> bool:
    """True when ``password`` produced ``secret``; False also for secrets that cannot be checked."""
    verifier = make_verifier(secret)
    return verifier is not None and verifier(password)


def make_verifier(secret: Secret) -> Verifier | None:
    """A fast checker for ``secret``, or None when its kind or value cannot be verified."""
    builder = _BUILDERS.get(secret.kind)
    if builder is None:
        return None
    try:
        check = builder(secret.value)
    except (ValueError, IndexError, KeyError):
        return None

    def guarded(password: str) -> bool:
        # Wordlist lines that are not UTF-8 arrive as surrogate escapes; a candidate that the
        # mechanism cannot encode (UTF-16 for NTLM, SASLprep for SCRAM) is simply not a match.
        try:
            return check(password)
        except UnicodeError:
            return False

    return guarded


def _cram_md5(value: str) -> Verifier:
    _, tag, challenge_b64, response_b64 = value.split("$")
    if tag != "cram_md5":
        raise ValueError("not a CRAM-MD5 line")
    challenge, _ = decode_b64(challenge_b64.encode("ascii"))
    response, _ = decode_b64(response_b64.encode("ascii"))
    expected = bytes.fromhex(response.rpartition(b" ")[2].decode("ascii"))

    def check(password: str) -> bool:
        key = password.encode("utf-8", "surrogateescape")  # the wordlist line's own bytes
        digest = hmac.digest(key, challenge, "md5")
        return hmac.compare_digest(digest, expected)

    return check


def _netntlmv1(value: str) -> Verifier:
    _head, lm_hex, nt_hex, challenge_hex = value.rsplit(":", 3)
    lm, nt, challenge = bytes.fromhex(lm_hex), bytes.fromhex(nt_hex), bytes.fromhex(challenge_hex)
    if len(nt) != 24 or len(challenge) != 8:
        raise ValueError("not a NetNTLMv1 line")
    if len(lm) == 24 and lm[8:] == bytes(16):  # extended session security ([MS-NLMP] 3.3.1)
        challenge = hashlib.md5(challenge + lm[:8]).digest()[:8]  # noqa: S324 - the protocol's
    first, second, third = nt[:8], nt[8:16], nt[16:]
    memo: dict[bytes, bool] = {}

    def check(password: str) -> bool:
        key = nt_hash(password)
        tail = key[14:]
        hit = memo.get(tail)
        if hit is None:
            hit = memo[tail] = _des(tail + bytes(5), challenge) == third
        return hit and _des(key[:7], challenge) == first and _des(key[7:14], challenge) == second

    return check


def _des(key7: bytes, block: bytes) -> bytes:
    return bytes(des_encrypt_block(key7, block))


def _netntlmv2(value: str) -> Verifier:
    head, challenge_hex, proof_hex, blob_hex = value.rsplit(":", 3)
    user, sep, domain = head.partition("::")
    if not sep:
        raise ValueError("not a NetNTLMv2 line")
    message = bytes.fromhex(challenge_hex) + bytes.fromhex(blob_hex)
    proof = bytes.fromhex(proof_hex)
    identity = (user.upper() + domain).encode("utf-16-le")

    def check(password: str) -> bool:
        key = hmac.digest(nt_hash(password), identity, "md5")
        return hmac.compare_digest(hmac.digest(key, message, "md5"), proof)

    return check


def _digest_md5(value: str) -> Verifier:
    fields = [unquote_to_bytes(f) for f in value.split("$")[2:]]
    user, realm, nonce, cnonce, nc, qop, uri, authzid, response, charset = fields
    utf8 = charset.lower() == b"utf-8"
    a1_tail = b":" + nonce + b":" + cnonce + (b":" + authzid if authzid else b"")
    a2 = b"AUTHENTICATE:" + uri
    if qop in (b"auth-int", b"auth-conf"):
        a2 += b":" + b"0" * 32
    kd_tail = b":".join((b"", nonce, nc, cnonce, qop or b"auth", _md5_hex(a2)))
    prefix = _latin1(user, utf8) + b":" + _latin1(realm, utf8) + b":"
    expected = response.lower()

    def check(password: str) -> bool:
        if utf8:
            secret = _latin1(password.encode("utf-8", "surrogateescape"), True)
        else:
            secret = password.encode("latin-1", "replace")
        inner = hashlib.md5(prefix + secret).digest()  # noqa: S324 - the protocol's
        return hmac.compare_digest(_md5_hex(_md5_hex(inner + a1_tail) + kd_tail), expected)

    return check


def _md5_hex(data: bytes) -> bytes:
    return hashlib.md5(data).hexdigest().encode("ascii")  # noqa: S324 - the protocol's


def _latin1(data: bytes, utf8: bool) -> bytes:
    """RFC 2831 2.1.2.1: with charset=utf-8, text that fits ISO 8859-1 is hashed in ISO 8859-1."""
    if not utf8:
        return data
    try:
        return data.decode("utf-8").encode("latin-1")
    except UnicodeError:
        return data


def _scram(value: str) -> Verifier:
    _, tag, name, iterations, salt_b64, message_b64, proof_b64 = value.split("$")
    if tag != "scram":
        raise ValueError("not a SCRAM line")
    algorithm = _SCRAM_HASHES[name]
    rounds = int(iterations)
    if not 0 < rounds <= 10_000_000:
        raise ValueError("implausible SCRAM iteration count")
    salt = binascii.a2b_base64(salt_b64)
    message = binascii.a2b_base64(message_b64)
    proof = binascii.a2b_base64(proof_b64)

    def check(password: str) -> bool:
        salted = hashlib.pbkdf2_hmac(algorithm, _saslprep(password).encode("utf-8"), salt, rounds)
        client_key = hmac.digest(salted, b"Client Key", algorithm)
        stored_key = hashlib.new(algorithm, client_key).digest()
        signature = hmac.digest(stored_key, message, algorithm)
        computed = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        return hmac.compare_digest(computed, proof)

    return check


def _saslprep(text: str) -> str:
    """SASLprep (RFC 4013) mapping and normalisation; prohibited characters are left as they are."""
    if text.isascii():
        return text
    mapped = "".join(
        " " if stringprep.in_table_c12(c) else c for c in text if not stringprep.in_table_b1(c)
    )
    return unicodedata.normalize("NFKC", mapped)


_BUILDERS: dict[SecretKind, Callable[[str], Verifier]] = {
    SecretKind.CRAM_MD5: _cram_md5,
    SecretKind.NETNTLMV1: _netntlmv1,
    SecretKind.NETNTLMV2: _netntlmv2,
    SecretKind.DIGEST_MD5: _digest_md5,
    SecretKind.SCRAM: _scram,
}
