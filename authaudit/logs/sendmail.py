"""sendmail's log lines: SMTP AUTH successes and failures, and who submitted which message.

* ``AUTH=server, relay=NAME [IP][ (may be forged)], authid=U, mech=M, bits=N`` (logged without a
  queue id by the smtpd child) is a successful AUTH. It is remembered under (host, pid) for
  ``session_ttl`` so that the child's next ``QID: from=<s>, size=, class=, nrcpts=N, msgid=,
  proto=, daemon=, relay=NAME [IP]`` line from the same address becomes a message via AUTH.
  A ``from=`` with ``proto=ESMTPA``/``ESMTPSA`` and no remembered AUTH is via AUTH with no user.
* ``QID: from=..., relay=user@localhost`` is a local submission (the ``sendmail`` command):
  via LOCAL with that user; the uid comes from ``ctladdr=user (uid/gid)`` on its ``to=`` lines.
* A message passed over SMTP to localhost (the submission program to the MTA, or the MTA to a
  content filter that re-injects it) comes back under a new queue id from ``relay=localhost
  [127.0.0.1]``. That copy keeps the first one's identity and address, and the two are given out
  as one message, when the copy's ``msgid=<YYYYMMDDhhmm.QID@host>`` names the first queue id or
  the first one's ``stat=Sent (... QID2 Message accepted for delivery)`` names the copy.
* ``QID: to=<a>,<b>, [ctladdr=..., ]delay=..., mailer=M, ..., relay=R, dsn=D, stat=S`` (maybe
  from another pid, a queue runner) sets the status of each listed recipient: dsn 2.x.x sent,
  4.x.x deferred, 5.x.x bounced (without dsn: ``Sent``, ``Deferred``, ``queued`` = accepted,
  anything else bounced; ``Cannot send message for N days`` = expired).
* ``[QID: ]AUTH failure (M): reason[, user=U], relay=...`` is a failed AUTH (``user not found``
  gives UNKNOWN_USER); ``possible SMTP attack: command=AUTH, count=N`` and rejects
  (``ruleset=check_rcpt ... Relaying denied``) are counted or ignored.

**When a message is given out.** sendmail logs no end-of-message line, so a message is given out
as soon as every one of its ``nrcpts`` recipients has a final status (sent, bounced, expired);
otherwise when it has had no line for ``expire`` of log time, when more than ``max_open`` are
open, or at the end of input. An envelope with ``nrcpts=0`` (every recipient refused) is not a
message. Delivery lines for a queue id whose ``from=`` was never seen are counted, not used.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from authaudit.logs._openmsg import OpenMessage, OpenMessages
from authaudit.logs.interface import (
    DEFAULT_EXPIRE,
    EVIDENCE_LINES,
    NOTHING,
    LogEvent,
    evidence_line,
    login_event,
    normalise_ip,
    program_leaf,
    value_after,
)
from authaudit.logs.merge import LogRecord
from authaudit.model import LoginKind, RelayVia, Skipped

__all__ = ["SendmailParser"]

_QID = re.compile(r"[0-9A-Za-z]{14,15}: ")
_NEXT_FIELD = re.compile(r", (?:ctladdr|delay|xdelay|mailer|pri|relay|dsn|stat|orcpt)=")
_ACCEPTED_AS = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{14,15}) Message accepted for delivery")
_MSGID_QID = re.compile(r"<\d{12,14}\.([0-9A-Za-z]{14,15})@")
_CTL_UID = re.compile(r"\((\d{1,10})/\d{1,10}\)")
_LOCAL_RELAYS = ("127.0.0.1", "[::1]", "IPv6:::1", "localhost")
_NOISE = (
    # rejects, TLS and milter chatter, client-side AUTH to a smarthost
    "ruleset=", "STARTTLS=", "AUTH=client", "Milter", "milter", "tls_", "TLS ",
    # daemon and queue-runner status
    "starting daemon", "alias database", "/etc/mail/", "/etc/aliases", "NOQUEUE: ", "SYSERR",
    "runqueue", "grew WorkList", "accepting connections", "rejecting connections", "restarting",
    "Authentication-Warning", "Warning: ", "warning: ", "skipping", "SMTP outgoing connect",
    "makeconnection",
    # per-message events that change no recipient's status
    "collect: ", "timeout waiting", "DSN: ", "return to sender", "sender notify",
    "postmaster notify", "done", "clone", "discarded", "Losing ", "savemail",
    "lost input channel", "rejecting commands from", "headers too large", "forward ", "--- ",
)
_NOISE_INSIDE = (
    "did not issue MAIL/EXPN/VRFY/ETRN", "[rejected]", "... ",  # "<a>... User unknown"
    "lost input channel", "timeout waiting", "rejecting commands", "Too many",
)


@dataclass(frozen=True, slots=True)
class _Session:
    """A successful AUTH in one smtpd child, waiting for the child's messages."""

    user: str
    ip: str | None
    time: datetime


