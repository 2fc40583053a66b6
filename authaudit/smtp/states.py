"""The SMTP conversation state machine, as seen by a passive observer following protocol order.

Rule 1: every state and every transition lives in this file, in :data:`TRANSITIONS`. The engine
(``conversation.py``) decides *which* trigger happened; it never assigns a state itself.

Rule 2: a state says how the *next client bytes* are to be read. Server replies are matched to
client commands in order (RFC 2920 pipelining: several commands, then their replies in the same
order); only the reply to a command that changes how the client's following bytes must be read
(AUTH and each AUTH response, DATA, STARTTLS) can move the machine, and while such a reply is
awaited the client side is not read any further. That is what makes a late-captured ``334`` pair
correctly with the line that answers it.

States ending in ``_REPLY`` wait for the server. When the server side is missing or unusable the
session fires the trigger the server most probably sent (334, 354, 220), so this table also
describes the client-only fallback.

Main paths (every other pair is in the table below)::

    GREETING       --greeting / first reply not a greeting-->  COMMAND
    COMMAND        --AUTH-->      AUTH_REPLY   --334-->  AUTH_RESPONSE  --line or *-->  AUTH_REPLY
                                  AUTH_REPLY   --final reply (235, 5xx ...)-->  COMMAND
    COMMAND        --DATA-->      DATA_REPLY   --354-->  DATA_BODY  --CRLF.CRLF-->  COMMAND
                                  DATA_REPLY   --refused-->  COMMAND
    COMMAND        --BDAT n-->    BDAT_CHUNK   --n bytes-->  COMMAND
    COMMAND        --STARTTLS-->  STARTTLS_REPLY  --220-->  TLS_PENDING  --TLS record-->  TLS
                                  TLS_PENDING  --cleartext command (decrypted capture)-->  COMMAND
    any parsed state  --client bytes lost-->  RESYNC  --sure command / end of body-->  COMMAND
    any state  --close-->  CLOSED
"""

from __future__ import annotations

import enum

from authaudit.errors import SmtpProtocolError

__all__ = ["BLOCKING", "TRANSITIONS", "State", "Trigger", "next_state"]


class State(enum.Enum):
    """How the next client bytes are read."""

    __hash__ = object.__hash__  # members are singletons; the default hashes the name in Python

    GREETING = "greeting"
    """Before the server's greeting: client commands wait for it."""
    COMMAND = "command"
    """Each client line is a command."""
    AUTH_REPLY = "auth-reply"
    """The client sent AUTH or an AUTH response; waiting for 334 or a final reply."""
    AUTH_RESPONSE = "auth-response"
    """The server sent 334: the next client line is the answer (a credential), whatever it says."""
    DATA_REPLY = "data-reply"
    """The client sent DATA; waiting for 354 (body follows) or a refusal."""
    DATA_BODY = "data-body"
    """Message content up to ``CRLF.CRLF``: never commands, never credentials."""
    BDAT_CHUNK = "bdat-chunk"
    """A BDAT chunk of known size (RFC 3030): skipped by count."""
    STARTTLS_REPLY = "starttls-reply"
    """The client sent STARTTLS; waiting for 220 (TLS) or a refusal (stay in clear)."""
    TLS_PENDING = "tls-pending"
    """STARTTLS got 220; the client's next bytes tell real TLS from a decrypted capture."""
    TLS = "tls"
    """Encrypted: nothing more is parsed."""
    RESYNC = "resync"
    """Client bytes were lost; skip lines until one that is clearly a command or ends a body."""
    CLOSED = "closed"


