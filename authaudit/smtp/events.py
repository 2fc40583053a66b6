"""Events an :class:`~authaudit.smtp.session.SmtpSession` produces from the bytes it is fed."""

from __future__ import annotations

from dataclasses import dataclass

from authaudit.model import Outcome
from authaudit.redact import Secret

__all__ = ["AuthFinished", "SessionEvent", "SessionNote", "TlsStarted"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthFinished:
    """One complete (or abandoned) AUTH exchange, in protocol order."""

    ts: float
    """Capture time of the AUTH command."""
    mechanism: str
    """SASL mechanism name as sent, upper-cased."""
    username: str | None = None
    """Authentication identity: UTF-8 text when printable, else every byte as ``\\xHH``."""
    authzid: str | None = None
    secret: Secret | None = None
    """Password (LOGIN, PLAIN), crackable line (CRAM-MD5, NTLM, DIGEST-MD5, SCRAM) or token."""
    outcome: Outcome = Outcome.UNKNOWN
    reply_code: int | None = None
    """Code of the server's final reply; None when the outcome is unknown."""
    reply_text: str = ""
    """Text of the last line of that reply, without the code."""
    tls: bool = False
    """The exchange came after a successful STARTTLS (decrypted capture)."""
    flags: tuple[str, ...] = ()
    """Oddities, in the order noticed. From the decoders: ``lenient-base64``, ``bad-base64``,
    ``malformed``, ``empty-authcid``, ``empty-response``, ``extra-response``, ``no-challenge``,
    ``anonymous``, ``nonce-mismatch``, ``not-decoded``, ``unknown-mechanism``. From the session:
    ``no-server-reply`` (no usable server side: outcome unknown), ``incomplete`` (the client
    never finished), ``gap`` (client bytes lost mid-exchange), ``after-gap`` (client bytes were
    lost earlier in the session, so reply pairing is less certain), ``line-cut`` (a response
    longer than max_line), ``qmail-235-failure`` and ``unexpected-reply`` (see
    ``replies.auth_outcome``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsStarted:
    """The server accepted STARTTLS (220): what follows on the wire is encrypted.

    Emitted once the client's first bytes after the 220 have been seen, so that it can say whether
    they were a TLS handshake (with its server name) or cleartext SMTP (a decrypted capture).
    """

    ts: float
    """Capture time of the 220 reply (of the client's first TLS bytes when no reply was seen)."""
    reply_code: int | None
    """220, or None when the server side was not usable and TLS was recognised from the client."""
    reply_text: str
    sni: str | None = None
    """Server name from the client's TLS ClientHello, when it carried one."""
    cleartext_after: bool = False
    """Cleartext SMTP followed the 220 (a decrypted capture); parsing went on with ``tls=True``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionNote:
    """Something about the stream the user should know (a protocol violation, a limit hit)."""

    ts: float
    reason: str
    skipped: bool = True
    """True when the note means part of the stream could not be used."""


SessionEvent = AuthFinished | TlsStarted | SessionNote
