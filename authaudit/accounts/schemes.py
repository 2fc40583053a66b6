"""Password schemes of mailbox account stores: identify a stored value, then verify guesses.

``identify(stored, default_scheme=...)`` reads Dovecot's ``{SCHEME[.b64|.base64|.hex]}data``
values and the bare crypt(3) strings vpopmail writes, the way Dovecot 2.3 does
(``password_get_scheme()`` / ``password_decode()`` in ``password-scheme.c``):

* a value starting ``$1$salt$`` is MD5-CRYPT whatever the default (anything after the hash's
  closing ``$`` is dropped);
* ``{NAME}`` names the scheme, case-insensitively; ``.b64``/``.base64``/``.hex`` set the encoding;
  a digest scheme without a suffix is read as hex when the text is exactly twice the digest
  length, else as base64;
* without a prefix the passdb default applies (passwd-file and Dovecot 2.4: CRYPT, SQL in 2.3:
  MD5): the caller passes it as ``default_scheme``; None means "any crypt(3) string" (vpopmail
  hands the value to crypt(3) after stripping an optional prefix);
* ``MD5`` is MD5-crypt for ``$1$`` data, else a PLAIN-MD5 digest.

Unknown prefixes and malformed data give an :class:`UnknownScheme` with the reason; nothing is
guessed and no exception escapes. ``make_verifier(info)`` then gives a fast ``verify(candidate)``.
"""

from __future__ import annotations

import binascii
import re

from authaudit.accounts.crypt_formats import CryptFormat, NotCrypt, parse_argon2, parse_crypt
from authaudit.accounts.schemes_model import (
    Cost,
    CostClass,
    Family,
    Problem,
    SchemeInfo,
    UnknownScheme,
)
from authaudit.accounts.schemes_policy import (
    classify,
    estimate_seconds,
    low_cost_reason,
    weak_reason,
)
from authaudit.accounts.schemes_verify import Verifier, make_verifier, verifier_backend
from authaudit.redact import Secret

__all__ = [
    "Cost",
    "CostClass",
    "Family",
    "Problem",
    "SchemeInfo",
    "UnknownScheme",
    "Verifier",
    "identify",
    "make_verifier",
    "verifier_backend",
]

_HEX, _B64 = "hex", "b64"
_CRYPT_NAMES = frozenset(
    {"CRYPT", "DES-CRYPT", "MD5-CRYPT", "SHA256-CRYPT", "SHA512-CRYPT", "BLF-CRYPT"}
)
# Dovecot name -> (canonical name, family, default encoding, raw length; 0 = any).
_SPECS: dict[str, tuple[str, Family, str | None, int]] = {
    "PLAIN": ("PLAIN", Family.CLEARTEXT, None, 0),
    "CLEAR": ("PLAIN", Family.CLEARTEXT, None, 0),
    "CLEARTEXT": ("PLAIN", Family.CLEARTEXT, None, 0),
    "PLAIN-TRUNC": ("PLAIN-TRUNC", Family.CLEARTEXT, None, 0),
    **{name: (name, Family.CRYPT, None, 0) for name in _CRYPT_NAMES},
    "MD5": ("MD5", Family.CRYPT, None, 0),
    "SHA": ("SHA1", Family.DIGEST, _B64, 20),
    "SHA1": ("SHA1", Family.DIGEST, _B64, 20),
    "SHA256": ("SHA256", Family.DIGEST, _B64, 32),
    "SHA512": ("SHA512", Family.DIGEST, _B64, 64),
    "PLAIN-MD4": ("PLAIN-MD4", Family.DIGEST, _HEX, 16),
    "PLAIN-MD5": ("PLAIN-MD5", Family.DIGEST, _HEX, 16),
    "LDAP-MD5": ("PLAIN-MD5", Family.DIGEST, _B64, 16),
    "NTLM": ("NTLM", Family.DIGEST, _HEX, 16),
    "LANMAN": ("LANMAN", Family.DIGEST, _HEX, 16),
    "RPA": ("RPA", Family.DIGEST, _HEX, 16),
    "SMD5": ("SMD5", Family.SALTED_DIGEST, _B64, 0),
    "SSHA": ("SSHA", Family.SALTED_DIGEST, _B64, 0),
    "SSHA256": ("SSHA256", Family.SALTED_DIGEST, _B64, 0),
    "SSHA512": ("SSHA512", Family.SALTED_DIGEST, _B64, 0),
    "CRAM-MD5": ("CRAM-MD5", Family.CONTEXT, _HEX, 32),
    "HMAC-MD5": ("CRAM-MD5", Family.CONTEXT, _HEX, 32),
    "DIGEST-MD5": ("DIGEST-MD5", Family.CONTEXT, _HEX, 16),
    "SCRAM-SHA-1": ("SCRAM-SHA-1", Family.SCRAM, None, 0),
    "SCRAM-SHA-256": ("SCRAM-SHA-256", Family.SCRAM, None, 0),
    "PBKDF2": ("PBKDF2", Family.PBKDF2, None, 0),
    "ARGON2": ("ARGON2", Family.ARGON2, None, 0),
    "ARGON2I": ("ARGON2I", Family.ARGON2, None, 0),
    "ARGON2ID": ("ARGON2ID", Family.ARGON2, None, 0),
    "OTP": ("OTP", Family.OTP, None, 0),
    "SKEY": ("OTP", Family.OTP, None, 0),
}
_SALT_AFTER = {"SMD5": 16, "SSHA": 20, "SSHA256": 32, "SSHA512": 64}
_SCRAM_SIZE = {"SCRAM-SHA-1": 20, "SCRAM-SHA-256": 32}
_PBKDF2 = re.compile(r"\$1\$([^$]*)\$([0-9]{1,10})\$([0-9a-fA-F]{40})")
_OTP = re.compile(r"(md4|md5|sha1) ([0-9]{1,9}) ([A-Za-z0-9]{1,16}) ([0-9a-fA-F]{16})")
_ENCODINGS = {"b64": _B64, "base64": _B64, "hex": _HEX}


