"""The pieces of an Exim main-log message: message ids, ``<=`` arrival fields, delivery lines and
authenticator failures, read without any state.

Field layout (Exim spec, "Log line flags" and "Summary of Fields in Log Lines"): an arrival is
``<id> <= sender H=rdns (helo) [ip]:port I=... P=proto ... A=authenticator:id[:sender] S=size
id=msgid T="subject" from <sender> for rcpt1 rcpt2``. The subject may hold brackets, ``=`` and even
``"``, so the text is cut at `` T="`` before any field is looked for, and the recipient list is
taken from after the subject's closing quote. Message ids are 16 characters before Exim 4.97
(``1guGLh-001ONk-GU``) and 23 after (``10HmaX-000000005vi-0000``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from authaudit.logs.interface import value_after

__all__ = [
    "AUTH_FAILED",
    "Arrival",
    "AuthFailure",
    "DeliveryLine",
    "HostField",
    "message_id_end",
    "parse_arrival",
    "parse_auth_failure",
    "parse_delivery",
    "parse_host",
]

_HOST = re.compile(
    r"(?:(?P<rdns>[^\s(\[]+) ?)?(?:\((?P<helo>[^)]*)\) ?)?"
    r"\[(?P<ip>[^\]\s]+)\](?::(?P<port>\d{1,5}))?",
    re.ASCII,
)
AUTH_FAILED = " authenticator failed for "
"""What marks an Exim server-side authentication failure line."""
_CODE = re.compile(r": ([2-5]\d\d)[ -]", re.ASCII)
_TIMES = re.compile(r": (\d{1,6}) Time\(s\)$", re.ASCII)
_MESSAGE_ID = re.compile(
    r"[0-9A-Za-z]{6}-(?:[0-9A-Za-z]{6}-[0-9A-Za-z]{2}|[0-9A-Za-z]{11}-[0-9A-Za-z]{4}) ", re.ASCII
)
_FIELD_TOKEN = re.compile(r"(?:[A-Z][A-Za-z0-9]{0,3}|id)=", re.ASCII)


def message_id_end(text: str) -> int:
    """Where the Exim message id at the start of ``text`` ends (the index of the space after
    it), or 0 when ``text`` does not start with one."""
    match = _MESSAGE_ID.match(text)
    return match.end() - 1 if match is not None else 0


class HostField(NamedTuple):
    """An ``H=`` (or ``authenticator failed for``) host: reverse DNS name, HELO and address."""

    rdns: str | None
    helo: str | None
    ip: str
    port: int | None
    end: int
    """Index in the text just after the field."""


def parse_host(text: str, pos: int) -> HostField | None:
    """The host field starting at ``pos`` (just after ``H=``), or None when it has no address."""
    match = _HOST.match(text, pos)
    if match is None:
        return None
    port = match["port"]
    return HostField(match["rdns"], match["helo"], match["ip"],
                     int(port) if port is not None else None, match.end())


class Arrival(NamedTuple):
    """The fields of a ``<=`` line that tell who submitted a message."""

    sender: str
    """Envelope sender, ``''`` for ``<>``."""
    host: HostField | None
    protocol: str | None
    """``P=``: ``esmtpa``/``esmtpsa`` when authenticated, ``local`` for local injection."""
    authenticator: str | None
    """``A=`` first part: the server authenticator's name (``dovecot_login``, ``plain``)."""
    auth_id: str | None
    """``A=`` second part: the authenticated identity, when logged."""
    auth_sender: str | None
    """``A=`` third part (``smtp_mailauth`` selector): the ``AUTH=`` sender of ``MAIL FROM``."""
    local_user: str | None
    """``U=``: the local user of a local injection, or the ident of a network client."""
    recipients: tuple[str, ...]


def _recipients(text: str) -> tuple[str, ...]:
    """The `` for a b c`` list at the end of ``text``, or ``()`` when ``text`` has none."""
    pos = text.rfind(" for ")
    if pos < 0:
        return ()
    tokens = text[pos + 5 :].split()
    for token in tokens:
        if _FIELD_TOKEN.match(token) and ("@" not in token or token.startswith("id=")):
            return ()
    return tuple(tokens)


def _after_subject(text: str, start: int) -> str:
    """What follows the subject that opens at ``start`` (after ``T="``): `` from <x> for ...``.

    Exim does not escape a ``"`` inside the subject, so the closing quote is the last one that is
    followed by `` from <``, `` for `` or the end of the line.
    """
    end = max(text.rfind('" for ', start), text.rfind('" from <', start))
    if end < 0:
        return ""
    return text[end + 1 :]


