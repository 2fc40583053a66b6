"""The records the password-scheme engine returns: what a stored password value is, or why not.

:func:`authaudit.accounts.schemes.identify` turns a stored value into a :class:`SchemeInfo` (a
recognised scheme with its parameters and the audit verdicts AA205/AA206/AA207 need) or an
:class:`UnknownScheme` (empty, locked, unknown prefix, undecodable or malformed data, with a reason
fit for a ``Skipped`` record or a finding).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields

from authaudit.redact import Secret

__all__ = ["Cost", "CostClass", "Family", "Problem", "SchemeInfo", "UnknownScheme"]


class Family(enum.StrEnum):
    """How a scheme stores the password; decides which verifier and which checks apply."""

    CLEARTEXT = "cleartext"
    """The password itself (PLAIN, CLEAR, CLEARTEXT, their .b64/.hex forms, PLAIN-TRUNC)."""
    DIGEST = "digest"
    """One unsalted hash of the password (PLAIN-MD4/MD5, LDAP-MD5, SHA1/256/512, NTLM, LANMAN)."""
    SALTED_DIGEST = "salted-digest"
    """One salted hash, ``H(password || salt) || salt`` (SMD5, SSHA, SSHA256, SSHA512)."""
    CONTEXT = "context"
    """What a challenge-response mechanism computes from: CRAM-MD5 HMAC state, DIGEST-MD5 H(A1)."""
    CRYPT = "crypt"
    """A crypt(3) string (DES, ``$1$``, ``$5$``, ``$6$``, ``$2y$``, ``$y$`` ...)."""
    PBKDF2 = "pbkdf2"
    """Dovecot's ``$1$salt$rounds$hex`` PBKDF2-HMAC-SHA1."""
    SCRAM = "scram"
    """SCRAM-SHA-1/256 ``iterations,salt,StoredKey,ServerKey``."""
    ARGON2 = "argon2"
    """A PHC ``$argon2i$`` / ``$argon2id$`` / ``$argon2d$`` string."""
    OTP = "otp"
    """RFC 2289 one-time-password state (Dovecot OTP / SKEY)."""


class CostClass(enum.StrEnum):
    """How expensive one verification is, for sizing the guess list per account."""

    CHEAP = "cheap"
    """Under 0.1 ms a guess: try the whole wordlist."""
    MODERATE = "moderate"
    """0.1 ms to 10 ms a guess: user variants and the top of the wordlist."""
    SLOW = "slow"
    """10 ms or more a guess: user variants and a short list only."""


class Problem(enum.StrEnum):
    """Why a stored value could not be identified."""

    EMPTY = "empty"
    """Nothing stored: no hash at all (for crypt-type defaults no password can log in)."""
    LOCKED = "locked"
    """A ``!`` / ``*`` shadow-style marker: the account is disabled by the store."""
    UNKNOWN_SCHEME = "unknown-scheme"
    """A ``{SCHEME}`` prefix (or passdb default) this engine does not know."""
    BAD_ENCODING = "bad-encoding"
    """The ``.b64`` / ``.hex`` data (explicit or Dovecot's default) does not decode."""
    MALFORMED = "malformed"
    """A known scheme whose data has the wrong length or layout."""
    UNRECOGNISED = "unrecognised"
    """No prefix, and the bare value is not any crypt(3) string."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Cost:
    """Work factors read from the stored value; None where the scheme has no such knob."""

    rounds: int | None = None
    """crypt(3) iterations: sha-crypt ``rounds=``, the BSDi count, MD5-crypt's fixed 1000."""
    cost: int | None = None
    """bcrypt's log2 cost (``$2y$05$`` is 5: 2**5 key-schedule rounds)."""
    iterations: int | None = None
    """PBKDF2 / SCRAM iteration count, OTP sequence number."""
    memory_kib: int | None = None
    """Memory per hash in KiB (argon2 ``m``; yescrypt / scrypt 128*N*r bytes)."""
    time_cost: int | None = None
    """argon2 ``t`` passes; yescrypt ``t``."""
    parallelism: int | None = None
    """argon2 ``p`` lanes; scrypt / yescrypt ``p``."""

    def as_pairs(self) -> tuple[tuple[str, str], ...]:
        """The parameters that are set, as (name, value) pairs for a finding's evidence."""
        pairs = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                pairs.append((f.name, str(value)))
        return tuple(pairs)


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemeInfo:
    """A stored password value whose scheme was recognised, with its parameters and verdicts."""

    name: str
    """Canonical scheme in Dovecot's spelling (``SHA512-CRYPT``, ``BLF-CRYPT``, ``PLAIN-MD5``,
    ``PLAIN``); aliases are folded (CLEAR/CLEARTEXT -> PLAIN, SHA -> SHA1, HMAC-MD5 -> CRAM-MD5,
    LDAP-MD5 -> PLAIN-MD5) and CRYPT/MD5 are resolved from the data. crypt(3) methods Dovecot has
    no name for use ``YESCRYPT``, ``GOST-YESCRYPT``, ``SCRYPT``, ``BSDI-CRYPT``, ``BIGCRYPT``,
    ``SHA1-CRYPT``, ``SUN-MD5-CRYPT``, ``NT-CRYPT``."""
    declared: str | None
    """The scheme the value claims: its ``{PREFIX}`` (upper-cased, without ``.b64``/``.hex``), or
    the passdb default that applied; None for a bare crypt(3) string with no default given."""
    family: Family
    data: str = field(repr=False)
    """The decoded hash data: a crypt(3) string, lower-case hex of a binary digest, or the
    scheme's own text (PBKDF2, SCRAM, OTP); empty for cleartext schemes."""
    encoding: str | None = None
    """``b64`` or ``hex`` when the data was encoded (explicit suffix or Dovecot's default)."""
    cleartext: Secret | None = None
    """The password itself when the stored value reveals it (PLAIN & co.; PLAIN-TRUNC: the
    stored, possibly truncated, text)."""
    cost: Cost = field(default_factory=Cost)
    weak: str | None = None
    """Why the scheme is weak (AA206), or None. Cleartext schemes are not "weak": AA205 covers
    them through ``cleartext``."""
    low_cost: str | None = None
    """Why the work factor is too low (AA207), or None."""
    needs_username: bool = False
    """True when verifying needs the login name (DIGEST-MD5 hashes ``user:realm:password``)."""
    truncates_at: int | None = None
    """Only the first N bytes of a password count (DES 8, bcrypt 72, LANMAN 14, PLAIN-TRUNC N)."""
    cost_seconds: float = 0.0
    """Estimated seconds per verification on one core (static model, see schemes_policy)."""
    cost_class: CostClass = CostClass.CHEAP
    notes: tuple[str, ...] = ()
    """Further facts worth reporting (``declared SHA512-CRYPT but data is MD5-CRYPT`` ...)."""

    @property
    def reversible(self) -> bool:
        """True when the store keeps the password itself (AA205 cleartext stored)."""
        return self.family is Family.CLEARTEXT


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownScheme:
    """A stored password value that could not be identified, and why. Never guessed at."""

    declared: str | None
    """The ``{PREFIX}`` or passdb default involved, upper-cased; None for a bare value."""
    problem: Problem
    reason: str
    """One sentence for a ``Skipped`` record or a finding; never contains the stored value."""
