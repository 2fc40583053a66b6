"""Courier's log lines: ESMTP AUTH failures, IMAP/POP3 logins, and the life of queued messages.

* ``courieresmtpd: error,relay=::ffff:IP[,port=N],msg="535 Authentication failed.",cmd: AUTH
  MECH [initial-response] [user]`` is a failed SMTP AUTH. courieresmtpd builds ``cmd`` as the
  mechanism, the first 20 characters of an initial response, then the user id it extracted from
  the exchange; the initial response (base64 that can hold password bytes) and a bare base64
  ``cmd`` (older versions logged the last client line, the password) are cut from the evidence.
* ``imapd|imapd-ssl|pop3d|pop3d-ssl|courierpop3login: LOGIN, user=U, ip=[IP]`` is a successful
  login, ``LOGIN FAILED, user=U|method=M, ip=[IP]`` a failed one; LOGOUT, TIMEOUT and
  connection lines are noise.
* ``courierd: newmsg,id=ID[, auth=USER]: dns; host (host [ip])`` opens a message (via AUTH with
  that user, else NETWORK from the ``dns;`` address, else QUEUED), ``courierd: started,id=ID,
  from=<s>,module=M,host=H,addr=<r>`` names the sender and a recipient, the delivery modules
  (``courieresmtp``, ``courierlocal`` ...) log ``id=ID,from=<s>,addr=<r>[,size=N],success:|
  deferred:|failure:|status: ...`` and ``courierd: completed,id=ID`` ends the message, which is
  then given out as one :class:`RelayedMessage`.

Courier logs no line for a successful SMTP AUTH other than ``newmsg ... auth=``, which is per
message, so no SUCCESS LoginEvent is made for SMTP; the message carries the user and address.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from authaudit.logs._openmsg import OpenMessage, OpenMessages
from authaudit.logs.interface import (
    DEFAULT_EXPIRE,
    NOTHING,
    SECRET_MARK,
    LogEvent,
    evidence_line,
    login_event,
    normalise_ip,
    program_leaf,
)
from authaudit.logs.merge import LogRecord
from authaudit.model import LoginKind, RelayVia, Skipped

__all__ = ["CourierParser"]

_MTA_PROGRAMS = frozenset({
    "courierd", "courieresmtpd", "courieresmtp", "courierlocal", "courierdsn", "courieruucp",
    "courierfax", "courierfilter", "courierpop3login", "courierpop3d", "courierimapd",
    "courierimaplogin", "couriertcpd", "couriertls",
})
_LOGIN_PROGRAMS = frozenset({"imapd", "imapd-ssl", "pop3d", "pop3d-ssl"})
"""Courier-IMAP's tags, shared with UW-IMAP and others: claimed only for Courier-looking text."""
_LOGIN_NOISE = (
    "LOGOUT, ", "DISCONNECTED, ", "TIMEOUT, ", "Connection, ", "Disconnected, ",
    "Maximum connection limit", "authentication error", "Unexpected SSL connection",
    "couriertls: ", "STARTTLS", "Connection closed", "Disconnected for inactivity",
    "Max OPEN", "Error: ", "error: ",
)
_COURIER_IMAP = (
    "LOGIN, ", "LOGIN FAILED, ", "LOGOUT, ", "DISCONNECTED, ", "TIMEOUT, ", "Connection, ip=[",
    "Disconnected, ip=[", "Maximum connection limit", "authentication error:",
    "Unexpected SSL connection shutdown", "couriertls: ",
)
"""How Courier-IMAP's lines start (UW-IMAP writes ``Login failed user=...``, Cyrus
``badlogin: ...``)."""
_COURIERD_NOISE = (
    "Waiting.", "Loading ", "Initializing ", "Started ", "SHUTDOWN", "Purged", "Purging",
    "Installing ", "Installed: ", "Restart", "Stopped", "restart",
)
_STATUS = {"success": "sent", "deferred": "deferred", "failure": "bounced"}
_AUTH_FAILED = 'msg="535 Authentication failed.",cmd: '


