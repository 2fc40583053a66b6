"""The qmail family (netqmail, toasters, Plesk, s/qmail) and vpopmail as logins and messages.

Lines come through syslog (``qmail``, ``qmail-smtpd``, ``qmail-send``, ``vpopmail``,
``tcpserver``, ``smtp_auth``, ``spamdyke``, ``rblsmtpd``, ``simscan``), through splogger
(``qmail: 1276913544.622856 <text>``, the stamp is dropped) or from multilog files (``@4000...``,
no program: claimed by content).

Logins: vpopmail ``vchkpw-SVC:`` lines (daemon ``vpopmail``; a logged ``(pass: '...')`` is kept
as a :class:`Secret` and cut from the line), spamcontrol/s/qmail ``Accept::AUTH`` /
``Reject::AUTH`` and Plesk ``smtp_auth`` (daemon ``qmail``). CHKUSER lines are not logins.

Messages:

* qmail-send: one :class:`RelayedMessage` per queued message (``queue_id`` ``msg N``, via
  QUEUED with the ``uid`` and sender of ``info msg``), given out at ``end msg N``. Deliveries get
  their last result (success → sent, deferral → deferred, failure → bounced; relay ``local`` or
  ``remote``). ``N`` is an inode number that qmail reuses at once, so the state of ``msg N`` is
  dropped at ``end msg N``, and a ``new msg N`` while ``N`` is still open gives the old one out.
* CHKUSER (``relaying rcpt``, and ``accepted rcpt`` with an auth user) and spamdyke ``ALLOWED``
  with ``auth:``: these lines have no queue id, so the recipients of one SMTP session are grouped
  into one message keyed by (pid when the line has one, auth user, client address, sender). A
  group is closed when its key has been idle for ``session_idle`` (60 s) of log time, when a line
  with the same pid, user and address names a different sender, and at flush. Each recipient is
  a delivery with status ``accepted``; ``queue_id`` is a synthetic ``chkuser-<n>`` /
  ``spamdyke-<n>``; via AUTH with the user, or NETWORK when the auth field is empty (relaying
  allowed by IP: RELAYCLIENT or POP-before-SMTP). Two messages with the same sender in one
  session within 60 s become one group. qmail-send's outcomes for the same envelope are paired
  with these recipients later, by :mod:`authaudit.correlate.queue_join`.

Rejections (CHKUSER ``rejected ...``, ``must auth``, spamdyke ``DENIED_*``, RBL), tcpserver,
rblsmtpd and simscan lines give nothing and are counted in :attr:`QmailParser.counters`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from authaudit.logs.interface import (
    DEFAULT_EXPIRE,
    EVIDENCE_LINES,
    NOTHING,
    LogEvent,
    evidence_line,
    program_leaf,
)
from authaudit.logs.merge import LogRecord
from authaudit.logs.qmail_lines import (
    SendLine,
    parse_chkuser,
    parse_send,
    parse_spamdyke,
    plesk_login,
    spamcontrol_login,
    strip_splogger,
    vchkpw_login,
)
from authaudit.model import Delivery, LoginEvent, RelayedMessage, RelayVia, Skipped

__all__ = ["QmailParser"]

_PROGRAMS = frozenset({
    "qmail", "qmail-smtpd", "qmail-send", "qmail-remote", "qmail-local", "qmail-queue",
    "splogger", "vpopmail", "vchkpw", "tcpserver", "smtp_auth", "spamdyke", "rblsmtpd", "simscan",
})
_CONTENT = (
    "CHKUSER ", "new msg ", "info msg ", "starting delivery ", "delivery ", "end msg ",
    "bounce msg ", "status: local ", "triple bounce", "qmail-smtpd: ", "tcpserver: ",
    "rblsmtpd: ", "simscan:", "vchkpw-", "smtp_auth: ", "policy_check",
)
_TCPSERVER = ("status: ", "pid ", "ok ", "end ", "deny ", "warning: ")
_RESULT = {"success": "sent", "deferral": "deferred", "failure": "bounced"}
_NO_NEW_MSG = "delivery of a msg whose new msg is not in the log"
_EXPIRE_EVERY = timedelta(minutes=1)
"""How often (in log time) queued messages are checked for expiry."""
_MAX_DELIVERIES = 65_536

Key = tuple[str, int | None, str, str | None]
Handler = Callable[[LogRecord, str], Sequence[LogEvent] | None]


class _Group:
    """Recipients of one SMTP session (CHKUSER or spamdyke lines), or one qmail-send message."""

    __slots__ = ("client_ip", "last", "lines", "origin", "recipients", "record", "sender", "uid",
                 "user", "via")

    def __init__(self, record: LogRecord, origin: str, via: RelayVia, user: str | None,
                 client_ip: str | None, sender: str) -> None:
        self.record = record
        self.origin = origin
        """``chkuser``, ``spamdyke`` or ``msg`` (qmail-send)."""
        self.last = record.order
        self.via = via
        self.user = user
        self.client_ip = client_ip
        self.sender = sender
        self.uid: int | None = None
        self.lines = [evidence_line(record)]
        self.recipients: dict[tuple[str, str], Delivery] = {}

    def note(self, record: LogRecord) -> None:
        self.last = record.order
        if len(self.lines) < EVIDENCE_LINES and record is not self.record:
            self.lines.append(evidence_line(record))

    def event(self, queue_id: str) -> RelayedMessage:
        record = self.record
        return RelayedMessage(
            source=record.source, lineno=record.lineno, time=record.time, daemon="qmail",
            queue_id=queue_id, via=self.via, user=self.user, uid=self.uid,
            client_ip=self.client_ip, sender=self.sender,
            deliveries=tuple(self.recipients.values()), lines=tuple(self.lines),
        )


class QmailParser:
    """qmail, vpopmail and their companions' lines into logins and messages.

    ``expire``: log time after which a queued message without ``end msg`` is given out (default
    :data:`DEFAULT_EXPIRE`); ``session_idle``: idle time that closes a CHKUSER/spamdyke session
    group (default 60 s); ``max_open``: most messages and most session groups kept open at once
    (default 100,000 each).
    """

    name = "qmail"

    def __init__(self, *, expire: timedelta = DEFAULT_EXPIRE,
                 session_idle: timedelta = timedelta(seconds=60), max_open: int = 100_000) -> None:
        self.expire = expire
        self.session_idle = session_idle
        self.max_open = max(1, max_open)
        self.counters: Counter[str] = Counter()
        """What recognised lines were, by kind (``chkuser rejected relaying``, ``rbl`` ...)."""
        self._messages: dict[int, _Group] = {}
        self._deliveries: dict[int, tuple[_Group, tuple[str, str]] | None] = {}
        self._sessions: dict[Key, _Group] = {}
        self._serial = 0
        self._pending: list[LogEvent] = []
        self._now: datetime | None = None
        self._next_expiry: datetime | None = None
        self._routes: dict[str | None, tuple[Handler, bool]] = {}
        self._lost: Counter[tuple[str, str]] = Counter()

    # -- protocol ----------------------------------------------------------------------------

    def claims(self, program: str | None, message: str) -> bool:
        """qmail's, vpopmail's and their filters' tags; untagged lines by their content."""
        if program is None:
            return message.startswith(_CONTENT)
        leaf = program_leaf(program)
        if leaf in _PROGRAMS or leaf.startswith(("qmail-", "vchkpw-")):
            return True
        # qmail-send's "status: local 1/10 remote 0/20" under a syslog tag "status" (multilog's
        # "@4000... status: ..." lines get no program at all: syslog.py's _NOT_PROGRAMS)
        return leaf == "status" and message.startswith("local ") and " remote " in message

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        """The events this line completes; None when it is not a line we know."""
        env = record.envelope
        text = env.message
        try:
            handler, splogger = self._routes[env.program]
        except KeyError:
            handler, splogger = self._routes[env.program] = self._route(env.program)
        if splogger and text[:1].isdigit():
            text = strip_splogger(text)
        result = handler(record, text)
        if result is None:
            return None
        if record.order != self._now:
            self._housekeeping(record.order)
        if not self._pending:
            return result
        events = [*self._pending, *result]
        self._pending = []
        return events

    def flush(self) -> Sequence[LogEvent]:
        """Open session groups and queued messages without ``end msg``, as far as known."""
        events = self._pending
        self._pending = []
        for group in self._sessions.values():
            events.append(self._group_event(group))
        self._sessions.clear()
        for number, message in self._messages.items():
            self.counters["open-at-end"] += 1
            events.append(message.event(f"msg {number}"))
        self._messages.clear()
        self._deliveries.clear()
        return events

    def skipped(self) -> Sequence[Skipped]:
        """State given out early or lines whose message was not in the logs, counted."""
        return [Skipped(source=source, where="qmail messages", reason=reason, count=count)
                for (source, reason), count in sorted(self._lost.items())]

    # -- dispatch ----------------------------------------------------------------------------

    def _route(self, program: str | None) -> tuple[Handler, bool]:
        """The handler for lines of ``program`` and whether they may carry a splogger stamp."""
        leaf = program_leaf(program)
        splogger = leaf in ("qmail", "qmail-send", "qmail-smtpd", "splogger")
        if leaf.startswith("vchkpw-"):
            return (lambda record, text: self._vchkpw(record, f"{leaf}: {text}")), False
        routes: dict[str, Handler] = {
            "vpopmail": self._vchkpw, "vchkpw": self._vchkpw, "smtp_auth": self._plesk,
            "spamdyke": self._spamdyke, "qmail-smtpd": self._smtpd,
            "tcpserver": lambda _, text: self._noise("tcpserver", text.startswith(_TCPSERVER)),
            "rblsmtpd": lambda _, text: self._noise("rbl", " pid " in text or " blocked " in text),
            "simscan": lambda _, text: self._noise("simscan", True),
            "status": lambda _, text: self._noise("status", text.startswith("local ")),
        }
        return routes.get(leaf, self._by_content), splogger

    def _by_content(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        line = parse_send(text)  # most untagged and "qmail" lines are qmail-send's
        if line is not None:
            return self._send(record, line)
        if text.startswith("CHKUSER "):
            return self._chkuser(record, text)
        if text.startswith("qmail-smtpd: "):
            return self._smtpd(record, text[13:])
        if text.startswith("tcpserver: "):
            return self._noise("tcpserver", text[11:].startswith(_TCPSERVER))
        if text.startswith(("rblsmtpd: ", "policy_check")):
            return self._noise("rbl", True)
        if text.startswith("simscan:"):
            return self._noise("simscan", True)
        if text.startswith("vchkpw-"):
            return self._vchkpw(record, text)
        if text.startswith("smtp_auth: "):
            return self._plesk(record, text)
        return None

    def _noise(self, kind: str, known: bool) -> Sequence[LogEvent] | None:
        if not known:
            return None
        self.counters[kind] += 1
        return NOTHING

    def _smtpd(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        if text.startswith("CHKUSER "):
            return self._chkuser(record, text)
        if text.startswith("pid "):  # spamcontrol / s/qmail "pid N Action::Type::..."
            action = text[4:].partition(" ")[2]
            event = spamcontrol_login(record, action)
            if event is None:
                return self._noise("spamcontrol", "::" in action)
            return self._counted(event)
        return self._noise("smtpd-reject", text[:3].isdigit())

    # -- logins ---------------------------------------------------------------------------------

    def _counted(self, event: LoginEvent | None) -> Sequence[LogEvent] | None:
        if event is None:
            return None
        self.counters[f"login {event.kind}"] += 1
        return (event,)

    def _vchkpw(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        return self._counted(vchkpw_login(record, text))

    def _plesk(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        text = text.removeprefix("smtp_auth: ")
        event = plesk_login(record, text)
        if event is None:
            return self._noise("smtp_auth", text.startswith("SMTP connect from "))
        return self._counted(event)

    # -- session groups (CHKUSER, spamdyke) ---------------------------------------------------

    def _chkuser(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        parsed = parse_chkuser(text)
        if parsed is None:
            return None
        brief = parsed.brief
        relaying = brief.startswith("relaying")
        accepted = brief.startswith("accepted") and brief.endswith("rcpt")
        if not relaying and not (accepted and parsed.auth):
            self.counters[f"chkuser {brief}"] += 1
            return NOTHING
        self.counters["chkuser relaying" if relaying else "chkuser accepted-auth"] += 1
        return self._session(record, "chkuser", parsed.auth, parsed.ip, parsed.sender,
                             parsed.rcpt)

    def _spamdyke(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        parsed = parse_spamdyke(text)
        if parsed is None:
            return self._noise("spamdyke", text.startswith(("ERROR", "FILTER", "DEBUG", "CONFIG")))
        if not parsed.result.startswith("ALLOWED") or parsed.auth is None:
            self.counters[f"spamdyke {parsed.result.partition('_')[0].lower()}"] += 1
            return NOTHING
        self.counters["spamdyke allowed-auth"] += 1
        return self._session(record, "spamdyke", parsed.auth, parsed.ip, parsed.sender,
                             parsed.rcpt)

    def _session(self, record: LogRecord, origin: str, auth: str, ip: str | None, sender: str,
                 rcpt: str) -> Sequence[LogEvent]:
        key: Key = (origin, record.envelope.pid, auth, ip)
        events: list[LogEvent] = []
        group = self._sessions.pop(key, None)
        if group is not None and (group.sender != sender
                                  or record.order - group.last > self.session_idle):
            events.append(self._group_event(group))
            group = None
        if group is None:
            if len(self._sessions) >= self.max_open:
                oldest = next(iter(self._sessions))
                events.append(self._group_event(self._sessions.pop(oldest)))
                self._lost[(record.source, f"more than {self.max_open} SMTP sessions open")] += 1
            via = RelayVia.AUTH if auth else RelayVia.NETWORK
            group = _Group(record, origin, via, auth or None, ip, sender)
        group.note(record)
        if rcpt:
            group.recipients.setdefault(("", rcpt.lower()), Delivery(
                recipient=rcpt, status="accepted", time=record.time))
        self._sessions[key] = group
        return tuple(events)

    def _group_event(self, group: _Group) -> RelayedMessage:
        self._serial += 1
        return group.event(f"{group.origin}-{self._serial}")

    # -- qmail-send --------------------------------------------------------------------------

    def _send(self, record: LogRecord, line: SendLine) -> Sequence[LogEvent]:
        kind = line.kind
        if kind == "noise":
            self.counters["qmail-send"] += 1
            return NOTHING
        events: list[LogEvent] = []
        if kind == "new":
            old = self._messages.pop(line.number, None)
            if old is not None:
                self._lost[(record.source, "msg number reused before end msg")] += 1
                events.append(old.event(f"msg {line.number}"))
            self._open_message(record, line.number, events)
        elif kind == "info":
            message = self._messages.get(line.number)
            if message is None:
                message = self._open_message(record, line.number, events)
            message.sender, message.uid = line.sender, line.uid
            message.note(record)
        elif kind == "start":
            message = self._messages.get(line.number)
            if len(self._deliveries) >= _MAX_DELIVERIES:
                del self._deliveries[next(iter(self._deliveries))]
            self._deliveries.pop(line.delivery, None)
            if message is None:
                self._deliveries[line.delivery] = None
                self._lost[(record.source, _NO_NEW_MSG)] += 1
                return NOTHING
            key = (line.where, line.rcpt.lower())
            message.recipients.setdefault(key, Delivery(
                recipient=line.rcpt, status="accepted", time=record.time, relay=line.where))
            self._deliveries[line.delivery] = (message, key)
            message.note(record)
        elif kind == "result":
            entry = self._deliveries.pop(line.number, None)
            if entry is not None:
                message, key = entry
                known = message.recipients[key]
                message.recipients[key] = Delivery(recipient=known.recipient,
                                                   status=_RESULT[line.where], time=record.time,
                                                   relay=known.relay)
                message.note(record)
            elif line.number not in self._deliveries:
                self.counters["delivery-result-unknown"] += 1
        else:  # end
            message = self._messages.pop(line.number, None)
            if message is not None:
                message.note(record)
                events.append(message.event(f"msg {line.number}"))
        return tuple(events)

    def _open_message(self, record: LogRecord, number: int, events: list[LogEvent]) -> _Group:
        if len(self._messages) >= self.max_open:
            oldest = next(iter(self._messages))
            events.append(self._messages.pop(oldest).event(f"msg {oldest}"))
            self._lost[(record.source, f"more than {self.max_open} queued messages open")] += 1
        message = _Group(record, "msg", RelayVia.QUEUED, None, None, "")
        self._messages[number] = message
        return message

    # -- bounds ------------------------------------------------------------------------------

    def _housekeeping(self, now: datetime) -> None:
        """Close idle session groups and expire old queued messages (when log time moved)."""
        self._now = now
        sessions = self._sessions
        while sessions:
            key = next(iter(sessions))
            group = sessions[key]
            if now - group.last <= self.session_idle:
                break
            del sessions[key]
            self._pending.append(self._group_event(group))
        if self._next_expiry is not None and now < self._next_expiry:
            return
        self._next_expiry = now + _EXPIRE_EVERY
        limit = now - self.expire
        while self._messages:
            number = next(iter(self._messages))
            message = self._messages[number]
            if message.record.order >= limit:
                break
            del self._messages[number]
            self._lost[(message.record.source,
                        f"msg open longer than {self.expire} without end msg")] += 1
            self._pending.append(message.event(f"msg {number}"))
