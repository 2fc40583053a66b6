"""Secrets and their redaction: the only place where a secret's value is turned into text.

A :class:`Secret` never shows its value through ``str`` or ``repr``. Output code asks a
:class:`Redactor` for the text to print; the redactor returns either the value (only when the user
passed ``--show-secrets``) or ``redacted:<8 hex>``, a keyed fingerprint that is stable within one
run, so that the same password seen twice can be recognised without being revealed.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

__all__ = ["REDACTED_PREFIX", "Redactor", "Secret", "SecretKind"]

REDACTED_PREFIX = "redacted:"


class SecretKind(enum.StrEnum):
    """What a secret's value is: a password, or a line an offline cracker can attack."""

    CLEARTEXT = "cleartext"
    """A password as typed (LOGIN, PLAIN, stored cleartext)."""
    CRAM_MD5 = "cram-md5"
    """``$cram_md5$<b64 challenge>$<b64 response>`` (hashcat mode 10200)."""
    NETNTLMV1 = "netntlmv1"
    """``user::domain:lm:nt:challenge`` (hashcat mode 5500)."""
    NETNTLMV2 = "netntlmv2"
    """``user::domain:challenge:ntproofstr:blob`` (hashcat mode 5600)."""
    DIGEST_MD5 = "digest-md5"
    """A DIGEST-MD5 response with the fields needed to verify it offline."""
    SCRAM = "scram"
    """A SCRAM proof with its salt and iteration count."""
    BEARER_TOKEN = "bearer-token"  # noqa: S105 - a kind name, not a password
    """An OAuth 2.0 access token (XOAUTH2, OAUTHBEARER)."""
    HASH = "hash"
    """A stored password hash (account databases)."""


@dataclass(frozen=True, slots=True)
class Secret:
    """A credential as seen on the wire or in a database. Never printed in clear by accident."""

    value: str = field(repr=False)
    kind: SecretKind = SecretKind.CLEARTEXT

    def __str__(self) -> str:
        return f"<{self.kind} secret>"


class Redactor:
    """Turns secrets into printable text, revealing them only when asked to at construction."""

    def __init__(self, *, show_secrets: bool = False, key: bytes | None = None) -> None:
        self.show_secrets = show_secrets
        self._key = key if key is not None else secrets.token_bytes(16)

    def fingerprint(self, secret: Secret) -> str:
        """A short keyed hash of the value: equal values give equal fingerprints in one run."""
        data = secret.value.encode("utf-8", "surrogateescape")
        digest = hmac.new(self._key, data, hashlib.sha256)
        return digest.hexdigest()[:8]

    def text(self, secret: Secret | None) -> str:
        """The text to print for ``secret``: its value, or ``redacted:<fingerprint>``."""
        if secret is None:
            return ""
        if self.show_secrets:
            return secret.value
        return REDACTED_PREFIX + self.fingerprint(secret)
