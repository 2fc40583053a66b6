"""Single lines of the qmail family read without state: CHKUSER, vpopmail ``vchkpw``,
spamcontrol/s/qmail ``Accept::AUTH``, Plesk ``smtp_auth``, spamdyke and qmail-send.

The ``parse_*`` functions take the message text (after any syslog header, splogger stamp and
``prog: `` prefix) and return a small record, or None when the text is not of that form; the
``*_login`` functions turn the three kinds of login line into a :class:`LoginEvent`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from authaudit.logs.interface import (
    SECRET_MARK,
    evidence_line,
    login_event,
    normalise_ip,
    value_after,
)
from authaudit.logs.merge import LogRecord
from authaudit.model import LoginEvent, LoginKind
from authaudit.redact import Secret, SecretKind

__all__ = [
    "ChkUser",
    "PleskAuth",
    "SendLine",
    "SpamcontrolAuth",
    "Spamdyke",
    "Vchkpw",
    "last_ip",
    "parse_chkuser",
    "parse_plesk",
    "parse_send",
    "parse_spamcontrol",
    "parse_spamdyke",
    "parse_vchkpw",
    "plesk_login",
    "spamcontrol_login",
    "strip_splogger",
    "vchkpw_login",
]

_SPLOGGER = re.compile(r"\d{9,11}\.\d{1,9} ", re.ASCII)


def strip_splogger(text: str) -> str:
    """``text`` without splogger's ``1276913544.622856 `` (unix time) prefix."""
    match = _SPLOGGER.match(text)
    return text[match.end() :] if match is not None else text


def last_ip(text: str) -> str | None:
    """The address that ends ``text`` (``helo:host:IP``), where IPv6 makes ``:`` ambiguous.

    An IPv4 last field is taken as it is; otherwise the longest ``:``-separated suffix that is an
    address wins (``h:unknown:2001:db8::1`` gives ``2001:db8::1``).
    """
    head, _, tail = text.rpartition(":")
    if "." in tail or not head:
        return normalise_ip(tail)
    pos = text.find(":")
    while pos >= 0:
        found = normalise_ip(text[pos + 1 :])
        if found is not None:
            return found
        pos = text.find(":", pos + 1)
    return None


class ChkUser(NamedTuple):
    """``CHKUSER <brief>: from <sender:auth:ident> remote <helo:host:ip> rcpt <r> : <desc>``."""

    brief: str
    """``relaying rcpt``, ``accepted rcpt``, ``rejected relaying``, ``must auth`` ..."""
    sender: str
    auth: str
    """The SMTP AUTH user (``remoteinfo``); empty when the client did not authenticate."""
    helo: str
    ip: str | None
    rcpt: str
    desc: str


def parse_chkuser(text: str) -> ChkUser | None:
    """A CHKUSER line in the classic (``sender:auth:ident``) or Roberto Puzzanghera's
    (``sender|remoteinfo/auth:USER|chkuser-identify:...``) form."""
    if not text.startswith("CHKUSER "):
        return None
    colon = text.find(": from <", 8)
    remote = text.find("> remote <", colon)
    rcpt = text.find("> rcpt <", remote)
    if colon < 0 or remote < 0 or rcpt < 0:
        return None
    brief = text[8:colon]
    sender_part = text[colon + 8 : remote]
    remote_part = text[remote + 10 : rcpt]
    close = text.find("> : ", rcpt + 8)
    if close >= 0:
        recipient, desc = text[rcpt + 8 : close], text[close + 4 :]
    else:
        recipient, desc = text[rcpt + 8 :].rstrip(">"), ""
    if "|remoteinfo/auth:" in sender_part:
        sender, _, rest = sender_part.partition("|remoteinfo/auth:")
        auth = rest.partition("|chkuser-identify:")[0]
        helo_part, _, ip_text = remote_part.rpartition("|remotehostip:")
        helo = helo_part.partition("|remotehostname:")[0].removeprefix("helo:")
        ip = normalise_ip(ip_text)
    else:
        fields = sender_part.split(":")
        if len(fields) < 3:
            return None
        sender, auth = fields[0], ":".join(fields[1:-1])
        helo = remote_part.partition(":")[0]
        ip = last_ip(remote_part)
    return ChkUser(brief, sender, auth, helo, ip, recipient, desc)


class Vchkpw(NamedTuple):
    """A vpopmail ``vchkpw-<service>: ...`` authentication line."""

    service: str
    method: str | None
    event: str
    """``login success``, ``password fail``, ``vpopmail user not found``, ``null password given``
    or an ``... access denied`` text."""
    user: str
    ip: str | None
    password: str | None
    """The tried password vpopmail logged with ``(pass: '...')``."""