class _Reject(Exception):
    """Raised inside the parser to return an :class:`UnknownScheme`."""

    def __init__(self, problem: Problem, reason: str) -> None:
        super().__init__(reason)
        self.problem = problem
        self.reason = reason


def identify(stored: str, *, default_scheme: str | None = None) -> SchemeInfo | UnknownScheme:
    """Identify the scheme of one stored password value (see the module docstring for rules).

    ``default_scheme`` is the passdb default for values without a ``{SCHEME}`` prefix (``CRYPT``
    for passwd-file, ``MD5`` for Dovecot 2.3 SQL, ``PLAIN`` ...); None accepts any crypt(3) or
    argon2 string, as vpopmail does.
    """
    declared: str | None = None
    try:
        scheme, data, bare_md5_crypt = _split(stored, default_scheme)
        declared = None if scheme is None else scheme.partition(".")[0].upper()
        if bare_md5_crypt:
            declared = None
            return _crypt(None, data)
        return _identify(scheme, data)
    except _Reject as reject:
        return UnknownScheme(declared=declared, problem=reject.problem, reason=reject.reason)
    except (ValueError, TypeError, OverflowError, LookupError, AttributeError) as exc:
        # A parser bug, never a crash of the audit: report it like any other unusable value.
        reason = f"internal error while parsing: {type(exc).__name__}"
        return UnknownScheme(declared=declared, problem=Problem.MALFORMED, reason=reason)


def _split(stored: str, default_scheme: str | None) -> tuple[str | None, str, bool]:
    """(scheme as written or the default, data, is-bare-MD5-crypt): password_get_scheme()."""
    if stored.startswith("$1$"):
        first = stored.find("$", 3)
        if first >= 0:
            end = stored.find("$", first + 1)
            return None, stored if end < 0 else stored[:end], True
    if stored.startswith("{"):
        end = stored.find("}")
        if end >= 0:
            return stored[1:end], stored[end + 1 :], False
    return default_scheme, stored, False


def _identify(scheme: str | None, data: str) -> SchemeInfo:
    if scheme is None:
        return _crypt(None, data)
    name, dot, suffix = scheme.partition(".")
    spec = _SPECS.get(name.upper())
    if spec is None:
        raise _Reject(Problem.UNKNOWN_SCHEME, f"unknown password scheme {_show(name)}")
    canonical, family, default_encoding, raw_len = spec
    declared = name.upper()
    encoding = default_encoding
    if dot:
        encoding = _ENCODINGS.get(suffix.lower())
        if encoding is None:
            raise _Reject(Problem.UNKNOWN_SCHEME, f"unknown encoding suffix {_show(suffix)}")
    if family in (Family.DIGEST, Family.SALTED_DIGEST, Family.CONTEXT):
        raw, used = _decode(data, encoding, raw_len, guess=not dot)
        return _binary(canonical, declared, family, raw, used)
    text = data
    if dot:
        text = _decode(data, encoding, 0, guess=False)[0].decode("utf-8", "surrogateescape")
    if family is Family.CLEARTEXT:
        return _cleartext(canonical, declared, text, encoding if dot else None)
    if canonical == "MD5" and not text.startswith("$1$"):
        return _md5_digest(declared, text)
    if family is Family.CRYPT or canonical == "MD5":
        return _crypt(declared, text)
    if family is Family.ARGON2:
        return _argon2(declared, text)
    return _textual(canonical, declared, family, text)