def parse_arrival(text: str) -> Arrival:
    """The fields of the part of a ``<=`` line after ``<= `` (``sender H=... P=... for ...``)."""
    space = text.find(" ")
    sender = text if space < 0 else text[:space]
    if sender == "<>":
        sender = ""
    rest = "" if space < 0 else text[space:]
    subject = rest.find(' T="')
    if subject >= 0:
        head = rest[:subject]
        recipients = _recipients(_after_subject(rest, subject + 4))
    else:
        head = rest
        recipients = _recipients(head)
    host = None
    at = head.find(" H=")
    if at >= 0:
        host = parse_host(head, at + 3)
        if host is not None:
            # the HELO may hold anything: look for the other fields outside the H= field
            head = head[:at] + head[host.end :]
    authenticator = auth_id = auth_sender = None
    auth = value_after(head, " A=")
    if auth is not None:
        authenticator, _, ident = auth.partition(":")
        if ident:
            auth_id, _, mailauth = ident.partition(":")
            auth_sender = mailauth or None
    return Arrival(sender, host, value_after(head, " P="), authenticator or None, auth_id,
                   auth_sender, value_after(head, " U="), recipients)


class DeliveryLine(NamedTuple):
    """A delivery line (``=> -> >> *> ** ==``) of one recipient."""

    address: str
    """The address delivered to (after routing: a local part, a pipe, ``:blackhole:``)."""
    original: str | None
    """The address as the message named it (``<orig>``), when it differs."""
    relay: str
    """``H=`` as ``mx.example.net[192.0.2.1]:25`` for SMTP transports, else ``""``."""

    @property
    def recipient(self) -> str:
        """The envelope recipient this line is about."""
        return self.original or self.address


def parse_delivery(text: str) -> DeliveryLine | None:
    """The part of a delivery line after the flag (``user@x <orig@x> R=r T=t H=h [ip]...``)."""
    tokens = text.split(" ", 3)
    address = tokens[0]
    if not address:
        return None
    if address.endswith(":") and address != ":blackhole:":  # "** x@y: Unrouteable address"
        address = address[:-1]
    original = None
    index = 1
    if len(tokens) > index and tokens[index].startswith("("):  # parent address
        index += 1
    if len(tokens) > index and tokens[index].startswith("<"):
        original = tokens[index].rstrip(":").strip("<>") or None
    return DeliveryLine(address, original, _relay(text))


def _relay(text: str) -> str:
    """``H=host [ip]:port`` of a delivery line as ``host[ip]:port`` (no regex: hot path)."""
    at = text.find(" H=")
    if at < 0:
        return ""
    close = text.find("]", at)
    space = text.find(" ", close) if close > 0 else -1
    if close < 0:
        return ""
    end = close + 1
    port = text[end : space if space > 0 else len(text)]
    if port[:1] == ":" and port[1:].isdigit():
        end += len(port)
    return text[at + 3 : end].replace(" ", "")


class AuthFailure(NamedTuple):
    """``<name> authenticator failed for [rdns ](helo) [ip]:port ...: <code> <text>``."""

    authenticator: str
    host: HostField
    code: int
    text: str
    """The reply text with the ``(set_id=...)`` and ``: N Time(s)`` parts cut out."""
    set_id: str | None
    """The user name the client tried (``set_id=``), when logged."""
    times: int


def parse_auth_failure(text: str, marker: int) -> AuthFailure | None:
    """The failure in ``text`` whose `` authenticator failed for `` starts at ``marker``."""
    authenticator = text[:marker]
    if not authenticator or " " in authenticator:
        return None
    pos = marker + len(AUTH_FAILED)
    if text.startswith("H=", pos):  # older form: "for H=(helo) [ip] U=ident: 535 ..."
        pos += 2
    host = parse_host(text, pos)
    if host is None:
        return None
    code = _CODE.search(text, host.end)
    if code is None:
        return None
    reply = text[code.end() :]
    times = 1
    counted = _TIMES.search(reply)
    if counted is not None:
        times = int(counted[1])
        reply = reply[: counted.start()]
    set_id = None
    mark = reply.find("(set_id=")
    if mark >= 0:
        close = reply.find(")", mark)
        if close > mark:
            set_id = reply[mark + 8 : close]
            reply = (reply[:mark].rstrip() + reply[close + 1 :]).strip()
    return AuthFailure(authenticator, host, int(code[1]), reply, set_id, times)
