"""The transitions table: complete where it must be, and strict elsewhere."""

from __future__ import annotations

import pytest

from authaudit.errors import SmtpProtocolError
from authaudit.smtp.states import BLOCKING, TRANSITIONS, State, Trigger, next_state


def test_every_state_but_closed_can_close() -> None:
    for state in State:
        assert next_state(state, Trigger.CLOSE) is State.CLOSED


def test_every_parsed_state_can_lose_client_bytes() -> None:
    for state in State:
        if state not in (State.TLS, State.CLOSED):
            assert next_state(state, Trigger.CLIENT_GAP) is State.RESYNC


def test_every_state_is_reachable_from_greeting() -> None:
    seen = {State.GREETING}
    frontier = [State.GREETING]
    while frontier:
        state = frontier.pop()
        for (src, _), dst in TRANSITIONS.items():
            if src is state and dst not in seen:
                seen.add(dst)
                frontier.append(dst)
    assert seen == set(State)


def test_waiting_states_are_left_only_by_replies_gaps_or_close() -> None:
    server_triggers = {
        Trigger.GREETING,
        Trigger.NO_GREETING,
        Trigger.REPLY_334,
        Trigger.REPLY_FINAL,
        Trigger.REPLY_354,
        Trigger.REPLY_REFUSED,
        Trigger.REPLY_220,
    }
    for state, trigger in TRANSITIONS:
        if state in BLOCKING:
            assert trigger in server_triggers | {Trigger.CLIENT_GAP, Trigger.CLOSE}, (
                state,
                trigger,
            )


def test_the_auth_loop() -> None:
    state = next_state(State.COMMAND, Trigger.CMD_AUTH)
    assert state is State.AUTH_REPLY
    state = next_state(state, Trigger.REPLY_334)
    assert state is State.AUTH_RESPONSE
    assert next_state(state, Trigger.AUTH_LINE) is State.AUTH_REPLY
    assert next_state(state, Trigger.AUTH_CANCEL) is State.AUTH_REPLY
    assert next_state(State.AUTH_REPLY, Trigger.REPLY_FINAL) is State.COMMAND


def test_impossible_trigger_raises_protocol_error() -> None:
    with pytest.raises(SmtpProtocolError, match="impossible"):
        next_state(State.DATA_BODY, Trigger.REPLY_334)
