"""How the bytes of one SMTP connection are read, in protocol order: the engine of the session.

:class:`~authaudit.smtp.session.SmtpSession` is the public, sans-IO face (input checks, prefixes to
skip, end of stream, errors); this module holds what it drives. ``run`` alternates between the two
directions: a server line is read only when a client command waits for a reply
(:mod:`.pairing`), a client unit (line, body, chunk) is read as the state says (:mod:`.states`),
and the client side stops at each command whose reply decides how its next bytes must be read.

Recovery from imperfect captures lives here too: when the server side is missing or unusable the
replies that let a client continue are assumed (334, 354, 220) and outcomes are unknown; when client
bytes are lost, lines are skipped until one that is surely a command or ends a message body, and
replies captured before that command are dropped as answers to the lost bytes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from authaudit.errors import SmtpProtocolError
from authaudit.smtp import commands
from authaudit.smtp.attempt import AuthExchange, could_be_response
from authaudit.smtp.buffer import LineBuffer
from authaudit.smtp.events import AuthFinished, SessionEvent, SessionNote, TlsStarted
from authaudit.smtp.pairing import ReplyPairing, Wait
from authaudit.smtp.replies import (
    GREETING_CODES,
    S220_READY,
    S334_CONTINUE,
    S354_START_INPUT,
    Reply,
)
from authaudit.smtp.states import BLOCKING, State, Trigger, next_state
from authaudit.smtp.tls import MAX_HELLO, Sniff, sniff_tls

__all__ = ["Conversation"]


class Conversation:
    """The state of one connection's conversation, advanced from its two receive buffers."""

    def __init__(
        self,
        client: LineBuffer,
        server: LineBuffer,
        *,
        greeting: bool,
        max_buffered: int,
        max_notes: int,
        max_junk_lines: int,
    ) -> None:
        """Follow the conversation whose bytes arrive in ``client`` and ``server``.

        See :class:`~authaudit.smtp.session.SmtpSession` for the meaning of the limits.
        """
        self._client = client
        self._server = server
        self._max_buffered = max_buffered
        self._max_notes = max_notes
        self._max_junk = max_junk_lines
        self.state = State.GREETING if greeting else State.COMMAND
        self.events: deque[SessionEvent] = deque()
        self.server_ok = True
        """False once the conversation is followed from the client side alone."""
        self.client_eof = False
        self.server_eof = False
        self._pairing = ReplyPairing(greeting=greeting)
        self._attempt: AuthExchange | None = None
        self._tls = False
        self._tls_reply: tuple[Reply | None, float] = (None, 0.0)
        self.lf_body = False
        """The DATA command ended with a bare LF: so may the end of its body (see buffer.py)."""
        self._bdat_left = 0
        self._gapped = False
        self._gap_in_body = False
        """The last client gap hit a message body: only its end may resynchronise."""
        self._junk = 0
        self._notes = 0
        self._step = _STEPS[self.state]

    def lost(self, client: bool, size: int, ts: float) -> None:
        """``size`` bytes of one side were not captured."""
        state = self.state
        if state in (State.TLS, State.CLOSED):
            return
        if not client:
            if state is State.TLS_PENDING:
                self._server.clear()
            else:
                self._server_lost(ts, f"{size} server bytes were not captured")
        elif state is State.TLS_PENDING:
            self._tls_seen(None, ts)
            self._fire(Trigger.TLS_RECORD)
        elif state is State.BDAT_CHUNK and size < self._bdat_left:
            self._bdat_left -= size
        else:
            self._client_gap(size, ts)

    def finish(self, ts: float) -> None:
        """Both sides have ended: report what is still in progress and close."""
        attempt = self._attempt
        if attempt is not None:
            flags = ["incomplete"] if self.state is State.AUTH_RESPONSE else []
            if attempt.assumed or self.state is State.AUTH_REPLY:
                flags.insert(0, "no-server-reply")
            self._emit_auth(attempt.abandon(*flags))
        if self.state is State.TLS_PENDING:
            self._tls_seen(None, ts)
        self._fire(Trigger.CLOSE)

    def _fire(self, trigger: Trigger) -> None:
        state = self.state = next_state(self.state, trigger)
        self._step = _STEPS.get(state, _stopped)  # looked up once per transition, not per read

    def run(self, ts: float) -> None:
        """Advance both directions, in protocol order, as far as the buffered bytes allow."""
        while self._server_step() or self._step(self, ts):
            pass
        if self.state is State.TLS:
            self._client.clear()
            self._server.clear()

    def check_server_backlog(self, ts: float) -> None:
        """After server bytes were fed: too many of them waiting for commands means no client."""
        if self.server_ok and len(self._server) > self._max_buffered:
            self._server_lost(ts, "server sent more than max_buffered bytes that answer nothing")
            self.run(ts)

    def _server_step(self) -> bool:
        """Read server lines (and pair held replies) while commands wait; False if none could."""
        pairing = self._pairing
        pending = pairing.pending
        server = self._server
        progress = False
        while pending and self.server_ok:
            if pairing.held is not None:
                paired = pairing.take_held()
            else:
                line = server.next_line()
                if line is None:
                    break
                if server.truncated:
                    self._note(server.ts, "server line longer than max_line was cut")
                try:
                    paired = pairing.add(line, server.ts)
                except ValueError:
                    self._server_lost(server.ts, "server sent a line that is not an SMTP reply")
                    return True
            progress = True
            if paired is not None:
                self._match(*paired)
        return progress

    def _blocked(self, ts: float) -> bool:
        """The client waits for a reply that no server line can give now; False to keep waiting."""
        if self.server_ok and not self.server_eof:
            if len(self._client) <= self._max_buffered:
                return False
            self._server_lost(ts, "client got more than max_buffered bytes ahead of the server")
        self._assume_reply(ts)
        return True

    def _read_commands(self, ts: float) -> bool:
        return self._read_line(self._command)

    def _read_auth_responses(self, ts: float) -> bool:
        return self._read_line(self._auth_response)

    def _read_resync(self, ts: float) -> bool:
        return self._read_line(self._resync_line)

    def _read_line(self, handler: Callable[[bytes, float], None]) -> bool:
        """Hand client lines to ``handler`` while the state stays the same."""
        client = self._client
        state = self.state
        progress = False
        while (line := client.next_line()) is not None:
            progress = True
            handler(line, client.ts)
            if self.state is not state:
                break
        return progress

    # -- server side -----------------------------------------------------------------------

    def _match(self, wait: Wait, reply: Reply, ts: float) -> None:
        """``reply`` answers the oldest command still waiting, of kind ``wait``."""
        state = self.state
        if wait is Wait.GREETING:
            if state is not State.GREETING:
                return  # a greeting captured after a client gap was resynchronised
            if reply.code in GREETING_CODES:
                self._fire(Trigger.GREETING)
            else:  # the capture missed the greeting: this answers the first command
                self._fire(Trigger.NO_GREETING)
                self._pairing.held = (reply, ts)
        elif wait is Wait.AUTH and state is State.AUTH_REPLY and self._attempt is not None:
            self._auth_reply(self._attempt, reply)
        elif wait is Wait.DATA and state is State.DATA_REPLY:
            self._data_reply(reply.code == S354_START_INPUT)
        elif wait is Wait.STARTTLS and state is State.STARTTLS_REPLY:
            if reply.code == S220_READY:
                self._tls_reply = (reply, ts)
                self._fire(Trigger.REPLY_220)
            else:
                self._fire(Trigger.REPLY_REFUSED)

    def _auth_reply(self, attempt: AuthExchange, reply: Reply) -> None:
        if reply.code == S334_CONTINUE:
            attempt.challenge(reply.raw_text)
            self._fire(Trigger.REPLY_334)
        else:
            self._emit_auth(attempt.finish(reply))
            self._fire(Trigger.REPLY_FINAL)

    def _data_reply(self, accepted: bool) -> None:
        if accepted:
            self._client.begin_body()
            self._fire(Trigger.REPLY_354)
        else:
            self._fire(Trigger.REPLY_REFUSED)

    def _assume_reply(self, ts: float) -> None:
        """Client-only: fire the reply that lets a client go on, in a state that waits for one."""
        state = self.state
        if state is State.GREETING:
            self._fire(Trigger.NO_GREETING)
        elif state is State.AUTH_REPLY:
            attempt = self._attempt
            assert attempt is not None
            if attempt.mechanism.complete or attempt.cancelled:
                self._emit_auth(attempt.abandon("no-server-reply"))
                self._fire(Trigger.REPLY_FINAL)
            else:
                attempt.assumed = True
                self._fire(Trigger.REPLY_334)
        elif state is State.DATA_REPLY:
            self._data_reply(True)
        elif state is State.STARTTLS_REPLY:
            self._tls_reply = (None, ts)
            self._fire(Trigger.REPLY_220)

    def _server_lost(self, ts: float, reason: str) -> None:
        """Stop using the server side; go on from the client side alone."""
        if not self.server_ok:
            return
        self._note(ts, reason + "; following the client alone")
        self.server_ok = False
        self._pairing.forget()
        self._server.clear()

    # -- client side -----------------------------------------------------------------------

    def _command(self, line: bytes, ts: float) -> None:
        client = self._client
        if client.truncated:
            self._note(ts, "client line longer than max_line was cut")
        if not line[:1].isalpha():
            self._junk_line(line, ts)
            return
        self._junk = 0
        verb, args = commands.split_command(line)
        trigger = commands.trigger_for(verb)
        if trigger is Trigger.CMD:
            self._pairing.expect(Wait.COMMAND)
        elif trigger is Trigger.CMD_AUTH:
            self._start_auth(args, ts)
        elif trigger is Trigger.CMD_DATA and not args.strip():
            self.lf_body = client.bare_lf
            self._pairing.expect(Wait.DATA)
            self._fire(trigger)
        elif trigger is Trigger.CMD_BDAT and (bdat := commands.parse_bdat(args)) is not None:
            self._bdat_left = bdat[0]
            self._pairing.expect(Wait.MESSAGE)
            self._fire(trigger)
        elif trigger is Trigger.CMD_STARTTLS and not args.strip():
            self._pairing.expect(Wait.STARTTLS)
            self._fire(trigger)
        else:  # malformed DATA/BDAT/STARTTLS: the server refuses it, nothing changes
            self._pairing.expect(Wait.COMMAND)

    def _junk_line(self, line: bytes, ts: float) -> None:
        """A client line that cannot be a command (empty, binary, or the start of TLS)."""
        if sniff_tls(line[:MAX_HELLO], final=True).kind is not Sniff.NOT_TLS:
            self._note(ts, "TLS handshake without a STARTTLS exchange; the rest is encrypted")
            self._fire(Trigger.TLS_RECORD)
            return
        self._junk += 1
        if self._junk > self._max_junk:
            raise SmtpProtocolError("client stream is not SMTP: too many non-command lines")
        self._pairing.expect(Wait.COMMAND)

    def _start_auth(self, args: bytes, ts: float) -> None:
        parsed = commands.parse_auth(args)
        if parsed is None:
            self._pairing.expect(Wait.COMMAND)
            return
        name, initial = parsed
        attempt = AuthExchange(name, initial, ts, tls=self._tls)
        if self._gapped:
            attempt.flags.append("after-gap")
        self._attempt = attempt
        self._pairing.expect(Wait.AUTH)
        self._fire(Trigger.CMD_AUTH)

    def _auth_response(self, line: bytes, ts: float) -> None:
        attempt = self._attempt
        assert attempt is not None
        if self._client.truncated:
            attempt.flags.append("line-cut")
        if attempt.assumed and line != b"*" and not could_be_response(line):
            # No server says how this line was taken, and it reads as a command: take it so.
            self._emit_auth(attempt.abandon("no-server-reply", "incomplete"))
            self._fire(Trigger.CMD)
            self._command(line, ts)
            return
        self._pairing.expect(Wait.AUTH)
        attempt.answer(line)
        self._fire(Trigger.AUTH_CANCEL if attempt.cancelled else Trigger.AUTH_LINE)

    def _read_body(self, ts: float) -> bool:
        if not self._client.skip_body(self.lf_body):
            return False
        self._pairing.expect(Wait.MESSAGE)
        self._fire(Trigger.BODY_END)
        return True

    def _read_chunk(self, ts: float) -> bool:
        self._bdat_left -= self._client.skip(self._bdat_left)
        if self._bdat_left:
            return False
        self._fire(Trigger.CHUNK_END)
        return True

    def _read_after_starttls(self, ts: float) -> bool:
        head = self._client.peek(MAX_HELLO)
        if not head:
            return False
        if head[:1].isalpha():
            if self._tls_reply[0] is not None:  # a real 220, then cleartext: a decrypted capture
                self._tls = True
                self._tls_seen(None, 0.0, cleartext=True)
            # else the 220 was only assumed: the server most likely refused STARTTLS
            self._fire(Trigger.CLEARTEXT)
            return True
        hello = sniff_tls(head, final=self.client_eof)
        if hello.kind is Sniff.NEED_MORE:
            return False
        self._tls_seen(hello.sni, self._client.next_ts)
        self._fire(Trigger.TLS_RECORD)
        return True

    def _tls_seen(self, sni: str | None, ts: float, *, cleartext: bool = False) -> None:
        """Report what followed STARTTLS; ``ts`` is used when no 220 reply was captured."""
        reply, reply_ts = self._tls_reply
        self.events.append(
            TlsStarted(
                ts=reply_ts if reply is not None else ts,
                reply_code=reply.code if reply is not None else None,
                reply_text=reply.text if reply is not None else "",
                sni=sni,
                cleartext_after=cleartext,
            )
        )

    def _client_gap(self, size: int, ts: float) -> None:
        state = self.state
        if self._attempt is not None:
            self._emit_auth(self._attempt.abandon("gap"))
        self._gap_in_body = state in (State.DATA_BODY, State.BDAT_CHUNK)
        if not self._gap_in_body:
            self._gapped = True  # commands may have been lost: later pairings are less certain
        dropped = self._client.clear()
        extra = f", {dropped} buffered bytes dropped" if dropped else ""
        self._note(ts, f"{size} client bytes were not captured{extra}; resynchronising")
        self._fire(Trigger.CLIENT_GAP)

    def _server_spoke_before(self, ts: float) -> bool:
        """True when unread server bytes were captured no later than ``ts``.

        During a message body a server says nothing; a reply captured before a client line
        therefore means the body had ended (its end was in the bytes the gap swallowed)."""
        return len(self._server) > 0 and self._server.next_ts <= ts

    def _resync_line(self, line: bytes, ts: float) -> None:
        """After lost client bytes: wait for the end of a message body or a sure command."""
        end_of_body = line == b"."
        if not end_of_body and not commands.surely_command(line):
            return
        if not end_of_body and self._gap_in_body and not self._server_spoke_before(ts):
            # The gap hit a message body and the server has not answered its end yet: this
            # command-like line is message content (a forwarded mail, a bait), not a command.
            return
        # Replies to what the gap swallowed were captured before this line: drop them.
        self._pairing.forget()
        self._pairing.stale_before = ts
        if end_of_body:
            self._pairing.expect(Wait.MESSAGE)
            self._fire(Trigger.BODY_END)
        else:
            self._fire(Trigger.RESYNCED)
            self._command(line, ts)

    # -- output ----------------------------------------------------------------------------

    def _emit_auth(self, event: AuthFinished) -> None:
        self._attempt = None
        self.events.append(event)

    def _note(self, ts: float, reason: str, *, skipped: bool = True) -> None:
        self._notes += 1
        if self._notes < self._max_notes:
            self.events.append(SessionNote(ts=ts, reason=reason, skipped=skipped))
        elif self._notes == self._max_notes:
            self.events.append(SessionNote(ts=ts, reason="more notes suppressed", skipped=False))


def _stopped(conversation: Conversation, ts: float) -> bool:
    """The client side is not read in this state (TLS, closed)."""
    return False


_STEPS: dict[State, Callable[[Conversation, float], bool]] = {
    **dict.fromkeys(BLOCKING, Conversation._blocked),
    State.COMMAND: Conversation._read_commands,
    State.AUTH_RESPONSE: Conversation._read_auth_responses,
    State.RESYNC: Conversation._read_resync,
    State.DATA_BODY: Conversation._read_body,
    State.BDAT_CHUNK: Conversation._read_chunk,
    State.TLS_PENDING: Conversation._read_after_starttls,
}
"""How the client side is read in each state (the states not listed are not read)."""