class SendmailParser:
    """Turns sendmail (sm-mta, sendmail, sm-msp-queue) lines into login events and messages.

    ``expire`` (default :data:`DEFAULT_EXPIRE`) and ``max_open`` (default 100,000) bound the open
    messages; ``session_ttl`` (default one hour) is how long an ``AUTH=server`` line may be joined
    to later ``from=`` lines of the same (host, pid), and ``max_sessions`` (default 10,000) caps
    those. :attr:`counters` counts recognised lines that make no event: ``auth_attack_warnings``
    (``possible SMTP attack: command=AUTH``), ``attack_warnings`` (other commands),
    ``refused_envelopes`` (``nrcpts=0``), ``orphan_deliveries`` (no ``from=`` seen),
    ``handed_over`` (recipients passed to the local MTA and reported under its queue id).
    """

    name = "sendmail"

    def __init__(
        self, *, expire: timedelta = DEFAULT_EXPIRE, max_open: int = 100_000,
        session_ttl: timedelta = timedelta(hours=1), max_sessions: int = 10_000,
    ) -> None:
        self._messages = OpenMessages(self.name, expire, max_open)
        self._sessions: OrderedDict[tuple[str | None, int | None], _Session] = OrderedDict()
        self._session_ttl = session_ttl
        self._max_sessions = max(1, max_sessions)
        self._inherited: OrderedDict[tuple[str | None, str], None] = OrderedDict()
        self.counters: Counter[str] = Counter()

    # -- LogParser protocol -------------------------------------------------------------------

    def claims(self, program: str | None, message: str) -> bool:
        """``sm-mta``, ``sendmail``, ``sm-msp-queue``, ``sm-acceptingconnections`` and the like."""
        leaf = program_leaf(program)
        if leaf == "sm-notify":  # NFS statd, not sendmail
            return False
        return leaf in ("sendmail", "sm-mta") or leaf.startswith(("sm-", "sendmail-"))

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        """The events one line completes; NOTHING for noise; None for a line not understood."""
        message = record.envelope.message
        match = _QID.match(message)
        if match is None:
            if message.startswith("AUTH=server, "):
                return self._auth_success(record, message)
            if message.startswith("AUTH failure ("):
                return self._auth_failure(record, message, 0)
            return self._other(message)
        qid = message[: match.end() - 2]
        body = message[match.end() :]
        if body.startswith("from="):
            return self._envelope(record, qid, body)
        if body.startswith("to="):
            return self._delivery(record, qid, body)
        if body.startswith("AUTH failure ("):
            return self._auth_failure(record, message, match.end())
        if body.startswith("AUTH=server, "):
            return self._auth_success(record, body)
        if _QID.match(body) is not None:  # "QID: QID2: DSN: ...", "return to sender: ..."
            return NOTHING
        return self._other(body)

    def flush(self) -> Sequence[LogEvent]:
        """Messages still open, as far as they are known."""
        return self._messages.drain()

    def skipped(self) -> Sequence[Skipped]:
        """Messages given out early (no line for ``expire``, or too many open)."""
        return self._messages.skipped()

    def _other(self, body: str) -> Sequence[LogEvent] | None:
        """Attack warnings (counted), rejects and status chatter (NOTHING), or None."""
        if "possible SMTP attack: command=" in body:
            key = "auth_attack_warnings" if "command=AUTH," in body else "attack_warnings"
            self.counters[key] += 1
            return NOTHING
        if body.startswith(_NOISE):
            return NOTHING
        if any(marker in body for marker in _NOISE_INSIDE):
            return NOTHING
        return None

    # -- AUTH ---------------------------------------------------------------------------------

    def _auth_success(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        """``AUTH=server, relay=NAME [IP], authid=U, mech=M, bits=N``."""
        at = text.find(", authid=")
        mech_at = text.rfind(", mech=")
        if at < 0 or mech_at < at:
            return None
        relay = text[19:at] if text.startswith("relay=", 13) else ""
        user = text[at + 9 : mech_at]
        method = text[mech_at + 7 :].split(",", 1)[0].upper() or None
        ip = _relay_ip(relay)
        env = record.envelope
        key = (env.host, env.pid)
        now = record.order
        self._sessions.pop(key, None)
        self._sessions[key] = _Session(user, ip, now)
        limit = now - self._session_ttl
        while self._sessions:
            oldest_key, oldest = next(iter(self._sessions.items()))
            if oldest.time >= limit and len(self._sessions) <= self._max_sessions:
                break
            del self._sessions[oldest_key]
        return (login_event(record, self.name, LoginKind.SUCCESS, user or None, ip, method),)

    def _auth_failure(self, record: LogRecord, message: str, start: int) -> Sequence[LogEvent]:
        """``AUTH failure (M): reason[, user=U], relay=R``; the client chose U, so the real relay
        is the last one and the reason ends at the first ``, user=``."""
        close = message.find("): ", start)
        if close < 0:
            return NOTHING
        method = message[start + 14 : close].upper() or None
        rest = message[close + 3 :]
        relay_at = rest.rfind(", relay=")
        relay = rest[relay_at + 8 :] if relay_at >= 0 else ""
        head = rest[:relay_at] if relay_at >= 0 else rest
        user_at = head.find(", user=")
        user = head[user_at + 7 :] if user_at >= 0 else None
        reason = head[:user_at] if user_at >= 0 else head
        kind = LoginKind.UNKNOWN_USER if reason.startswith("user not found") else LoginKind.FAILURE
        return (login_event(record, self.name, kind, user or None, _relay_ip(relay), method,
                            reason=reason[:200]),)

    # -- messages -----------------------------------------------------------------------------

    def _envelope(self, record: LogRecord, qid: str, body: str) -> Sequence[LogEvent] | None:
        """``from=<s>, size=N, class=C, nrcpts=N, msgid=<m>, proto=P, daemon=D, relay=R``."""
        size_at = body.find(", size=")
        nrcpts_at = body.find(", nrcpts=", size_at)
        if size_at < 0 or nrcpts_at < 0:
            return None
        digits = body[nrcpts_at + 9 : nrcpts_at + 20].split(",", 1)[0]
        if not digits.isdigit():
            return None
        now = record.order
        out = self._messages.sweep(now)
        if int(digits) == 0:
            self.counters["refused_envelopes"] += 1
            return out
        env = record.envelope
        relay_at = body.rfind(", relay=")
        relay = body[relay_at + 8 :] if relay_at > nrcpts_at else ""
        end = relay_at if relay_at > nrcpts_at else len(body)
        proto_at = body.rfind(", proto=", nrcpts_at, end)
        proto = body[proto_at + 8 : end].split(",", 1)[0] if proto_at >= 0 else ""
        opened = OpenMessage(source=record.source, lineno=record.lineno, time=record.time,
                             queue_id=qid, last=now, sender=_strip_angles(body[5:size_at]),
                             expected=int(digits))
        opened.client_ip = _relay_ip(relay)
        session = self._sessions.get((env.host, env.pid))
        if (session is not None and session.ip == opened.client_ip
                and now - session.time <= self._session_ttl):
            opened.via, opened.user = RelayVia.AUTH, session.user
        elif proto in ("ESMTPA", "ESMTPSA"):
            opened.via = RelayVia.AUTH
        elif relay.endswith("@localhost") and "[" not in relay:
            opened.via, opened.user = RelayVia.LOCAL, relay[:-10] or None
        elif opened.client_ip is not None:
            opened.via = RelayVia.NETWORK
        opened.add_line(evidence_line(record))
        if opened.via is RelayVia.NETWORK and opened.client_ip in ("127.0.0.1", "::1"):
            msgid = _MSGID_QID.search(body, nrcpts_at, end)
            if msgid is not None:
                origin = self._messages.get((env.host, msgid[1]), now)
                if origin is not None:
                    self._inherit(opened, origin)
                    self._remember_inherited((env.host, qid))
        out.extend(self._messages.add((env.host, qid), opened))
        return out

    def _delivery(self, record: LogRecord, qid: str, body: str) -> Sequence[LogEvent] | None:
        """``to=<a>,<b>, [ctladdr=..., ]delay=..., mailer=M, ..., relay=R, dsn=D, stat=S``."""
        field = _NEXT_FIELD.search(body, 3)
        stat_at = body.find(", stat=")
        if field is None or stat_at < field.start():
            return None
        recipients = _split_addresses(body[3 : field.start()])
        stat = body[stat_at + 7 :]
        head = body[field.start() : stat_at]
        dsn = _field(head, ", dsn=")
        relay = _field(head, ", relay=")
        now = record.order
        out = self._messages.sweep(now)
        env = record.envelope
        current = self._messages.get((env.host, qid), now)
        if current is None:
            self.counters["orphan_deliveries"] += 1
            return out
        if current.via is RelayVia.LOCAL and current.uid is None:
            ctl = _field(head, ", ctladdr=")
            uid = _CTL_UID.search(ctl)
            if uid is not None:
                current.uid = int(uid[1])
        current.add_line(evidence_line(record))
        status = _status(dsn, stat)
        # "Sent (QID2 Message accepted for delivery)", also behind a content filter's reply
        accepted = _ACCEPTED_AS.search(stat) if status == "sent" else None
        if accepted is not None and any(local in relay for local in _LOCAL_RELAYS):
            if self._hand_over(current, (env.host, accepted[1]), now):
                current.merged += len(recipients)
                self.counters["handed_over"] += len(recipients)
                recipients = []
        for recipient in recipients:
            current.deliver(recipient, status, record.time, relay)
        if current.finished():
            self._messages.pop((env.host, qid))
            if current.deliveries:
                out.append(current.event(self.name))
        return out

    def _hand_over(
        self, origin: OpenMessage, key: tuple[str | None, str], now: datetime
    ) -> bool:
        """Whether the MTA copy ``key`` of a locally relayed message reports its recipients."""
        target = self._messages.get(key, now)
        if target is not None:
            if key not in self._inherited:
                self._inherit(target, origin)
                self._remember_inherited(key)
            elif origin.uid is not None and target.uid is None:
                target.uid = origin.uid
            return True
        return key in self._inherited

    def _inherit(self, target: OpenMessage, origin: OpenMessage) -> None:
        """Give the MTA copy ``target`` the identity and first line of the submission."""
        target.via, target.user, target.uid = origin.via, origin.user, origin.uid
        target.client_ip = origin.client_ip  # not 127.0.0.1: the submitter's, or None if local
        target.source, target.lineno, target.time = origin.source, origin.lineno, origin.time
        if origin.lines:
            target.lines = [origin.lines[0], *target.lines][:EVIDENCE_LINES]

    def _remember_inherited(self, key: tuple[str | None, str]) -> None:
        self._inherited[key] = None
        if len(self._inherited) > 10_000:
            self._inherited.popitem(last=False)


def _relay_ip(relay: str) -> str | None:
    """The address of ``NAME [IP][ (may be forged)]`` or ``[IP]``."""
    close = relay.rfind("]")
    open_ = relay.rfind("[", 0, close)
    if close < 0 or open_ < 0:
        return None
    return normalise_ip(relay[open_ : close + 1])


def _strip_angles(address: str) -> str:
    address = address.strip()
    if address.startswith("<") and address.endswith(">"):
        return address[1:-1]
    return address


def _split_addresses(text: str) -> list[str]:
    """``<a>,<b>,"x, y" <c>`` → ``a``, ``b``, ``"x, y" <c>``: commas outside quotes and <>."""
    if '"' not in text:  # the usual case: no comma can hide inside an address
        return [address for address in map(_strip_angles, text.split(",")) if address]
    out: list[str] = []
    depth = 0
    quoted = False
    start = 0
    for pos, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "<":
            depth += 1
        elif char == ">":
            depth = max(0, depth - 1)
        elif char == "," and depth == 0:
            out.append(_strip_angles(text[start:pos]))
            start = pos + 1
    out.append(_strip_angles(text[start:]))
    return [address for address in out if address]


def _field(text: str, key: str) -> str:
    """The value after ``key`` in ``text`` up to the next ``, `` ('' when there is none)."""
    return value_after(text, key, ", ") or ""


def _status(dsn: str, stat: str) -> str:
    """A delivery line's status in the report's words."""
    if "Cannot send message for" in stat:
        return "expired"
    first = dsn[:1]
    if first == "2":
        return "sent"
    if first == "4":
        return "deferred"
    if first == "5":
        return "bounced"
    if stat.startswith("Sent"):
        return "sent"
    if stat.startswith("Deferred"):
        return "deferred"
    if stat.startswith("queued"):
        return "accepted"
    return "bounced"