def _show(text: str) -> str:
    """A short printable rendering of a scheme name or suffix for a reason string."""
    return ascii(text[:40])


def _decode(
    data: str, encoding: str | None, raw_len: int, *, guess: bool
) -> tuple[bytes, str | None]:
    """``password_decode()``: (raw bytes, encoding used); hex is guessed from the length."""
    if encoding is None:
        return data.encode("utf-8", "surrogateescape"), None
    if guess and raw_len:
        encoding = _HEX if len(data) == 2 * raw_len else _B64
    try:
        raw = data.encode("ascii")
    except UnicodeEncodeError:
        raise _Reject(Problem.BAD_ENCODING, "encoded data is not ASCII") from None
    if encoding == _HEX:
        try:
            return _check_len(binascii.a2b_hex(raw), raw_len), _HEX
        except binascii.Error:
            if not guess:
                raise _Reject(Problem.BAD_ENCODING, "data is not valid hex") from None
    return _check_len(_b64(raw), raw_len), _B64


def _b64(raw: bytes) -> bytes:
    """Strict base64, tolerating only missing ``=`` padding."""
    for candidate in (raw, raw + b"=" * (-len(raw) % 4)):
        try:
            return binascii.a2b_base64(candidate, strict_mode=True)
        except binascii.Error:
            continue
    raise _Reject(Problem.BAD_ENCODING, "data is not valid base64")


def _check_len(raw: bytes, raw_len: int) -> bytes:
    if raw_len and len(raw) != raw_len:
        raise _Reject(Problem.MALFORMED, f"{len(raw)} bytes of hash data, expected {raw_len}")
    return raw


def _info(
    name: str,
    declared: str | None,
    family: Family,
    data: str,
    *,
    encoding: str | None = None,
    cleartext: Secret | None = None,
    cost: Cost | None = None,
    truncates_at: int | None = None,
    notes: tuple[str, ...] = (),
) -> SchemeInfo:
    """A :class:`SchemeInfo` with the policy verdicts and the cost estimate filled in."""
    cost = cost or Cost()
    seconds = estimate_seconds(name, family.value, cost)
    return SchemeInfo(
        name=name,
        declared=declared,
        family=family,
        data=data,
        encoding=encoding,
        cleartext=cleartext,
        cost=cost,
        weak=weak_reason(name),
        low_cost=low_cost_reason(name, cost),
        needs_username=name == "DIGEST-MD5",
        truncates_at=truncates_at,
        cost_seconds=seconds,
        cost_class=classify(seconds),
        notes=notes,
    )


def _binary(
    name: str, declared: str, family: Family, raw: bytes, encoding: str | None
) -> SchemeInfo:
    salt_after = _SALT_AFTER.get(name)
    if salt_after is not None and len(raw) <= salt_after:
        raise _Reject(Problem.MALFORMED, f"{name} data too short: {len(raw)} bytes, no salt")
    notes: tuple[str, ...] = ()
    if name == "RPA":
        notes = ("no verifier: RPA's hash input is not implemented",)
    truncates = 14 if name == "LANMAN" else None
    return _info(
        name, declared, family, raw.hex(), encoding=encoding, truncates_at=truncates, notes=notes
    )


def _cleartext(name: str, declared: str, text: str, encoding: str | None) -> SchemeInfo:
    if name == "PLAIN-TRUNC":
        digits = len(text) - len(text.lstrip("0123456789"))
        if digits == 0 or digits > 9 or text[digits : digits + 1] != "-":
            raise _Reject(Problem.MALFORMED, "PLAIN-TRUNC data lacks its '<length>-' prefix")
        limit, text = int(text[:digits]), text[digits + 1 :]
        notes = ("stored prefix of a longer password",) if len(text) == limit else ()
        return _info(
            name,
            declared,
            Family.CLEARTEXT,
            "",
            encoding=encoding,
            cleartext=Secret(text),
            truncates_at=limit,
            notes=notes,
        )
    return _info(name, declared, Family.CLEARTEXT, "", encoding=encoding, cleartext=Secret(text))


def _md5_digest(declared: str, text: str) -> SchemeInfo:
    """``{MD5}`` data that is not MD5-crypt: Dovecot's md5_verify() tries PLAIN-MD5."""
    try:
        raw, used = _decode(text, _B64, 16, guess=True)
    except _Reject:
        reason = "MD5 data is neither MD5-crypt nor a PLAIN-MD5 digest"
        raise _Reject(Problem.MALFORMED, reason) from None
    note = "MD5 scheme holding a PLAIN-MD5 digest (Dovecot accepts both)"
    return _info("PLAIN-MD5", declared, Family.DIGEST, raw.hex(), encoding=used, notes=(note,))


