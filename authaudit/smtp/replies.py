"""SMTP replies: reply lines, whole replies, and what a reply to AUTH means.

A reply is one or more lines ``CODE-text`` ending with a line ``CODE text`` or ``CODE`` (RFC 5321
section 4.2.1). Reply codes that matter for AUTH are listed in RFC 4954 sections 4 and 6.
"""

from __future__ import annotations

from dataclasses import dataclass

from authaudit.model import Outcome

__all__ = [
    "GREETING_CODES",
    "S220_READY",
    "S235_AUTH_OK",
    "S334_CONTINUE",
    "S354_START_INPUT",
    "S501_SYNTAX",
    "S503_BAD_SEQUENCE",
    "S504_UNKNOWN_MECHANISM",
    "S535_BAD_CREDENTIALS",
    "Reply",
    "auth_outcome",
    "parse_reply_line",
]

S220_READY = 220
"""Greeting, and the answer that starts TLS after STARTTLS (RFC 3207)."""
S235_AUTH_OK = 235
S334_CONTINUE = 334
"""Server challenge: the client must answer with one line (RFC 4954 section 4)."""
S354_START_INPUT = 354
S501_SYNTAX = 501
"""Also the answer to a cancelled exchange (``*``) and to undecodable base64."""
S503_BAD_SEQUENCE = 503
"""AUTH not advertised, already authenticated, or sent during a mail transaction."""
S504_UNKNOWN_MECHANISM = 504
S535_BAD_CREDENTIALS = 535

GREETING_CODES = frozenset({220, 421, 554})
"""Codes a server may open a session with (RFC 5321 section 3.1)."""

_QMAIL_FAILURE_WORDS = ("fail", "unsuccessful", "denied", "incorrect", "invalid")


@dataclass(frozen=True, slots=True)
class Reply:
    """One complete server reply: its code and the text of its last line."""

    code: int
    text: str
    """Text of the final line, after the code and separator."""
    raw_text: bytes
    """The same text as bytes (a 334 challenge is decoded from these)."""
    lines: int = 1


def parse_reply_line(line: bytes) -> tuple[int, bool, bytes] | None:
    """``(code, is_last_line, text)`` for a reply line, or None when it is not a reply line."""
    if len(line) < 3:
        return None
    d0, d1, d2 = line[0], line[1], line[2]
    if not (0x32 <= d0 <= 0x35 and 0x30 <= d1 <= 0x39 and 0x30 <= d2 <= 0x39):
        return None
    code = (d0 - 0x30) * 100 + (d1 - 0x30) * 10 + (d2 - 0x30)
    if len(line) == 3:
        return code, True, b""
    sep = line[3]
    if sep == 0x20:
        return code, True, line[4:]
    if sep == 0x2D:
        return code, False, line[4:]
    if sep == 0x09:  # seen from a few broken servers; harmless to accept
        return code, True, line[4:]
    return None


def auth_outcome(
    reply: Reply, *, credentials_sent: bool, cancelled: bool
) -> tuple[Outcome, tuple[str, ...]]:
    """The outcome of an AUTH exchange whose final (non-334) reply is ``reply``, plus flags.

    Policy (RFC 4954 section 6 gives the codes; the mapping is ours):

    * ``*`` sent by the client: cancelled, whatever the server answers (normally 501).
    * 235: success, except a 235 whose text says the authentication failed: some qmail builds
      answer so (jakartaee/mail-api#23); that is a failure, flagged ``qmail-235-failure``.
    * 503: rejected - the command was refused as out of sequence, no credential was judged.
    * any other 4xx/5xx before the client sent any credential (no initial response, no answer to a
      334; e.g. 504 unknown mechanism, 534 mechanism too weak, 538 encryption required): rejected.
    * any other 4xx/5xx after credentials were sent (535, 454, 534, 501, 530 ...): failure.
    * any other 2xx or 3xx: unknown, flagged ``unexpected-reply``.
    """
    code = reply.code
    if cancelled:
        return Outcome.CANCELLED, ()
    if code == S235_AUTH_OK:
        lowered = reply.text.lower()
        if any(word in lowered for word in _QMAIL_FAILURE_WORDS):
            return Outcome.FAILURE, ("qmail-235-failure",)
        return Outcome.SUCCESS, ()
    if code == S503_BAD_SEQUENCE:
        return Outcome.REJECTED, ()
    if code >= 400:
        return (Outcome.FAILURE if credentials_sent else Outcome.REJECTED), ()
    return Outcome.UNKNOWN, ("unexpected-reply",)
