"""What every per-daemon log parser provides, and the small helpers they share.

A parser is fed the lines of all log files in time order (as :class:`LogRecord` values whose
program it claimed) and turns them into :class:`LoginEvent` and :class:`RelayedMessage` records.
It may keep state between lines (Postfix queue ids, sendmail pids, qmail message numbers); that
state is bounded and released when a message ends or after ``expire`` of log time. Messages still
open at the end are given out by :meth:`LogParser.flush`.

``feed`` returns None for a line the parser does not understand, so that the scanner can count
unknown lines per program instead of dropping them silently; a recognised line that yields
nothing (``connect from``, TLS chatter) returns an empty tuple.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from authaudit.logs.merge import LogRecord
from authaudit.model import LoginEvent, LoginKind, RelayedMessage, Skipped
from authaudit.redact import Secret

__all__ = [
    "DEFAULT_EXPIRE",
    "EVIDENCE_LINES",
    "NOTHING",
    "SECRET_MARK",
    "LogEvent",
    "LogParser",
    "evidence_line",
    "login_event",
    "normalise_ip",
    "program_leaf",
    "value_after",
]

LogEvent = LoginEvent | RelayedMessage
"""What parsers produce."""

NOTHING: tuple[LogEvent, ...] = ()
"""The result for a recognised line that produces no event."""

SECRET_MARK = "<secret>"  # noqa: S105 - a placeholder, not a password
"""What replaces a logged password in ``LoginEvent.line`` and ``RelayedMessage.lines``."""

EVIDENCE_LINES = 5
"""Log lines a message keeps as its evidence (the first ones: enough to show what happened)."""

DEFAULT_EXPIRE = timedelta(days=7)
"""Queue state older than this (in log time) is given out as it is and forgotten."""


class LogParser(Protocol):
    """One daemon's log grammar (Postfix, Dovecot, Exim, sendmail, qmail/vpopmail, Courier)."""

    name: str
    """``postfix``, ``dovecot``, ``exim``, ``sendmail``, ``qmail``, ``courier``."""

    def claims(self, program: str | None, message: str) -> bool:
        """Whether lines of ``program`` belong to this parser.

        Called once per distinct program name (the result is cached by the scanner), with the
        message of the first such line; for lines without a program (``program`` None: multilog,
        Dovecot's own file) it is called for every line and should look at the message only.
        """
        ...

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        """The events this line completes; None when the line is not understood."""
        ...

    def flush(self) -> Sequence[LogEvent]:
        """Messages still open at the end of the input, as far as they are known."""
        ...

    def skipped(self) -> Sequence[Skipped]:
        """What the parser had to give up on (state limits, broken chains), counted."""
        ...


def program_leaf(program: str | None) -> str:
    """The last path component of a syslog tag: ``postfix/submission/smtpd`` → ``smtpd``."""
    if not program:
        return ""
    return program.rsplit("/", 1)[-1]


@functools.lru_cache(maxsize=65536)
def normalise_ip(text: str | None) -> str | None:
    """A client address as logs write it, in one canonical form, or None if there is none.

    Strips ``[]``, a ``:port`` after an IPv4 address or a bracketed IPv6 one, Postfix's
    ``IPv6:`` prefix, and the ``::ffff:`` of IPv4-mapped IPv6; lower-cases IPv6. Anything that
    is not an address (``unknown``, a host name) gives None.
    """
    if not text:
        return None
    if _plain_ipv4(text):
        return text
    value = text.strip()
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    if value[:5].lower() == "ipv6:":
        value = value[5:]
    if value.count(":") == 1:  # IPv4 with port
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _plain_ipv4(text: str) -> bool:
    """Whether ``text`` is a dotted-quad IPv4 address already in canonical form (four decimal
    octets up to 255, no leading zeros): the common case, without :mod:`ipaddress`."""
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not (part.isdigit() and part.isascii() and len(part) <= 3) or (
            part[0] == "0" and len(part) > 1
        ) or int(part) > 255:
            return False
    return True


def evidence_line(record: LogRecord, message: str | None = None) -> str:
    """The line as evidence: ``prog[pid]: message`` (``message`` replaces the logged text, for
    example with a password cut out)."""
    env = record.envelope
    text = env.message if message is None else message
    if env.program is None:
        return text
    if env.pid is None:
        return f"{env.program}: {text}"
    return f"{env.program}[{env.pid}]: {text}"


def value_after(text: str, key: str, end: str = " ") -> str | None:
    """The value that follows the first ``key`` in ``text``, up to the next ``end`` (or the end
    of the text); None when ``key`` is not there. ``key`` carries its own separator and ``=``
    (`` relay=``, ``, dsn=``)."""
    pos = text.find(key)
    if pos < 0:
        return None
    start = pos + len(key)
    stop = text.find(end, start)
    return text[start:] if stop < 0 else text[start:stop]


def login_event(record: LogRecord, daemon: str, kind: LoginKind, user: str | None,
                ip: str | None, method: str | None, *, service: str = "smtp", attempts: int = 1,
                reason: str = "", secret: Secret | None = None,
                line: str | None = None) -> LoginEvent:
    """A login read from ``record`` (its place and time; ``ip`` as it is, normalised by the
    caller); ``line`` replaces the evidence line when a secret was cut from it."""
    return LoginEvent(source=record.source, lineno=record.lineno, time=record.time,
                      daemon=daemon, service=service, kind=kind, user=user, client_ip=ip,
                      method=method, attempts=attempts, reason=reason, secret=secret,
                      line=line if line is not None else evidence_line(record))
