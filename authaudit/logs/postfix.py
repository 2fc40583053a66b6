"""Postfix: SMTP AUTH logins and failures, and every message with the identity that submitted it.

What the parser gives out:

* a :class:`LoginEvent` (SUCCESS) for each smtpd ``QUEUEID: client=NAME[IP], sasl_method=M,
  sasl_username=U`` line. Postfix logs the user once per *message* submitted, not once per
  session or AUTH command: a session that authenticates and sends nothing leaves no success line,
  and one that sends three messages leaves three;
* a :class:`LoginEvent` (FAILURE) for each ``warning: NAME[IP]: SASL M authentication failed:
  reason[, sasl_username=U]`` (the user only from Postfix 3.9 on). ``Connection lost to
  authentication server`` and ``SASL authentication failure: cannot connect to saslauthd
  server`` are the server's trouble, not a failed login, and give nothing;
* a :class:`RelayedMessage` per message when its last queue file is ``removed`` (or at
  :meth:`flush`, or when a limit ends it; see :mod:`authaudit.logs.postfix_queue`), with the
  sender, the final status of each recipient, and via AUTH (smtpd with sasl_username), LOCAL
  (pickup ``uid=``), NETWORK (smtpd without AUTH) or QUEUED (the log does not show how it
  entered: its first lines lie before the log, or it is a bounce Postfix made itself).
  Content-filter chains (``status=sent (250 ... queued as NEWQID)``, XFORWARD
  ``orig_queue_id=``) are followed, so the message keeps the submission's identity and gets the
  deliveries of the re-injected copy; the hop to the filter is not a delivery, and the copy's
  ``client=`` line gives no login even if it names a user (the login was the first hop's).
  Recipient statuses are Postfix's own in lower case (``sent``, ``deferred``, ``bounced``,
  ``expired``, ``softbounce``, ...) plus ``accepted`` (handed to a content filter whose copy
  told nothing more, or named only by a cleanup header/body action), ``rejected`` (a reject of
  that recipient, or of the whole message at DATA/END-OF-MESSAGE/header/body, which also ends
  the message), ``discarded`` and ``held``. Postfix names recipients only on such lines, so a
  message still queued at the end of the log may list none.

Every program whose name starts with ``postfix`` is claimed (``postfix/smtpd``,
``postfix/submission/smtpd``, ``postfix-incoming/smtpd``, ``postfix/sender-cleanup/cleanup``), and
Zimbra's ``/postfix-script``.
Lines are told apart by the program's last component:

* ``smtpd``: session chatter (connect, disconnect, TLS, ``lost connection``), ``warning:`` and
  ``NOQUEUE:`` lines are recognised and give nothing, except SASL failures;
* anvil, dnsblog, postscreen, tlsproxy, verify, scache, tlsmgr, master, postfix-script, the
  admin and submission commands (postmap, postsuper's counts, sendmail, postdrop, ...) and the
  spawned ``policy-spf``: every line is recognised and gives nothing;
* all others (qmgr, cleanup, pickup, smtp, lmtp, local, virtual, pipe, error, discard, bounce,
  postsuper, and unknown ones): ``QUEUEID: ...`` lines are read by their content, whichever
  program wrote them; other lines are recognised when they start with a known prefix
  (``warning:``, ``fatal:``, smtp's ``connect to``, TLS lines, ...).

For speed, the parser names its *quiet* lines to the scanner (:meth:`PostfixParser.quiet_prefixes`,
:meth:`PostfixParser.quiet_pattern`): the session chatter of smtpd, every line of the noise
programs and the noise prefixes of the others, which the scanner counts without feeding them,
moving the parser's clock with :meth:`PostfixParser.tick`. When a large log is read in parts,
messages cut by a border are kept as pieces and joined afterwards
(:mod:`authaudit.logs.postfix_parts`).

Anything else returns None so that the scanner counts it. Reject lines are recognised and give no
event; :attr:`PostfixParser.rejects_by_user` counts, per user, the ``reject``/``reject_warning``
lines that name an authenticated user (``Sender address rejected: not owned by user U`` from
``reject_sender_login_mismatch``, or Postfix 3.10's ``sasl_username=U``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

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
from authaudit.logs.postfix_lines import (
    GENERIC_NOISE,
    HEX_ID,
    LEAF_NOISE,
    LONG_ID,
    MESSAGE_STAGES,
    NOISE_LEAVES,
    QUEUE_NOISE,
    QUEUE_NOISE_LINE,
    SMTPD_NOISE,
    SMTPD_QUIET,
    parse_action,
    parse_client,
    parse_delivery,
    parse_pickup,
    parse_qmgr_from,
    parse_sasl_failure,
    queued_as,
    rejected_user,
    relay_ip,
    service_of,
)
from authaudit.logs.postfix_parts import stitch
from authaudit.logs.postfix_queue import Key, Message, Piece, QueueState
from authaudit.logs.routing import ALL_LINES
from authaudit.model import LoginKind, RelayedMessage, RelayVia, Skipped

__all__ = ["DEFAULT_CHAIN_GRACE", "DEFAULT_MAX_OPEN", "DEFAULT_UNQUEUED_AFTER", "PostfixParser"]

DEFAULT_MAX_OPEN = 500_000
"""Open queue files kept at most; beyond that the oldest is given out early (counted)."""
DEFAULT_UNQUEUED_AFTER = timedelta(hours=1)
"""A queue file the queue manager never saw is given out this long after its first line."""
DEFAULT_CHAIN_GRACE = timedelta(seconds=60)
"""How long a finished non-AUTH network message waits for a filter's ``queued as`` claim."""