class CourierParser:
    """Turns Courier MTA and Courier-IMAP lines into login events and relayed messages.

    ``expire`` is the log time after which a message with no new line is given out as far as
    known (default :data:`DEFAULT_EXPIRE`); ``max_open`` caps the messages kept open at once
    (default 100,000; the least recently active is given out first).
    """

    name = "courier"

    def __init__(self, *, expire: timedelta = DEFAULT_EXPIRE, max_open: int = 100_000) -> None:
        self._messages = OpenMessages(self.name, expire, max_open)

    # -- LogParser protocol -------------------------------------------------------------------

    def claims(self, program: str | None, message: str) -> bool:
        """Courier's own tags, and imapd/pop3d tags whose first line reads like Courier-IMAP."""
        leaf = program_leaf(program)
        if leaf in _MTA_PROGRAMS:
            return True
        if leaf in _LOGIN_PROGRAMS:
            return "ip=[" in message or message.startswith(_COURIER_IMAP)
        return False

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        """The events one line completes; NOTHING for noise; None for a line not understood."""
        env = record.envelope
        leaf = program_leaf(env.program)
        message = env.message
        if leaf == "courierd":
            return self._courierd(record, message)
        if leaf == "courieresmtpd":
            return self._esmtpd(record, message)
        if message.startswith("id="):
            return self._delivery(record, leaf, message)
        if leaf in _LOGIN_PROGRAMS or leaf in ("courierpop3login", "courierpop3d",
                                               "courierimapd", "courierimaplogin"):
            return self._login(record, leaf, message)
        if leaf in _MTA_PROGRAMS:
            return NOTHING  # couriertcpd, couriertls, courierfilter status lines
        return None

    def flush(self) -> Sequence[LogEvent]:
        """Messages whose ``completed`` line was not seen, as far as known."""
        return self._messages.drain()

    def skipped(self) -> Sequence[Skipped]:
        """Messages given out early (no line for ``expire``, or too many open)."""
        return self._messages.skipped()

    # -- IMAP / POP3 ----------------------------------------------------------------------------

    def _login(self, record: LogRecord, leaf: str, message: str) -> Sequence[LogEvent] | None:
        if message.startswith("LOGIN FAILED, "):
            kind, start = LoginKind.FAILURE, 14
        elif message.startswith("LOGIN, "):
            kind, start = LoginKind.SUCCESS, 7
        elif message.startswith(_LOGIN_NOISE):
            return NOTHING
        else:
            return None
        ip_at = message.rfind(", ip=[")  # after the user, which the client chose
        if ip_at < start:
            if not message.startswith("ip=[", start):
                return None
            ip_at = start - 2
        user: str | None = None
        method: str | None = None
        method_at = message.rfind("method=", start, ip_at)
        if method_at >= 0 and (method_at == start or message.startswith(", ", method_at - 2)):
            method = message[method_at + 7 : ip_at] or None
        else:
            method_at = ip_at + 2
        if message.startswith("user=", start):
            user = message[start + 5 : method_at - 2] or None
        close = message.find("]", ip_at)
        ip = message[ip_at + 6 : close] if close > 0 else None
        service = "pop3" if "pop3" in leaf else "imap"
        protocol = message.find(", protocol=", ip_at)
        if protocol > 0:
            service = message[protocol + 11 :].split(",", 1)[0].lower() or service
        return (login_event(record, self.name, kind, user, normalise_ip(ip), method,
                            service=service,
                            reason="LOGIN FAILED" if kind is LoginKind.FAILURE else ""),)

    # -- ESMTP server -------------------------------------------------------------------------

    def _esmtpd(self, record: LogRecord, message: str) -> Sequence[LogEvent] | None:
        if not message.startswith("error,relay="):
            if message.startswith(("started,", "STARTTLS", "courieresmtpd: ")):
                return NOTHING
            return None
        at = message.find(_AUTH_FAILED)
        if at < 0:
            return NOTHING  # RCPT/MAIL rejects ("550 User unknown."), other protocol errors
        relay = message[12:].split(",", 1)[0]
        cmd_at = at + len(_AUTH_FAILED)
        method, user, cut = _auth_cmd(message[cmd_at:])
        return (login_event(record, self.name, LoginKind.FAILURE, user, normalise_ip(relay), method,
                            reason="535 Authentication failed.",
                            line=evidence_line(record, message[:cmd_at] + cut)),)

    # -- queue --------------------------------------------------------------------------------

    def _courierd(self, record: LogRecord, message: str) -> Sequence[LogEvent] | None:
        if not message.startswith(("newmsg,id=", "started,id=", "completed,id=")):
            if message[:1].isupper() or message.startswith(_COURIERD_NOISE):
                return NOTHING  # scheduler status: "Waiting.  shutdown time=...", start-up
            return None
        now = record.order
        out = self._messages.sweep(now)
        if message.startswith("newmsg,id="):
            head, sep, origin = message[10:].partition(": ")
            ident, _, auth = head.partition(", auth=")
            if not ident or "," in ident:
                return None
            opened = OpenMessage(source=record.source, lineno=record.lineno, time=record.time,
                                 queue_id=ident, last=now)
            if auth:
                opened.via, opened.user = RelayVia.AUTH, auth
            elif sep and origin.startswith("dns; "):
                opened.via = RelayVia.NETWORK
            if sep:
                opened.client_ip = _origin_ip(origin)
            opened.add_line(evidence_line(record))
            out.extend(self._messages.add((record.envelope.host, ident), opened))
            return out
        if message.startswith("started,id="):
            fields = _fields(message[8:])
            current = self._messages.get((record.envelope.host, fields.get("id", "")), now)
            if current is not None:
                current.sender = fields.get("from", current.sender)
                recipient = fields.get("addr")
                if recipient and recipient not in current.deliveries:
                    current.deliver(recipient, "accepted", record.time)
                current.add_line(evidence_line(record))
            return out
        ident = message[13:].split(",", 1)[0]  # completed,id=ID
        done = self._messages.pop((record.envelope.host, ident))
        if done is not None:
            done.add_line(evidence_line(record))
            out.append(done.event(self.name))
        return out

    def _delivery(self, record: LogRecord, leaf: str, message: str) -> Sequence[LogEvent] | None:
        """``id=ID,from=<s>,addr=<r>[,size=N],success: ...`` from a delivery module."""
        addr_at = message.find(",addr=<")
        if addr_at < 0:
            return None
        close = message.find(">", addr_at + 7)
        if close < 0:
            return None
        recipient = message[addr_at + 7 : close]
        ident = message[3:].split(",", 1)[0]
        rest = message[close + 1 :]
        if rest.startswith(",size="):
            rest = rest[6:].lstrip("0123456789")
        status: str | None = None
        relay = ""
        if rest.startswith(",status: "):
            status = _STATUS.get(rest[9:].strip().lower())
        elif rest.startswith(","):
            word, _, text = rest[1:].partition(": ")
            status = _STATUS.get(word)
            if word == "success" and text.startswith("delivered: "):
                relay = text[11:]
        elif rest.startswith(": "):
            status = None  # the remote server's reply, a transcript line
        else:
            return None
        current = self._messages.get((record.envelope.host, ident), record.order)
        if current is None or status is None:
            return NOTHING
        if recipient not in current.deliveries:
            recipient = _same_local_part(current.deliveries, recipient)
        previous = current.deliveries.get(recipient)
        if relay == "" and previous is not None:
            relay = previous[2]
        if relay == "" and leaf == "courierlocal":
            relay = "local"
        current.deliver(recipient, status, record.time, relay)
        current.add_line(evidence_line(record))
        return NOTHING


