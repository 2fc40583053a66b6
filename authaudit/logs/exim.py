"""Exim's main log (native file, syslog or journal) as logins and relayed messages.

* ``<id> <= sender ... A=authenticator:id ...``: a message arrived after SMTP AUTH. It gives a
  :class:`LoginEvent` (success, method = the authenticator's name, user = the id) and opens the
  message with ``via`` AUTH. Only on ``<=`` lines is ``A=`` the sender's identity: on ``=>`` lines
  it is Exim's own client-side login to a smarthost and is ignored. ``P=local`` (or no ``H=``)
  opens it via LOCAL with ``U=`` as the user; anything else via NETWORK.
* ``=> -> >> *>`` (sent), ``**`` (bounced), ``==`` (deferred) set a recipient's status; the
  last line for a recipient wins. ``Completed`` gives the message out.
* ``<name> authenticator failed for ... [ip]:port ...: 535 ... (set_id=user)`` is a failed login
  (user = ``set_id``). 4xx replies (the authenticator could not check) and ``501`` (client
  cancelled) are recognised and only counted in :attr:`EximParser.counters`.
* Rejections, protocol errors, connection and TLS chatter, queue runs, ``Frozen``, ``cwd=``
  lines and the like are recognised and give nothing; anything else is not understood (None).

Open messages are bounded: given out as they are after ``expire`` of log time without
``Completed``, and the oldest are given out when more than ``max_open`` are open; both are
counted in :meth:`EximParser.skipped`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from authaudit.logs.exim_fields import (
    AUTH_FAILED,
    Arrival,
    message_id_end,
    parse_arrival,
    parse_auth_failure,
    parse_delivery,
)
from authaudit.logs.interface import (
    DEFAULT_EXPIRE,
    EVIDENCE_LINES,
    NOTHING,
    LogEvent,
    evidence_line,
    login_event,
    normalise_ip,
    program_leaf,
)
from authaudit.logs.merge import LogRecord
from authaudit.model import (
    Delivery,
    LoginKind,
    RelayedMessage,
    RelayVia,
    Skipped,
)

__all__ = ["EximParser"]

_PROGRAMS = frozenset({"exim", "exim4", "exim3"})
_STATUS = {"=>": "sent", "->": "sent", ">>": "sent", "*>": "sent", "**": "bounced",
           "==": "deferred"}
_NO_ARRIVAL = "delivery of a message whose arrival is not in the log"
_EXPIRE_EVERY = 256

# Lines without a message id that carry nothing for the audit.
_NOISE = (
    "H=", "F=", "SMTP ", "no MAIL in SMTP", "no host name found", "no IP address found",
    "Start queue run", "End queue run", "exim ", "TLS error", "cwd=", "Connection ",
    "connection ", "unexpected disconnection", "ignoring AUTH=", "acl_", "Warning:", "DKIM",
    "rejected ", "refused ", "daemon ", "Spool file", "sender verify", "LOG:", "spam",
    "temporarily rejected", "Sender identification", "ratelimit", "host name alias",
    "Received from", "SIGHUP", "Failed to get user name", "failed to expand", "lowest numbered",
    "tls_", "TLS ", "remote host", "Remote host", "malware", "Message ", "pid ",
)
# Lines with a message id that are not arrivals, deliveries or Completed.
_ID_NOISE = (
    "SA:", "F=", "H=", "SMTP ", "Frozen", "Unfrozen", "Message ", "removed by", "cancelled by",
    "Spool", "Warning:", "DKIM", "ARC", "DMARC", "no immediate delivery", "Sender identification",
    "cwd=", "rejected", "Error ", "error ", "Remote host", "retry time", "spam", "malware",
    "tls_", "TLS ", "DANE", "SPF", "<", "DSN", "Unknown ",
)


class _Message:
    """One message between its ``<=`` line and ``Completed``."""

    __slots__ = ("client_ip", "lines", "order", "recipients", "record", "sender", "user", "via")

    def __init__(self, record: LogRecord, arrival: Arrival, via: RelayVia,
                 user: str | None) -> None:
        self.record = record
        self.order = record.order
        self.via = via
        self.user = user
        self.sender = arrival.sender
        self.client_ip = normalise_ip(arrival.host.ip) if arrival.host is not None else None
        self.lines = [evidence_line(record)]
        self.recipients: dict[str, tuple[str, str, datetime | None, str]] = {}
        """By lower-cased address: (recipient, status, time, relay)."""
        for rcpt in arrival.recipients:
            self.recipients.setdefault(rcpt.lower(), (rcpt, "accepted", None, ""))

    def event(self, queue_id: str) -> RelayedMessage:
        record = self.record
        return RelayedMessage(
            source=record.source, lineno=record.lineno, time=record.time, daemon="exim",
            queue_id=queue_id, via=self.via, user=self.user, client_ip=self.client_ip,
            sender=self.sender,
            deliveries=tuple(Delivery(recipient=rcpt, status=status, time=time, relay=relay)
                             for rcpt, status, time, relay in self.recipients.values()),
            lines=tuple(self.lines),
        )


class EximParser:
    """Exim main-log lines (program ``exim``) into logins and relayed messages.

    ``expire``: log time after which a message still open is given out as it is (default
    :data:`DEFAULT_EXPIRE`); ``max_open``: most messages kept open at once (default 100,000).
    """

    name = "exim"

    def __init__(self, *, expire: timedelta = DEFAULT_EXPIRE, max_open: int = 100_000) -> None:
        self.expire = expire
        self.max_open = max(1, max_open)
        self.counters: Counter[str] = Counter()
        """What recognised lines were, by kind (``auth-failure``, ``relay-denied`` ...)."""
        self._open: dict[str, _Message] = {}
        self._pending: list[LogEvent] = []
        self._lines = 0
        self._lost: Counter[tuple[str, str]] = Counter()
        """Given-up state by (source, reason)."""

    # -- protocol ----------------------------------------------------------------------------

    def claims(self, program: str | None, message: str) -> bool:
        """Exim's own tags: ``exim``, ``exim4``."""
        return program_leaf(program) in _PROGRAMS

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        """The events this line completes; None when it is not an Exim line we know."""
        text = record.envelope.message
        if text[:1] == "[":
            stripped = _strip_prefix(text)
            if stripped is None:
                self.counters["continuation"] += 1
                return self._out(NOTHING)
            text = stripped
        end = message_id_end(text)
        if end:
            result = self._message_line(record, text[:end], text[end + 1 :])
        else:
            result = self._plain_line(record, text)
        if result is None:
            return None
        self._lines += 1
        if not self._lines % _EXPIRE_EVERY and self._open:
            self._expire(record.order)
        return self._out(result)

    def flush(self) -> Sequence[LogEvent]:
        """Messages still open (no ``Completed`` seen), with the status known so far."""
        events = self._pending
        self._pending = []
        for queue_id, message in self._open.items():
            self.counters["open-at-end"] += 1
            events.append(message.event(queue_id))
        self._open.clear()
        return events

    def skipped(self) -> Sequence[Skipped]:
        """Messages given out early and delivery lines whose arrival was not in the logs."""
        return [Skipped(source=source, where="exim messages", reason=reason, count=count)
                for (source, reason), count in sorted(self._lost.items())]

    # -- lines -------------------------------------------------------------------------------

    def _out(self, result: Sequence[LogEvent]) -> Sequence[LogEvent]:
        if not self._pending:
            return result
        events = [*self._pending, *result]
        self._pending = []
        return events

    def _plain_line(self, record: LogRecord, text: str) -> Sequence[LogEvent] | None:
        marker = text.find(AUTH_FAILED)
        if marker > 0:
            return self._auth_failure(record, text, marker)
        if text.startswith(_NOISE):
            if "rejected RCPT" in text:
                kind = "relay-denied" if "relay not permitted" in text else "rejected-rcpt"
                self.counters[kind] += 1
            return NOTHING
        return None

    def _auth_failure(self, record: LogRecord, text: str, marker: int) -> Sequence[LogEvent] | None:
        failure = parse_auth_failure(text, marker)
        if failure is None:
            return None
        if failure.code < 500:
            self.counters["auth-tempfail"] += 1
            return NOTHING
        if failure.code == 501:
            self.counters["auth-cancelled"] += 1
            return NOTHING
        self.counters["auth-failure"] += 1
        return (login_event(record, "exim", LoginKind.FAILURE, failure.set_id,
                            normalise_ip(failure.host.ip), failure.authenticator,
                            attempts=failure.times,
                            reason=f"{failure.code} {failure.text}".rstrip()),)

    def _message_line(self, record: LogRecord, queue_id: str,
                      rest: str) -> Sequence[LogEvent] | None:
        flag = rest[:2]
        if rest[2:3] == " ":
            if flag == "<=":
                return self._arrival(record, queue_id, rest[3:])
            status = _STATUS.get(flag)
            if status is not None:
                return self._delivery(record, queue_id, status, rest[3:])
        if rest.startswith("Completed"):
            message = self._open.pop(queue_id, None)
            if message is None:
                self.counters["completed-unknown"] += 1
                return NOTHING
            if len(message.lines) < EVIDENCE_LINES:
                message.lines.append(evidence_line(record))
            return (message.event(queue_id),)
        if rest.startswith(_ID_NOISE):
            return NOTHING
        return None

    def _arrival(self, record: LogRecord, queue_id: str, text: str) -> Sequence[LogEvent]:
        arrival = parse_arrival(text)
        events: list[LogEvent] = []
        protocol = (arrival.protocol or "").lower()
        if arrival.authenticator is not None:
            via, user = RelayVia.AUTH, arrival.auth_id
        elif arrival.host is None or protocol.startswith("local"):
            via, user = RelayVia.LOCAL, arrival.local_user
        else:
            via, user = RelayVia.NETWORK, None
        message = _Message(record, arrival, via, user)
        if arrival.authenticator is not None:
            self.counters["auth-success"] += 1
            events.append(login_event(record, "exim", LoginKind.SUCCESS, arrival.auth_id,
                                      message.client_ip, arrival.authenticator,
                                      line=message.lines[0]))
        old = self._open.pop(queue_id, None)
        if old is not None:  # an id seen twice: two hosts' logs, or a lost Completed
            self._lost[(record.source, "message id arrived again before Completed")] += 1
            events.append(old.event(queue_id))
        if len(self._open) >= self.max_open:
            oldest = next(iter(self._open))
            events.append(self._open.pop(oldest).event(oldest))
            self._lost[(record.source, f"more than {self.max_open} messages open")] += 1
        self._open[queue_id] = message
        return tuple(events)

    def _delivery(self, record: LogRecord, queue_id: str, status: str,
                  text: str) -> Sequence[LogEvent]:
        message = self._open.get(queue_id)
        if message is None:
            self._lost[(record.source, _NO_ARRIVAL)] += 1
            return NOTHING
        line = parse_delivery(text)
        if line is None:
            return NOTHING
        if line.relay:
            relay = line.relay
        elif line.address == ":blackhole:":
            relay = "none"
        else:
            relay = "local"
        recipient = line.recipient
        key = recipient.lower()
        known = message.recipients.get(key)
        message.recipients[key] = (known[0] if known is not None else recipient, status,
                                   record.time, relay)
        if len(message.lines) < EVIDENCE_LINES:
            message.lines.append(evidence_line(record))
        return NOTHING

    def _expire(self, now: datetime) -> None:
        limit = now - self.expire
        while self._open:
            queue_id = next(iter(self._open))
            message = self._open[queue_id]
            if message.order >= limit:
                break
            del self._open[queue_id]
            self._lost[(message.record.source,
                        f"message open longer than {self.expire} without Completed")] += 1
            self._pending.append(message.event(queue_id))


def _strip_prefix(text: str) -> str | None:
    """``text`` without a leading ``[pid] `` (syslog-ng repeats it) or ``[1\\3] `` (the first
    part of a long line Exim split for syslog); None for a later part of a split line."""
    close = text.find("] ", 1, 24)
    if close < 0:
        return text
    inner = text[1:close]
    if inner.isdigit():
        return text[close + 2 :]
    part, sep, _total = inner.partition("\\")
    if sep and part.isdigit():
        return text[close + 2 :] if part == "1" else None
    return text