class Trigger(enum.Enum):
    """Something that happened in protocol order; see :data:`TRANSITIONS`."""

    __hash__ = object.__hash__

    GREETING = "server greeting"
    NO_GREETING = "first reply is not a greeting (capture started mid-session)"
    CMD = "client command that does not change how the next bytes are read"
    CMD_AUTH = "client AUTH"
    CMD_DATA = "client DATA"
    CMD_BDAT = "client BDAT"
    CMD_STARTTLS = "client STARTTLS"
    REPLY_334 = "server 334"
    REPLY_FINAL = "server final reply to an AUTH step"
    AUTH_LINE = "client line answering a 334"
    AUTH_CANCEL = "client '*'"
    REPLY_354 = "server 354"
    REPLY_REFUSED = "server refused DATA or STARTTLS"
    BODY_END = "end of message body"
    CHUNK_END = "end of BDAT chunk"
    REPLY_220 = "server 220 to STARTTLS"
    TLS_RECORD = "client bytes are a TLS record"
    CLEARTEXT = "client bytes are a cleartext command"
    CLIENT_GAP = "client bytes lost"
    RESYNCED = "client line that is surely a command"
    CLOSE = "end of connection"


_S, _T = State, Trigger

TRANSITIONS: dict[tuple[State, Trigger], State] = {
    (_S.GREETING, _T.GREETING): _S.COMMAND,
    (_S.GREETING, _T.NO_GREETING): _S.COMMAND,
    (_S.COMMAND, _T.CMD): _S.COMMAND,
    (_S.COMMAND, _T.CMD_AUTH): _S.AUTH_REPLY,
    (_S.COMMAND, _T.CMD_DATA): _S.DATA_REPLY,
    (_S.COMMAND, _T.CMD_BDAT): _S.BDAT_CHUNK,
    (_S.COMMAND, _T.CMD_STARTTLS): _S.STARTTLS_REPLY,
    (_S.COMMAND, _T.TLS_RECORD): _S.TLS,  # a TLS handshake whose STARTTLS exchange was not seen
    (_S.AUTH_REPLY, _T.REPLY_334): _S.AUTH_RESPONSE,
    (_S.AUTH_REPLY, _T.REPLY_FINAL): _S.COMMAND,
    (_S.AUTH_RESPONSE, _T.AUTH_LINE): _S.AUTH_REPLY,
    (_S.AUTH_RESPONSE, _T.AUTH_CANCEL): _S.AUTH_REPLY,
    (_S.AUTH_RESPONSE, _T.CMD): _S.COMMAND,  # client-only fallback: a line that is surely a command
    (_S.DATA_REPLY, _T.REPLY_354): _S.DATA_BODY,
    (_S.DATA_REPLY, _T.REPLY_REFUSED): _S.COMMAND,
    (_S.DATA_BODY, _T.BODY_END): _S.COMMAND,
    (_S.BDAT_CHUNK, _T.CHUNK_END): _S.COMMAND,
    (_S.STARTTLS_REPLY, _T.REPLY_220): _S.TLS_PENDING,
    (_S.STARTTLS_REPLY, _T.REPLY_REFUSED): _S.COMMAND,
    (_S.TLS_PENDING, _T.TLS_RECORD): _S.TLS,
    (_S.TLS_PENDING, _T.CLEARTEXT): _S.COMMAND,
    (_S.RESYNC, _T.RESYNCED): _S.COMMAND,
    (_S.RESYNC, _T.BODY_END): _S.COMMAND,
}
for _state in State:
    if _state not in (State.TLS, State.CLOSED):
        TRANSITIONS[(_state, Trigger.CLIENT_GAP)] = State.RESYNC
    TRANSITIONS[(_state, Trigger.CLOSE)] = State.CLOSED
del _state

BLOCKING = frozenset(
    {State.GREETING, State.AUTH_REPLY, State.DATA_REPLY, State.STARTTLS_REPLY}
)
"""States in which the client side waits for a server reply before it is read further."""


def next_state(state: State, trigger: Trigger) -> State:
    """The state after ``trigger`` in ``state``.

    Raises:
        SmtpProtocolError: the trigger is impossible in that state (a bug in the caller, or a stream
            so broken that it cannot be followed).
    """
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise SmtpProtocolError(f"{trigger.value} is impossible in state {state.value}") from None