def _crypt(declared: str | None, text: str) -> SchemeInfo:
    if not text:
        raise _Reject(Problem.EMPTY, "no password hash stored (crypt never matches empty data)")
    if text[0] in "!*":
        raise _Reject(Problem.LOCKED, "account locked or disabled ('!' or '*' marker)")
    parsed = parse_crypt(text)
    if isinstance(parsed, NotCrypt):
        if parsed.method is not None:
            raise _Reject(Problem.MALFORMED, parsed.reason)
        problem = Problem.MALFORMED if declared is not None else Problem.UNRECOGNISED
        hint = " (looks like a hex digest: wrong passdb default?)" if _is_hex(text) else ""
        raise _Reject(problem, f"{parsed.reason}{hint}")
    notes: list[str] = []
    if declared == "MD5-CRYPT" and parsed.name != "MD5-CRYPT":
        raise _Reject(Problem.MALFORMED, "MD5-CRYPT data is not a $1$ MD5-crypt string")
    if declared not in (None, "CRYPT", "MD5", parsed.name):
        notes.append(f"declared {declared} but the data is {parsed.name}")
    if parsed.name.startswith("ARGON2"):
        if declared is not None:
            notes.append("libcrypt has no argon2: Dovecot's CRYPT scheme cannot verify it")
        return _argon2(declared, text, extra=tuple(notes))
    if parsed.name in ("SHA256-CRYPT", "SHA512-CRYPT"):
        if parsed.cost.rounds is not None and parsed.cost.rounds < 1000:
            notes.append("rounds below 1000: libxcrypt refuses them, old glibc clamped to 1000")
    return _crypt_info(parsed, declared, text, tuple(notes))


def _crypt_info(
    parsed: CryptFormat, declared: str | None, text: str, notes: tuple[str, ...]
) -> SchemeInfo:
    return _info(
        parsed.name,
        declared,
        Family.CRYPT,
        text,
        cost=parsed.cost,
        truncates_at=parsed.truncates_at,
        notes=notes,
    )


def _argon2(declared: str | None, text: str, extra: tuple[str, ...] = ()) -> SchemeInfo:
    parsed = parse_argon2(text)
    if isinstance(parsed, NotCrypt):
        raise _Reject(Problem.MALFORMED, parsed.reason)
    notes = list(extra)
    if declared in ("ARGON2I", "ARGON2ID") and declared != parsed.name:
        notes.append(f"declared {declared} but the data is {parsed.name}")
    return _info(parsed.name, declared, Family.ARGON2, text, cost=parsed.cost, notes=tuple(notes))


def _is_hex(text: str) -> bool:
    return len(text) in (32, 40, 64, 128) and all(c in "0123456789abcdefABCDEF" for c in text)


def _textual(name: str, declared: str, family: Family, text: str) -> SchemeInfo:
    """PBKDF2, SCRAM and OTP: schemes whose data is their own text format."""
    if family is Family.PBKDF2:
        m = _PBKDF2.fullmatch(text)
        if m is None or int(m.group(2)) == 0:
            raise _Reject(Problem.MALFORMED, "PBKDF2 data is not $1$<salt>$<rounds>$<40 hex>")
        cost = Cost(iterations=int(m.group(2)))
        return _info(name, declared, family, text, cost=cost)
    if family is Family.SCRAM:
        return _scram(name, declared, text)
    m = _OTP.fullmatch(text)
    if m is None:
        raise _Reject(Problem.MALFORMED, "OTP data is not '<algo> <seq> <seed> <16 hex>'")
    algo, seq, seed, value = m.groups()
    data = f"{algo} {int(seq)} {seed.lower()} {value.lower()}"
    return _info(name, declared, family, data, cost=Cost(iterations=int(seq)))


def _scram(name: str, declared: str, text: str) -> SchemeInfo:
    fields = text.split(",")
    if len(fields) != 4 or not fields[0].isascii() or not fields[0].isdigit():
        raise _Reject(Problem.MALFORMED, f"{name} data is not iter,salt,StoredKey,ServerKey")
    iterations = int(fields[0][:10])
    if iterations < 1 or len(fields[0]) > 10:
        raise _Reject(Problem.MALFORMED, f"{name} iteration count out of range")
    size = _SCRAM_SIZE[name]
    salt, stored, server = (_b64(f.encode("ascii", "replace")) for f in fields[1:])
    if len(stored) != size or len(server) != size or not salt:
        raise _Reject(Problem.MALFORMED, f"{name} keys are not {size}-byte base64 values")
    notes = ("Dovecot rejects SCRAM iteration counts below 4096",) if iterations < 4096 else ()
    normal = ",".join((str(iterations), *fields[1:]))
    return _info(
        name, declared, Family.SCRAM, normal, cost=Cost(iterations=iterations), notes=notes
    )
