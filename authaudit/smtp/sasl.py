"""The interface of a SASL mechanism decoder: what it is fed, and what it reveals.

A decoder follows one exchange: the session hands it each server challenge (the text of a ``334``
line) and each client response (the initial response of the AUTH command, then every line that
answers a ``334``), both as the base64 text seen on the wire. It never raises on bad input:
anything odd becomes a flag in :class:`Decoded`. The decoders themselves are in
:mod:`.mechanisms`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote

from authaudit.redact import Secret
from authaudit.smtp.b64 import decode_b64
from authaudit.smtp.text import render_bytes

__all__ = ["Decoded", "Mechanism", "pct", "saslname"]

_MALFORMED = (ValueError, IndexError, KeyError, struct.error, OverflowError)
_SAFE = "!\"#&'()*+,-./:;<=>?@[\\]^_`{|}~ "


def pct(data: bytes) -> str:
    """``data`` percent-encoded except printable ASCII other than ``%`` and ``$``."""
    return quote(data, safe=_SAFE)


@dataclass(slots=True)
class Decoded:
    """What an exchange revealed so far."""

    username: str | None = None
    authzid: str | None = None
    secret: Secret | None = None
    flags: list[str] = field(default_factory=list)

    def flag(self, name: str) -> None:
        """Add ``name`` to the flags once."""
        if name not in self.flags:
            self.flags.append(name)


class Mechanism:
    """One SASL exchange being followed; subclasses decode a particular mechanism."""

    steps: ClassVar[int | None] = None
    """How many client responses complete the exchange, if the mechanism has a fixed count."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.decoded = Decoded()
        self.responses = 0
        self.challenges = 0

    @property
    def complete(self) -> bool:
        """The client has sent everything this mechanism needs (used when the server is unseen)."""
        return self.steps is not None and self.responses >= self.steps

    def challenge(self, text: bytes) -> None:
        """A server challenge: the text after ``334 ``, as sent."""
        self.challenges += 1
        try:
            self._on_challenge(text.strip())
        except _MALFORMED:
            self.decoded.flag("malformed")

    def response(self, text: bytes) -> None:
        """A client response (initial response or answer to a 334), as sent; ``*`` is not one."""
        self.responses += 1
        try:
            self._on_response(text.strip())
        except _MALFORMED:
            self.decoded.flag("malformed")

    def _on_challenge(self, text: bytes) -> None:
        """Subclasses: decode a server challenge."""

    def _on_response(self, text: bytes) -> None:
        """Subclasses: decode a client response."""

    def _b64(self, text: bytes) -> bytes | None:
        """Decode base64, flagging leniency; None (flagged ``bad-base64``) when it is not base64."""
        try:
            data, lenient = decode_b64(text)
        except ValueError:
            self.decoded.flag("bad-base64")
            return None
        if lenient:
            self.decoded.flag("lenient-base64")
        return data


def saslname(value: bytes) -> str:
    """A SCRAM/GS2 ``saslname`` (RFC 5802 section 5.1): ``=2C`` is ``,`` and ``=3D`` is ``=``."""
    return render_bytes(value.replace(b"=2C", b",").replace(b"=3D", b"="))
