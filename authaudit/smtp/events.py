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
    username: str | None = None
    authzid: str | None = None
    secret: Secret | None = None
    outcome: Outcome = Outcome.UNKNOWN
    reply_code: int | None = None
    reply_text: str = ""
    tls: bool = False
    """The exchange came after a successful STARTTLS (decrypted capture)."""
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsStarted:
    """The server accepted STARTTLS (220): what follows on the wire is encrypted."""

    ts: float
    reply_code: int
    reply_text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionNote:
    """Something about the stream the user should know (a protocol violation, a limit hit)."""

    ts: float
    reason: str
    skipped: bool = True
    """True when the note means part of the stream could not be used."""


SessionEvent = AuthFinished | TlsStarted | SessionNote