_SMTPD, _NOISE, _OTHER = 0, 1, 2
_REJECTED = frozenset({"reject", "milter-reject", "proxy-reject"})
_DISCARDED = frozenset({"discard", "milter-discard"})
_HELD = frozenset({"hold", "milter-hold"})
_AUTH_SERVER_DOWN = "Connection lost to authentication server"


class _Program(NamedTuple):
    kind: int
    service: str
    prefixes: tuple[str, ...]
    """Known non-queue-id prefixes of this program (for ``_OTHER``)."""


class PostfixParser:
    """Postfix's log grammar, with the queue state that joins a message's lines."""

    name = "postfix"

    def __init__(self, *, expire: timedelta = DEFAULT_EXPIRE, max_open: int = DEFAULT_MAX_OPEN,
                 unqueued_after: timedelta = DEFAULT_UNQUEUED_AFTER,
                 chain_grace: timedelta = DEFAULT_CHAIN_GRACE) -> None:
        """``expire``: a queued message open longer than this (log time) is given out as it is;
        ``max_open``: cap on open queue files; ``unqueued_after``: when a queue file the queue
        manager never saw counts as abandoned; ``chain_grace``: see
        :mod:`authaudit.logs.postfix_queue`."""
        self._state = QueueState(expire=expire, unqueued_after=unqueued_after,
                                 chain_grace=chain_grace, max_open=max_open)
        self._programs: dict[str, _Program] = {}
        self.rejects_by_user: Counter[str] = Counter()
        """Reject lines naming an authenticated user, per user (see the module docstring)."""

    # --- protocol --------------------------------------------------------------------------

    def claims(self, program: str | None, message: str) -> bool:
        """Programs whose first path component starts with ``postfix``, and Zimbra's
        ``/postfix-script``."""
        if program is None:
            return False
        return program.split("/", 1)[0].startswith("postfix") or program.endswith(
            "/postfix-script")

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        """The events this line completes; None when it is not a Postfix line we know."""
        env = record.envelope
        program = env.program
        if program is None:
            return None
        info = self._programs.get(program)
        if info is None:
            info = self._learn(program)
        state = self._state
        time = record.time
        if time is not None and time > state.now:
            state.advance(time)
        kind = info.kind
        result: Sequence[LogEvent] | None = NOTHING
        if kind != _NOISE:
            msg = env.message
            end = msg.find(": ", 6, 34)  # split_queue_id, inlined: most lines have a queue id
            qid = msg[:end] if end > 0 else ""
            if qid and (not qid.strip(HEX_ID) or (end >= 10 and not qid.strip(LONG_ID))):
                result = self._queue_line(record, qid, msg[end + 2 :], info)
            elif kind == _SMTPD:
                result = self._smtpd(record, msg, info)
            else:
                result = self._other(record, msg, info)
        out = state.out
        if out and result is not None:
            events = (*result, *out)
            out.clear()
            return events
        return result

    def quiet_prefixes(self, program: str) -> tuple[str, ...]:
        """What the scanner may count for this parser without feeding it (see
        :mod:`authaudit.logs.routing`): every line of the noise programs, smtpd's session chatter,
        and the known non-queue-id prefixes of the others (not ``NOQUEUE:``, which is looked at
        for :attr:`rejects_by_user`). None of these texts can be a queue-id line: each has a
        character a queue id cannot hold before its first ``": "``."""
        info = self._programs.get(program) or self._learn(program)
        if info.kind == _NOISE:
            return ALL_LINES
        if info.kind == _SMTPD:
            return SMTPD_QUIET
        return tuple(prefix for prefix in info.prefixes if prefix != "NOQUEUE: ")

    def quiet_pattern(self, program: str) -> re.Pattern[str] | None:
        """For programs other than smtpd and the noise ones: ``QUEUEID: message-id=...`` and the
        other bodies of :data:`QUEUE_NOISE` (cleanup logs one per message), which give nothing
        and change no state."""
        info = self._programs.get(program) or self._learn(program)
        return QUEUE_NOISE_LINE if info.kind == _OTHER else None

    def tick(self, time: datetime) -> Sequence[LogEvent]:
        """Log time reached ``time`` on a quiet line: messages whose limits ran out."""
        state = self._state
        if time > state.now:
            state.advance(time)
        out = state.out
        if not out:
            return NOTHING
        events = tuple(out)
        out.clear()
        return events

    # --- reading in parts (see authaudit.logs.parallel) -----------------------------------

    def begin_part(self, first: bool, last: bool) -> None:
        """This parser reads one part of a log read in parallel: keep the messages the part's
        borders cut as pieces (see :mod:`authaudit.logs.postfix_parts`)."""
        self._state.keep_orphans = not first
        self._state.keep_open = not last

    def loose_ends(self) -> list[Piece]:
        """The pieces kept (after :meth:`flush`)."""
        pieces, self._state.pieces = self._state.pieces, []
        return pieces

    @staticmethod
    def stitch(parts: Sequence[Sequence[Piece]]) -> list[RelayedMessage]:
        """The messages that the pieces of consecutive parts make."""
        return stitch(parts)

    def flush(self) -> Sequence[LogEvent]:
        """Messages still open (or held for a filter's claim) at the end of the input."""
        return tuple(self._state.flush())

    def skipped(self) -> Sequence[Skipped]:
        """Messages given out before their end because of the state limits, counted."""
        return self._state.skipped()

    # --- dispatch --------------------------------------------------------------------------

    def _learn(self, program: str) -> _Program:
        leaf = program_leaf(program)
        if leaf == "smtpd":
            kind = _SMTPD
        elif leaf in NOISE_LEAVES:
            kind = _NOISE
        else:
            kind = _OTHER
        info = _Program(kind, service_of(program), LEAF_NOISE.get(leaf, ()) + GENERIC_NOISE)
        if len(self._programs) < 4096:
            self._programs[program] = info
        return info

    def _smtpd(self, record: LogRecord, msg: str, info: _Program) -> Sequence[LogEvent] | None:
        """A line of smtpd without a queue id (those cannot start with any of these texts)."""
        if msg.startswith(SMTPD_QUIET):
            return NOTHING
        if msg.startswith("warning: "):
            if "authentication failed" in msg:
                return self._sasl_failure(record, msg, info)
            return NOTHING
        if msg.startswith("NOQUEUE: "):
            self._count_reject(msg[9:])
            return NOTHING
        if msg.startswith(SMTPD_NOISE):
            self._count_reject(msg)  # Postfix 2.0's reject lines carry no NOQUEUE
            return NOTHING
        if msg.startswith(GENERIC_NOISE):
            return NOTHING
        return None

    def _other(self, record: LogRecord, msg: str, info: _Program) -> Sequence[LogEvent] | None:
        """A line of another program without a queue id."""
        if msg.startswith(info.prefixes):
            if msg.startswith("NOQUEUE: "):
                self._count_reject(msg[9:])
            return NOTHING
        return None

    def _count_reject(self, text: str) -> None:
        user = rejected_user(text)
        if user is not None:
            self.rejects_by_user[user] += 1

    # --- SASL failures ---------------------------------------------------------------------

    def _sasl_failure(self, record: LogRecord, msg: str,
                      info: _Program) -> Sequence[LogEvent] | None:
        failure = parse_sasl_failure(msg)
        if failure is None or failure.reason.startswith(_AUTH_SERVER_DOWN):
            return NOTHING
        return (login_event(record, self.name, LoginKind.FAILURE, failure.username,
                            normalise_ip(failure.address), failure.method, service=info.service,
                            reason=failure.reason),)

    # --- queue id lines --------------------------------------------------------------------

    def _queue_line(self, record: LogRecord, qid: str, body: str,
                    info: _Program) -> Sequence[LogEvent] | None:
        key = (record.envelope.host or "", qid)
        if body.startswith("to="):
            return self._delivery(record, key, body)
        if body == "removed":
            qfile = self._state.get(key)
            if qfile is not None:
                self._state.close(qfile)
            return NOTHING
        if body.startswith("client="):
            return self._client(record, key, body, info)
        if body.startswith("from=<"):
            return self._qmgr(record, key, body)
        if body.startswith("uid="):
            return self._pickup(record, key, body)
        if body.startswith(QUEUE_NOISE):
            return NOTHING
        return self._action(record, key, body)

    def _client(self, record: LogRecord, key: Key, body: str,
                info: _Program) -> Sequence[LogEvent] | None:
        client = parse_client(body)
        if client is None:
            return None
        state = self._state
        ip = normalise_ip(client.address)
        if client.orig_queue_id is not None:
            parent = state.get((key[0], client.orig_queue_id))
            if parent is not None:  # XFORWARD from a content filter: a hop of parent's chain
                state.start(key, record, RelayVia.NETWORK, parent=parent.message)
                return NOTHING
            if client.orig_address is not None:
                ip = normalise_ip(client.orig_address)
        user = client.username
        via = RelayVia.AUTH if user is not None else RelayVia.NETWORK
        qfile = state.start(key, record, via, user=user, client_ip=ip)
        line = evidence_line(record)
        if qfile.message.key == key:  # not the copy a filter announced (part of its chain)
            qfile.message.lines.append(line)
        if user is None:
            return NOTHING
        return (login_event(record, self.name, LoginKind.SUCCESS, user, ip, client.method,
                            service=info.service, line=line),)

    def _pickup(self, record: LogRecord, key: Key, body: str) -> Sequence[LogEvent] | None:
        parsed = parse_pickup(body)
        if parsed is None:
            return None
        qfile = self._state.start(key, record, RelayVia.LOCAL, uid=parsed[0], sender=parsed[1])
        qfile.message.lines.append(evidence_line(record))
        return NOTHING

    def _qmgr(self, record: LogRecord, key: Key, body: str) -> Sequence[LogEvent] | None:
        parsed = parse_qmgr_from(body)
        if parsed is None:
            return None
        sender, expired = parsed
        state = self._state
        qfile = state.get(key)
        first = qfile is None or not qfile.queued
        message = state.queued(key, record).message
        if expired:
            message.expire_recipients(record.time)
            _note(message, record)
        elif message.key == key or message.sender is None:
            message.sender = sender  # qmgr's sender is the rewritten one; pickup's may be bare
            if first:
                _note(message, record)
        return NOTHING

    def _delivery(self, record: LogRecord, key: Key, body: str) -> Sequence[LogEvent] | None:
        line = parse_delivery(body)
        if line is None:
            return None
        recipient, relay, status, response = line
        state = self._state
        message = state.queued(key, record).message
        if status == "sent" and "queued as " in response:
            next_qid = queued_as(response)
            if next_qid is not None and state.claim(
                (key[0], next_qid), message, normalise_ip(relay_ip(relay))
            ):  # the hop into a content filter: its copy tells the deliveries
                message.handed_to_filter(recipient, record.time, relay, key)
                return NOTHING
        message.deliveries[recipient] = (status, record.time, relay, key)
        _note(message, record)
        return NOTHING

    def _action(self, record: LogRecord, key: Key, body: str) -> Sequence[LogEvent] | None:
        action = parse_action(body)
        if action is None:
            return None
        self._count_reject(body)
        qfile = self._state.get(key)
        if qfile is None:
            return NOTHING
        message = qfile.message
        terminal = False
        if action.action in _REJECTED:
            status, terminal = "rejected", action.stage in MESSAGE_STAGES
        elif action.action in _DISCARDED:
            status, terminal = "discarded", True
        elif action.action in _HELD:
            status = "held"
            self._state.mark_queued(qfile)
        else:
            status = "accepted"
        rcpt = action.recipient
        if rcpt is not None:
            message.named(rcpt, status, record.time, key)
        if status != "accepted":
            _note(message, record)
        if terminal:
            self._state.close(qfile)
        return NOTHING


def _note(message: Message, record: LogRecord) -> None:
    if len(message.lines) < EVIDENCE_LINES:
        message.lines.append(evidence_line(record))
