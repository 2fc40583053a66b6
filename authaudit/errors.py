"""Exceptions raised by authaudit.

::

    AuthAuditError                 anything authaudit raises on purpose
    ├── SourceError                an input (capture, store, log) cannot be read at all
    │   └── CaptureError           a capture file is not pcap/pcapng, or is unreadable
    ├── ProtocolError              a byte stream broke a protocol rule (becomes Skipped)
    │   └── SmtpProtocolError
    ├── FormatError                a report cannot be rendered in the requested format
    └── UsageError                 an impossible combination of options

Library code raises these; only the CLI turns them into messages and exit codes.
"""

from __future__ import annotations

__all__ = [
    "AuthAuditError",
    "CaptureError",
    "FormatError",
    "ProtocolError",
    "SmtpProtocolError",
    "SourceError",
    "UsageError",
]


class AuthAuditError(Exception):
    """Base class of every error authaudit raises on purpose."""


class SourceError(AuthAuditError):
    """An input source cannot be read at all."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, str]]:
        # Rebuilt from (source, reason), so that it crosses a process pool intact.
        return (type(self), (self.source, self.reason))


class CaptureError(SourceError):
    """A capture file is not a pcap/pcapng file, or cannot be opened."""


class ProtocolError(AuthAuditError):
    """A byte stream broke a rule of its protocol."""


class SmtpProtocolError(ProtocolError):
    """An SMTP stream cannot be followed any further."""


class FormatError(AuthAuditError):
    """A report cannot be rendered."""


class UsageError(AuthAuditError):
    """The caller asked for an impossible combination of options."""
