"""Pairing server replies with the client commands they answer, first in, first out.

With pipelining (RFC 2920) a client may send several commands before any reply; the server answers
them in order. A reply is only read once a command waits for it, so replies that arrive early (or
commands that arrive late) still pair correctly. A reply with no command to wait for yet is held.
"""

from __future__ import annotations

import enum
from collections import deque

from authaudit.smtp.replies import Reply, parse_reply_line
from authaudit.smtp.text import render_text

__all__ = ["ReplyPairing", "Wait"]


class Wait(enum.Enum):
    """What a client command waits for: the kind of reply that will answer it."""

    GREETING = "greeting"
    COMMAND = "command"
    AUTH = "auth step"
    DATA = "data"
    MESSAGE = "end of message"
    STARTTLS = "starttls"


class ReplyPairing:
    """The commands still waiting for a reply, and the server reply being assembled."""

    __slots__ = ("_lines", "held", "pending", "stale_before")

    def __init__(self, *, greeting: bool) -> None:
        self.pending: deque[Wait] = deque([Wait.GREETING] if greeting else [])
        """Commands sent and not yet answered, oldest first (server lines are read while any)."""
        self.held: tuple[Reply, float] | None = None
        """A reply that arrived before any command waited for it."""
        self.stale_before = float("-inf")
        """Reply lines captured before this time answer client bytes lost in a gap: dropped."""
        self._lines = 0

    def expect(self, wait: Wait) -> None:
        """The client sent a command that ``wait`` describes."""
        self.pending.append(wait)

    def forget(self) -> None:
        """Nothing that was sent so far will be answered usably (server lost, or a resync)."""
        self.pending.clear()
        self.held = None
        self._lines = 0

    def take_held(self) -> tuple[Wait, Reply, float] | None:
        """The held reply paired with the oldest waiting command, if both exist."""
        if self.held is None or not self.pending:
            return None
        reply, ts = self.held
        self.held = None
        return self.pending.popleft(), reply, ts

    def add(self, line: bytes, ts: float) -> tuple[Wait, Reply, float] | None:
        """Add a server line; returns the completed reply with the command kind it answers.

        A reply is one or more ``CODE-text`` lines ended by a ``CODE text`` line (RFC 5321
        section 4.2.1); the code and text of the last line are kept.

        Raises:
            ValueError: the line is not an SMTP reply line.
        """
        parsed = parse_reply_line(line)
        if parsed is None:
            raise ValueError("not an SMTP reply line")
        if ts < self.stale_before:
            self._lines = 0
            return None
        code, last, text = parsed
        self._lines += 1
        if not last:
            return None
        reply = Reply(code, render_text(text), text, self._lines)
        self._lines = 0
        if not self.pending:
            self.held = (reply, ts)
            return None
        return self.pending.popleft(), reply, ts
