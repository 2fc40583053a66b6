"""A sans-IO follower of one SMTP connection: bytes of both directions in, AUTH attempts out.

Theory of operation. The caller feeds each direction's in-order bytes (``receive_data``), lost
stretches (``receive_gap``) and ends (``receive_eof``, ``close``), each with its capture time, and
drains events with ``next_event``. Nothing here does IO, reads a clock or logs.

The session (its engine is ``conversation.py``) follows *protocol order*, not arrival order. Client
lines are read while the state (``states.py``) says what they are; a command whose reply decides how
the following client bytes must be read (AUTH and each AUTH response, DATA, STARTTLS) stops the
client side until that reply has been matched. Replies are matched to commands first in, first out
(RFC 2920 pipelining), and server lines are only read when a command is waiting for them. So a
``334`` captured after the client's answer still pairs with it, and a line that answers a ``334`` is
a credential even when it reads ``QUIT``.

When the server side is missing or unusable (a one-sided capture, a server line that is not a reply,
lost server bytes, the server closing first, or the client getting more than ``max_buffered`` bytes
ahead of it) the session goes on from the client side alone: it assumes the replies that let a
client continue (334, 354, 220) and reports outcomes as unknown with the flag ``no-server-reply``.

Limits are constructor arguments; going past one produces a :class:`SessionNote`, never unbounded
memory. Any bytes give events or :class:`~authaudit.errors.SmtpProtocolError`, nothing else.
"""

from __future__ import annotations

import enum

from authaudit.errors import SmtpProtocolError
from authaudit.smtp.buffer import DEFAULT_MAX_LINE, LineBuffer
from authaudit.smtp.conversation import Conversation
from authaudit.smtp.events import SessionEvent
from authaudit.smtp.states import State

__all__ = ["DEFAULT_MAX_BUFFERED", "Direction", "SmtpSession"]

DEFAULT_MAX_BUFFERED = 256 * 1024
"""Bytes one direction may hold while it waits for the other (arrival skew between directions)."""
DEFAULT_MAX_NOTES = 32
DEFAULT_MAX_JUNK_LINES = 32


class Direction(enum.Enum):
    """Who sent some bytes. The caller orients the connection (see ``detect.py``)."""

    CLIENT = "client"
    SERVER = "server"