def _auth_cmd(cmd: str) -> tuple[str | None, str | None, str]:
    """Mechanism, user and the evidence text of courieresmtpd's ``cmd:`` field."""
    parts = cmd.split(" ")
    if len(parts) < 2 or parts[0].upper() != "AUTH":
        return None, None, SECRET_MARK if cmd else cmd  # a bare client line: maybe a password
    method = parts[1].upper() or None
    rest = parts[2:]
    if len(rest) >= 2:  # initial response (cut), then the user id courier extracted
        return method, " ".join(rest[1:]) or None, " ".join([*parts[:2], SECRET_MARK, *rest[1:]])
    if len(rest) == 1 and method != "PLAIN":
        return method, rest[0] or None, cmd
    if len(rest) == 1:  # PLAIN with an initial response that gave no user
        return method, None, " ".join([*parts[:2], SECRET_MARK])
    return method, None, cmd


def _origin_ip(origin: str) -> str | None:
    """The address in ``dns; host (host [ip])``."""
    close = origin.rfind("]")
    open_ = origin.rfind("[", 0, close)
    if open_ < 0 or close < 0:
        return None
    return normalise_ip(origin[open_ + 1 : close])


def _fields(text: str) -> dict[str, str]:
    """``id=ID,from=<s>,module=M,host=H,addr=<r>`` as a dict, without the angle brackets."""
    out: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if sep and key not in out:
            if value.startswith("<") and value.endswith(">"):
                value = value[1:-1]
            out[key] = value
    return out


def _same_local_part(known: Iterable[str], address: str) -> str:
    """The pending recipient ``address`` was written as by courierd (``alden`` for
    ``alden@host``), or ``address`` itself when there is none."""
    local = address.split("@", 1)[0]
    for recipient in known:
        if "@" not in recipient and recipient == local:
            return recipient
    return address
