"""Audit policy for password schemes: which are weak (AA206), which costs are too low (AA207), and
how long one guess takes (to size the wordlist per account).

Weak schemes (AA206), with the reason reported:

* traditional DES and its extensions (DES-CRYPT, BIGCRYPT, BSDI-CRYPT), MD5-crypt, Sun MD5,
  NetBSD sha1crypt: legacy crypt(3) methods crypt(5) says not to use for new hashes (Dovecot 2.4
  refuses DES and MD5-crypt unless ``auth_allow_weak_schemes``);
* unsalted single digests (PLAIN-MD4/MD5, LDAP-MD5, SHA1/SHA256/SHA512, NTLM, NT-CRYPT, LANMAN,
  RPA) and salted single digests (SMD5, SSHA*): one hash per guess, billions per second on a GPU;
* CRAM-MD5/HMAC-MD5 contexts and DIGEST-MD5 H(A1): password-equivalent for their mechanism;
* OTP/SKEY state: a short MD4/MD5/SHA1 chain folded to 64 bits, removed in Dovecot 2.4.

Cleartext schemes are not listed as weak: AA205 reports them through ``SchemeInfo.cleartext``.

Low cost (AA207), each threshold with its source:

* bcrypt (BLF-CRYPT) cost < 10 (OWASP Password Storage Cheat Sheet); Dovecot's default cost 5 is
  therefore reported;
* SHA256/SHA512-CRYPT rounds < 5000: 5000 is the glibc/libxcrypt default, so only values an
  administrator explicitly lowered are reported (crypt(5) itself calls 5000 "too low for modern
  hardware", but flagging every default hash would drown the report);
* PBKDF2 and SCRAM iterations < 10 000 (NIST SP 800-63B section 5.1.1.2: "at least 10,000
  iterations"); Dovecot's defaults (PBKDF2 5000, SCRAM 4096) are therefore reported;
* argon2 memory < 7 MiB or memory x passes < 35 MiB-passes (the weakest of OWASP's equivalent
  argon2id settings, m=7168 KiB t=5; Dovecot's defaults pass);
* yescrypt / gost-yescrypt / scrypt memory < 16 MiB (libxcrypt's yescrypt default, and scrypt's
  "interactive" N=2^14 r=8 from Percival's paper).

Costs are a static model: seconds per verification measured once on one core of a 2 vCPU EPYC VM
(Debian 12, Python 3.11) with the backend ``make_verifier`` picks, scaled by the work factors.
"""

from __future__ import annotations

from authaudit.accounts.schemes_model import Cost, CostClass

__all__ = ["classify", "estimate_seconds", "low_cost_reason", "weak_reason"]

_LEGACY_CRYPT = "crypt(5) says not to use it for new hashes"
_FAST_DIGEST = "one {} per guess: billions of guesses per second on one GPU"
_WEAK = {
    "DES-CRYPT": "traditional DES crypt: 4096 salts, only the first 8 characters count; "
    + _LEGACY_CRYPT,
    "BIGCRYPT": "bigcrypt: DES crypt in independent 8-character chunks; " + _LEGACY_CRYPT,
    "BSDI-CRYPT": "BSDi extended DES: 56-bit key, 64-bit hash; " + _LEGACY_CRYPT,
    "MD5-CRYPT": "MD5-crypt: fixed 1000 MD5 rounds, refused by Dovecot 2.4 by default; "
    + _LEGACY_CRYPT,
    "SUN-MD5-CRYPT": "Sun MD5 crypt: MD5-based; " + _LEGACY_CRYPT,
    "SHA1-CRYPT": "NetBSD sha1crypt: HMAC-SHA1 based; " + _LEGACY_CRYPT,
    "NT-CRYPT": "NT hash: unsalted MD4 of the UTF-16 password; " + _LEGACY_CRYPT,
    "PLAIN-MD4": "unsalted MD4: " + _FAST_DIGEST.format("MD4"),
    "PLAIN-MD5": "unsalted MD5: " + _FAST_DIGEST.format("MD5"),
    "SHA1": "unsalted SHA-1: " + _FAST_DIGEST.format("SHA-1"),
    "SHA256": "unsalted SHA-256: " + _FAST_DIGEST.format("SHA-256"),
    "SHA512": "unsalted SHA-512: " + _FAST_DIGEST.format("SHA-512"),
    "SMD5": "salted MD5: " + _FAST_DIGEST.format("MD5"),
    "SSHA": "salted SHA-1: " + _FAST_DIGEST.format("SHA-1"),
    "SSHA256": "salted SHA-256: " + _FAST_DIGEST.format("SHA-256"),
    "SSHA512": "salted SHA-512: " + _FAST_DIGEST.format("SHA-512"),
    "NTLM": "NTLM hash: unsalted MD4, usable as the password itself for NTLM (pass-the-hash)",
    "LANMAN": "LAN Manager hash: upper-cased, at most 14 characters in two DES halves",
    "RPA": "RPA hash: unsalted MD5, password-equivalent for the RPA mechanism",
    "CRAM-MD5": "CRAM-MD5 context: password-equivalent for CRAM-MD5 logins, one MD5 block "
    "per guess",
    "DIGEST-MD5": "DIGEST-MD5 H(A1): password-equivalent for DIGEST-MD5 logins, one MD5 per guess",
    "OTP": "OTP/S-KEY state: a 64-bit MD4/MD5/SHA-1 chain; OTP was removed in Dovecot 2.4",
}