_VCHKPW_EVENTS = ("login success ", "password fail ", "vpopmail user not found ",
                  "null password given ")


def parse_vchkpw(text: str) -> Vchkpw | None:
    """``vchkpw-SVC: [(MECH) ]<event> [(pass: '...') ]user@dom:ip``."""
    colon = text.find(": ", 7)
    if not text.startswith("vchkpw-") or colon < 0:
        return None
    service = text[7:colon].lower()
    body = text[colon + 2 :]
    method = None
    if body.startswith("("):
        close = body.find(") ")
        if close < 0:
            return None
        method, body = body[1:close], body[close + 2 :]
    password = None
    if body.startswith(_VCHKPW_EVENTS):
        event = next(e for e in _VCHKPW_EVENTS if body.startswith(e)).rstrip()
        who = body[len(event) + 1 :]
        if who.startswith("(pass: '"):
            end = who.rfind("') ")
            if end < 8:
                return None
            password = who[8:end]
            who = who[end + 3 :]
    else:
        denied = body.find(" access denied ")
        if denied < 0:
            return None
        event = body[: denied + 14]
        who = body[denied + 15 :]
    at = who.rfind("@")
    sep = who.find(":", at + 1 if at >= 0 else 0)
    if sep < 0:
        return None
    return Vchkpw(service, method, event, who[:sep], normalise_ip(who[sep + 1 :]), password)


class SpamcontrolAuth(NamedTuple):
    """``pid N Accept::AUTH::mech P:ESMTPA S:ip:host ... ?~ 'user'`` (spamcontrol, s/qmail)."""

    accepted: bool
    method: str
    ip: str | None
    user: str | None


def parse_spamcontrol(text: str) -> SpamcontrolAuth | None:
    """An ``Accept::AUTH`` or ``Reject::AUTH`` line; None for other actions and forms."""
    if text.startswith("Accept::AUTH::"):
        accepted, rest = True, text[14:]
    elif text.startswith("Reject::AUTH::"):
        accepted, rest = False, text[14:]
    else:
        return None
    method = rest.partition(" ")[0]
    ip = None
    at = rest.find(" S:")
    if at >= 0:
        value = rest[at + 3 :].partition(" ")[0]
        ip = normalise_ip(value.rpartition(":")[0] if ":" in value else value)
    user = None
    for marker in (" ?~ '", " ?= '"):
        found = rest.find(marker)
        if found >= 0:
            end = rest.rfind("'")
            if end > found + 4:
                user = rest[found + 5 : end] or None
            break
    return SpamcontrolAuth(accepted, method, ip, user)


class PleskAuth(NamedTuple):
    """Plesk ``smtp_auth``: ``SMTP user U : /path logged in from host [ip]`` or
    ``FAILED: U - password incorrect from host [ip]``."""

    success: bool
    user: str | None
    ip: str | None
    reason: str


_PLESK_OK = re.compile(r"SMTP user (\S+) ?: \S+ logged in from \S* \[([^\]\s]+)\]", re.ASCII)
_PLESK_FAIL = re.compile(r"FAILED: (\S+) - (.+?) +from \S* \[([^\]\s]+)\]", re.ASCII)


def parse_plesk(text: str) -> PleskAuth | None:
    """A Plesk ``smtp_auth`` login line (``smtp_auth: `` already removed), or None."""
    match = _PLESK_OK.match(text)
    if match is not None:
        return PleskAuth(True, match[1], normalise_ip(match[2]), "")
    match = _PLESK_FAIL.match(text)
    if match is not None:
        return PleskAuth(False, match[1], normalise_ip(match[3]), match[2])
    return None


class Spamdyke(NamedTuple):
    """``RESULT from: x to: y origin_ip: ip origin_rdns: r auth: user encryption: e ...``."""

    result: str
    """``ALLOWED``, ``DENIED_RDNS_MISSING``, ``TIMEOUT`` ..."""
    sender: str
    rcpt: str
    ip: str | None
    auth: str | None
    """None for spamdyke's ``(unknown)`` (no SMTP AUTH)."""


def _after(text: str, key: str) -> str:
    return value_after(text, key) or ""


