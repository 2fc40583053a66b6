"""Client command lines: the verb, the arguments, and how sure we are that a line is a command.

Commands are case-insensitive (RFC 5321 section 2.4). Only four verbs change how the client's
following bytes must be read (AUTH, DATA, BDAT, STARTTLS); every other line, known verb or not, is
just a command the server will answer once.
"""

from __future__ import annotations

import re

from authaudit.smtp.states import Trigger

__all__ = ["parse_auth", "parse_bdat", "split_command", "surely_command", "trigger_for"]

_TRIGGERS = {
    b"AUTH": Trigger.CMD_AUTH,
    b"DATA": Trigger.CMD_DATA,
    b"BDAT": Trigger.CMD_BDAT,
    b"STARTTLS": Trigger.CMD_STARTTLS,
}

# A line that is a command beyond reasonable doubt: used where no server reply says how a line was
# taken (after lost bytes, or when the server side is missing).
_SURE = re.compile(
    rb"(?i:(?:EHLO|HELO|LHLO) \S+"
    rb"|MAIL FROM: ?<.*|RCPT TO: ?<.*"
    rb"|(?:RSET|QUIT|NOOP|DATA|STARTTLS) ?"
    rb"|AUTH [A-Z0-9_-]{1,20}(?: \S+)?"
    rb"|BDAT \d+(?: LAST)?)\s*"
)
_MECHANISM = re.compile(rb"[A-Za-z0-9_-]{1,64}")


def split_command(line: bytes) -> tuple[bytes, bytes]:
    """``(VERB, arguments)``: the verb upper-cased, the arguments after one space."""
    verb, _, args = line.partition(b" ")
    return verb.upper(), args


def trigger_for(verb: bytes) -> Trigger:
    """The state-machine trigger a command with this (upper-case) verb fires."""
    return _TRIGGERS.get(verb, Trigger.CMD)


def surely_command(line: bytes) -> bool:
    """True when ``line`` is an SMTP command beyond reasonable doubt (strict syntax, known verb)."""
    return _SURE.fullmatch(line) is not None


def parse_auth(args: bytes) -> tuple[str, bytes | None] | None:
    """``(MECHANISM, initial response or None)`` from the arguments of AUTH, or None if malformed.

    An initial response of ``=`` stands for an empty one (RFC 4954 section 4) and comes back as
    ``b""``.
    """
    parts = args.split()
    if not parts or len(parts) > 2 or _MECHANISM.fullmatch(parts[0]) is None:
        return None
    name = parts[0].decode("ascii").upper()
    if len(parts) == 1:
        return name, None
    return name, b"" if parts[1] == b"=" else parts[1]


def parse_bdat(args: bytes) -> tuple[int, bool] | None:
    """``(chunk size, is last)`` from the arguments of BDAT (RFC 3030), or None if malformed."""
    parts = args.split()
    if not parts or len(parts) > 2 or not parts[0].isdigit() or len(parts[0]) > 15:
        return None
    if len(parts) == 2 and parts[1].upper() != b"LAST":
        return None
    return int(parts[0]), len(parts) == 2
