"""One AUTH exchange as the session follows it, and the :class:`AuthFinished` event it ends in."""

from __future__ import annotations

from authaudit.model import Outcome
from authaudit.smtp.b64 import decode_b64
from authaudit.smtp.commands import surely_command
from authaudit.smtp.events import AuthFinished
from authaudit.smtp.mechanisms import decoder_for
from authaudit.smtp.replies import Reply, auth_outcome

__all__ = ["AuthExchange", "could_be_response"]


class AuthExchange:
    """An AUTH command and what followed it so far: challenges, responses, cancel, assumptions."""

    __slots__ = ("assumed", "cancelled", "credentials_sent", "flags", "mechanism", "tls", "ts")

    def __init__(self, name: str, initial: bytes | None, ts: float, *, tls: bool) -> None:
        """Start an exchange for ``AUTH name [initial]`` sent at ``ts``."""
        self.ts = ts
        """Capture time of the AUTH command."""
        self.tls = tls
        self.mechanism = decoder_for(name)
        self.flags: list[str] = []
        self.credentials_sent = initial is not None
        """The client sent something (an initial response or an answer to a 334)."""
        self.cancelled = False
        self.assumed = False
        """A 334 was assumed because no usable server side said so."""
        if initial is not None:
            self.mechanism.response(initial)

    def challenge(self, text: bytes) -> None:
        """The server's 334 with ``text`` (or, when ``assumed``, a 334 inferred)."""
        self.mechanism.challenge(text)

    def answer(self, line: bytes) -> None:
        """The client's line answering a 334: a response, or ``*`` to cancel (RFC 4954)."""
        if line == b"*":
            self.cancelled = True
        else:
            self.credentials_sent = True
            self.mechanism.response(line)

    def finish(self, reply: Reply) -> AuthFinished:
        """The event for an exchange ended by the server's final (non-334) ``reply``."""
        outcome, flags = auth_outcome(
            reply, credentials_sent=self.credentials_sent, cancelled=self.cancelled
        )
        return self._event(outcome, reply, flags)

    def abandon(self, *flags: str) -> AuthFinished:
        """The event for an exchange that ended without a final reply (cancelled or unknown)."""
        outcome = Outcome.CANCELLED if self.cancelled else Outcome.UNKNOWN
        return self._event(outcome, None, flags)

    def _event(self, outcome: Outcome, reply: Reply | None, flags: tuple[str, ...]) -> AuthFinished:
        decoded = self.mechanism.decoded
        return AuthFinished(
            ts=self.ts,
            mechanism=self.mechanism.name,
            username=decoded.username,
            authzid=decoded.authzid,
            secret=decoded.secret,
            outcome=outcome,
            reply_code=reply.code if reply is not None else None,
            reply_text=reply.text if reply is not None else "",
            tls=self.tls,
            flags=tuple(dict.fromkeys([*decoded.flags, *self.flags, *flags])),
        )


def could_be_response(line: bytes) -> bool:
    """Without a server to say so: could ``line`` answer a 334 (base64 or empty, not a command)?"""
    if surely_command(line):
        return False
    try:
        decode_b64(line)
    except ValueError:
        return False
    return True