def parse_spamdyke(text: str) -> Spamdyke | None:
    """A spamdyke filter result line, or None."""
    result, sep, rest = text.partition(" from: ")
    if not sep or " " in result or " origin_ip: " not in rest:
        return None
    rest = " from: " + rest
    auth = _after(rest, " auth: ")
    sender = _after(rest, " from: ")
    return Spamdyke(result, "" if sender == "(unknown)" else sender, _after(rest, " to: "),
                    normalise_ip(_after(rest, " origin_ip: ")),
                    None if auth in ("", "(unknown)") else auth)


class SendLine(NamedTuple):
    """A qmail-send line about one message or one delivery."""

    kind: str
    """``new``, ``info``, ``start``, ``result``, ``end``, ``noise``."""
    number: int
    """The message number (inode) or, for ``result``, the delivery number."""
    sender: str = ""
    uid: int | None = None
    where: str = ""
    """``local``/``remote`` for ``start``; ``success``/``deferral``/``failure`` for ``result``."""
    rcpt: str = ""
    delivery: int = 0
    """The delivery number of a ``start`` line."""


_INFO = re.compile(r"info msg (\d+): bytes \d+ from <([^>]*)> qp \d+ uid (\d+)", re.ASCII)
_START = re.compile(r"starting delivery (\d+): msg (\d+) to (local|remote) (\S*)", re.ASCII)
_RESULT = re.compile(r"delivery (\d+): (success|deferral|failure):", re.ASCII)
_SEND_NOISE = ("status: ", "bounce msg ", "triple bounce", "alert: ", "warning: ")


def parse_send(text: str) -> SendLine | None:
    """One qmail-send (``qmail-log(5)``) line, or None."""
    first = text[:1]
    if first == "n" and text.startswith("new msg "):
        number = text[8:].strip()
        return SendLine("new", int(number)) if number.isdigit() else None
    if first == "i":
        match = _INFO.match(text)
        if match is None:
            return None
        return SendLine("info", int(match[1]), sender=match[2], uid=int(match[3]))
    if first == "s" and text.startswith("starting delivery "):
        match = _START.match(text)
        if match is None:
            return None
        return SendLine("start", int(match[2]), where=match[3], rcpt=match[4],
                        delivery=int(match[1]))
    if first == "d":
        match = _RESULT.match(text)
        return None if match is None else SendLine("result", int(match[1]), where=match[2])
    if first == "e" and text.startswith("end msg "):
        number = text[8:].strip()
        return SendLine("end", int(number)) if number.isdigit() else None
    if text.startswith(_SEND_NOISE):
        return SendLine("noise", 0)
    return None


def vchkpw_login(record: LogRecord, text: str) -> LoginEvent | None:
    """A vpopmail login (daemon ``vpopmail``); a logged password becomes the event's secret and
    :data:`SECRET_MARK` in its line."""
    parsed = parse_vchkpw(text)
    if parsed is None:
        return None
    secret = line = None
    if parsed.password is not None:
        secret = Secret(parsed.password, SecretKind.CLEARTEXT)
        message = record.envelope.message.replace(
            f"(pass: '{parsed.password}')", f"(pass: '{SECRET_MARK}')", 1)
        line = evidence_line(record, message)
    if parsed.event == "login success":
        kind, reason = LoginKind.SUCCESS, ""
    elif parsed.event == "vpopmail user not found":
        kind, reason = LoginKind.UNKNOWN_USER, parsed.event
    else:
        kind, reason = LoginKind.FAILURE, parsed.event
    return login_event(record, "vpopmail", kind, parsed.user or None, parsed.ip, parsed.method,
                       service=parsed.service, reason=reason, secret=secret, line=line)


def plesk_login(record: LogRecord, text: str) -> LoginEvent | None:
    """A Plesk ``smtp_auth`` login (``smtp_auth: `` removed from ``text``)."""
    parsed = parse_plesk(text)
    if parsed is None:
        return None
    if parsed.success:
        kind = LoginKind.SUCCESS
    elif "not found" in parsed.reason or "no such user" in parsed.reason.lower():
        kind = LoginKind.UNKNOWN_USER
    else:
        kind = LoginKind.FAILURE
    return login_event(record, "qmail", kind, parsed.user, parsed.ip, None, reason=parsed.reason)


def spamcontrol_login(record: LogRecord, action: str) -> LoginEvent | None:
    """An ``Accept::AUTH``/``Reject::AUTH`` line (``action``: the text after ``pid N ``)."""
    auth = parse_spamcontrol(action)
    if auth is None:
        return None
    kind = LoginKind.SUCCESS if auth.accepted else LoginKind.FAILURE
    return login_event(record, "qmail", kind, auth.user, auth.ip, auth.method.upper() or None)