BCRYPT_MIN_COST = 10
SHA_CRYPT_MIN_ROUNDS = 5000
PBKDF2_MIN_ITERATIONS = 10_000
ARGON2_MIN_MEMORY_KIB = 7168
ARGON2_MIN_MEMORY_PASSES = 35_840
MEMORY_HARD_MIN_KIB = 16 * 1024

# Seconds per verification at a reference work factor [measured, see module docstring].
_FLAT = {
    "PLAIN": 8e-7,
    "PLAIN-TRUNC": 8e-7,
    "DIGEST": 1.4e-6,
    "SALTED-DIGEST": 1.1e-6,
    "PLAIN-MD4": 2.8e-5,
    "NTLM": 4e-5,
    "LANMAN": 1.8e-4,
    "CRAM-MD5": 2e-5,
    "DIGEST-MD5": 9e-7,
    "DES-CRYPT": 6e-6,
    "NT-CRYPT": 3e-6,
    "MD5-CRYPT": 1.1e-4,
}
_PER_UNIT = {
    # name: (seconds, at this many units of the work factor)
    "SHA256-CRYPT": (1.72e-3, 5000),
    "SHA512-CRYPT": (1.25e-3, 5000),
    "BSDI-CRYPT": (1.1e-4, 725),
    "BIGCRYPT": (6e-6, 25),
    "SHA1-CRYPT": (0.24, 262_018),
    "SUN-MD5-CRYPT": (0.05, 40_000),
    "PBKDF2": (1.15e-3, 5000),
    "SCRAM-SHA-1": (0.7e-3, 4096),
    "SCRAM-SHA-256": (0.96e-3, 4096),
    "OTP": (6.5e-4, 1024),
}


def weak_reason(name: str) -> str | None:
    """Why scheme ``name`` (canonical) is weak, or None."""
    return _WEAK.get(name)


def low_cost_reason(name: str, cost: Cost) -> str | None:
    """Why the work factor of a ``name`` hash is too low, or None (also None for weak schemes)."""
    if name == "BLF-CRYPT" and cost.cost is not None and cost.cost < BCRYPT_MIN_COST:
        return f"bcrypt cost {cost.cost} is below {BCRYPT_MIN_COST} (OWASP minimum)"
    if name in ("SHA256-CRYPT", "SHA512-CRYPT") and cost.rounds is not None:
        if cost.rounds < SHA_CRYPT_MIN_ROUNDS:
            return (
                f"{cost.rounds} rounds: explicitly lowered below the default {SHA_CRYPT_MIN_ROUNDS}"
            )
    if name in ("PBKDF2", "SCRAM-SHA-1", "SCRAM-SHA-256") and cost.iterations is not None:
        if cost.iterations < PBKDF2_MIN_ITERATIONS:
            return (
                f"{cost.iterations} iterations: below {PBKDF2_MIN_ITERATIONS} "
                "(NIST SP 800-63B 5.1.1.2)"
            )
    if name.startswith("ARGON2") and cost.memory_kib is not None:
        passes = cost.time_cost or 1
        if cost.memory_kib < ARGON2_MIN_MEMORY_KIB or (
            cost.memory_kib * passes < ARGON2_MIN_MEMORY_PASSES
        ):
            return (
                f"argon2 m={cost.memory_kib} KiB t={passes}: below OWASP's weakest setting "
                f"(m={ARGON2_MIN_MEMORY_KIB} KiB, t=5)"
            )
    if name in ("YESCRYPT", "GOST-YESCRYPT", "SCRYPT") and cost.memory_kib is not None:
        if cost.memory_kib < MEMORY_HARD_MIN_KIB:
            return f"{cost.memory_kib} KiB of memory: below 16 MiB (yescrypt's default)"
    return None


def estimate_seconds(name: str, family: str, cost: Cost) -> float:
    """Estimated seconds for one verification of a ``name`` hash with work factors ``cost``."""
    if name in _FLAT:
        return _FLAT[name]
    if name in _PER_UNIT:
        seconds, per = _PER_UNIT[name]
        units = cost.rounds or cost.iterations or per
        return seconds * units / per
    if name == "BLF-CRYPT":
        return 1.7e-3 * 2.0 ** ((cost.cost or 5) - 5)
    if name in ("YESCRYPT", "GOST-YESCRYPT"):
        scale = (cost.memory_kib or 16384) / 16384 * (1 + (cost.time_cost or 0))
        return 17.4e-3 * scale
    if name == "SCRYPT":
        return 113.6e-3 * (cost.memory_kib or 65536) / 65536 * (cost.parallelism or 1)
    if name.startswith("ARGON2"):
        work = (cost.memory_kib or 65536) * (cost.time_cost or 3)
        return 0.140 * work / (65536 * 3)
    key = {"cleartext": "PLAIN", "salted-digest": "SALTED-DIGEST"}.get(family, "DIGEST")
    return _FLAT[key]


def classify(seconds: float) -> CostClass:
    """The :class:`CostClass` of a verification taking ``seconds``."""
    if seconds < 1e-4:
        return CostClass.CHEAP
    if seconds < 1e-2:
        return CostClass.MODERATE
    return CostClass.SLOW