class SmtpSession:
    """One SMTP connection, followed passively from both directions' bytes."""

    def __init__(
        self,
        *,
        max_line: int = DEFAULT_MAX_LINE,
        max_buffered: int = DEFAULT_MAX_BUFFERED,
        greeting: bool = True,
        client_skip: int = 0,
        server_skip: int = 0,
        max_notes: int = DEFAULT_MAX_NOTES,
        max_junk_lines: int = DEFAULT_MAX_JUNK_LINES,
    ) -> None:
        """Create a session.

        Args:
            max_line: longest line kept whole; longer lines are cut (and noted).
            max_buffered: bytes a direction may hold while waiting for the other one.
            greeting: the capture starts at the connection's start, so the server's first reply
                is its greeting. With False (capture started mid-session) the first reply is
                matched to the first command. Even with True, a first reply whose code is not a
                greeting code is taken as the answer to a command.
            client_skip, server_skip: bytes at the start of each direction that are not SMTP
                (a SOCKS handshake, see ``detect.py``).
            max_notes: notes emitted at most; the last one says that more were suppressed.
            max_junk_lines: consecutive client lines that cannot be commands (binary data)
                tolerated before the stream is declared not SMTP.
        """
        self._client = LineBuffer(max_line)
        self._server = LineBuffer(max_line)
        self._client_skip = client_skip
        self._server_skip = server_skip
        self._error: str | None = None
        self._talk = Conversation(
            self._client,
            self._server,
            greeting=greeting,
            max_buffered=max_buffered,
            max_notes=max_notes,
            max_junk_lines=max_junk_lines,
        )

    @property
    def state(self) -> State:
        """How the next client bytes will be read."""
        return self._talk.state

    @property
    def server_usable(self) -> bool:
        """False once the session follows the client side alone."""
        return self._talk.server_ok

    def receive_data(self, direction: Direction, data: bytes, ts: float) -> None:
        """Bytes that ``direction`` sent, in order, captured at ``ts``.

        Raises:
            SmtpProtocolError: the stream cannot be followed (also on every later call).
        """
        talk = self._talk
        state = talk.state
        if direction is Direction.CLIENT:
            if (
                state is State.DATA_BODY
                and self._error is None
                and not talk.client_eof
                and not self._client_skip
                and self._client.absorb_body(data, ts, talk.lf_body)
            ):
                return  # message content that cannot end the message: nothing else to do
            if self._error is not None or state is State.CLOSED or talk.client_eof:
                self._check_open(direction)
            if self._client_skip:
                data = self._strip(direction, data)
            if state is not State.TLS:
                self._client.feed(data, ts)
        else:
            if self._error is not None or state is State.CLOSED or talk.server_eof:
                self._check_open(direction)
            if self._server_skip:
                data = self._strip(direction, data)
            if talk.server_ok and state is not State.TLS:
                self._server.feed(data, ts)
                self._advance(ts, server_fed=True)
                return
        if data:
            self._advance(ts)

    def receive_gap(self, direction: Direction, size: int, ts: float) -> None:
        """``size`` bytes that ``direction`` sent were not captured.

        Raises:
            SmtpProtocolError: the stream cannot be followed (also on every later call).
        """
        self._check_open(direction)
        self._advance(ts)
        self._talk.lost(direction is Direction.CLIENT, size, ts)
        self._advance(ts)

    def receive_eof(self, direction: Direction, ts: float) -> None:
        """``direction`` sent FIN (or its bytes end here): an unterminated last line still counts.

        Raises:
            SmtpProtocolError: the stream cannot be followed (also on every later call).
        """
        self._check_open(direction)
        if direction is Direction.CLIENT:
            self._client.end_line()
            self._talk.client_eof = True
        else:
            self._server.end_line()
            self._talk.server_eof = True
        self._advance(ts)

    def close(self, ts: float) -> None:
        """The connection is over: finish what is in progress. Later input raises.

        Raises:
            SmtpProtocolError: the stream could not be followed.
        """
        if self._error is not None:
            raise SmtpProtocolError(self._error)
        if self._talk.state is State.CLOSED:
            return
        if not self._talk.client_eof:
            self.receive_eof(Direction.CLIENT, ts)
        if not self._talk.server_eof:
            self.receive_eof(Direction.SERVER, ts)
        self._talk.finish(ts)
        self._client.clear()
        self._server.clear()

    @property
    def has_events(self) -> bool:
        """True when :meth:`next_event` has something to return."""
        return bool(self._talk.events)

    def next_event(self) -> SessionEvent | None:
        """The next event in protocol order, or None when there is none yet."""
        events = self._talk.events
        return events.popleft() if events else None

    def events(self) -> list[SessionEvent]:
        """All events produced so far, removed from the session."""
        out = list(self._talk.events)
        self._talk.events.clear()
        return out

    def _check_open(self, direction: Direction) -> None:
        """Raise if the session failed, is closed, or ``direction`` has ended."""
        talk = self._talk
        ended = talk.client_eof if direction is Direction.CLIENT else talk.server_eof
        if self._error is None and (talk.state is State.CLOSED or ended):
            self._error = f"{direction.value} data after the end of the stream"
        if self._error is not None:
            raise SmtpProtocolError(self._error)

    def _strip(self, direction: Direction, data: bytes) -> bytes:
        """Drop what is left of ``direction``'s tunnel handshake from the front of ``data``."""
        if direction is Direction.CLIENT:
            cut = min(self._client_skip, len(data))
            self._client_skip -= cut
        else:
            cut = min(self._server_skip, len(data))
            self._server_skip -= cut
        return data[cut:]

    def _advance(self, ts: float, *, server_fed: bool = False) -> None:
        """Run the conversation; a failure makes this and every later call raise."""
        try:
            self._talk.run(ts)
            if server_fed:
                self._talk.check_server_backlog(ts)
        except SmtpProtocolError as exc:
            self._error = str(exc)
            self._client.clear()
            self._server.clear()
            raise
