"""SmtpSession under stress: limits, gaps, broken peers, misuse."""

from __future__ import annotations

import pytest

from authaudit.errors import SmtpProtocolError
from authaudit.model import Outcome
from authaudit.redact import Secret
from authaudit.smtp.events import SessionEvent, SessionNote, TlsStarted
from authaudit.smtp.session import Direction, SmtpSession
from authaudit.smtp.states import State
from tests.smtp.helpers import C, S, Script, auths, b64, notes
from tests.smtp.tls_data import client_hello, record

CLIENT, SERVER = Direction.CLIENT, Direction.SERVER
HELLO = (S(b"220 mx ESMTP\r\n"), C(b"EHLO a\r\n"), S(b"250 mx\r\n"))


def drive(session: SmtpSession, *steps: tuple[Direction, bytes | int | None]) -> list[SessionEvent]:
    """Feed steps in the given order: bytes are data, an int is a gap of that size, None is EOF."""
    for ts, (direction, item) in enumerate(steps):
        if item is None:
            session.receive_eof(direction, float(ts))
        elif isinstance(item, int):
            session.receive_gap(direction, item, float(ts))
        else:
            session.receive_data(direction, item, float(ts))
    session.close(float(len(steps)))
    return session.events()


def test_overlong_line_is_cut_and_noted() -> None:
    events = Script(
        *HELLO,
        C(b"NOOP " + b"x" * 200 + b"\r\n"),
        S(b"250 ok\r\n"),
        C(b"AUTH PLAIN " + b64("\x00u\x00p") + b"\r\n"),
        S(b"235 ok\r\n"),
        max_line=64,
    ).run()
    assert notes(events) == ["client line longer than max_line was cut"]
    assert [a.username for a in auths(events)] == ["u"]


def test_client_far_ahead_of_a_silent_server_falls_back() -> None:
    session = SmtpSession(max_buffered=1000)
    events = drive(
        session,
        (SERVER, b"220 mx ESMTP\r\n"),
        (CLIENT, b"EHLO a\r\nAUTH LOGIN\r\n" + b64("bob") + b"\r\n" + b64("pw") + b"\r\n"),
        (CLIENT, b"NOOP\r\n" * 300),
    )
    assert notes(events) == [
        "client got more than max_buffered bytes ahead of the server; following the client alone"
    ]
    assert [(a.username, a.secret, a.outcome) for a in auths(events)] == [
        ("bob", Secret("pw"), Outcome.UNKNOWN)
    ]


def test_server_talking_to_nobody_is_bounded() -> None:
    session = SmtpSession(max_buffered=1000)
    events = drive(session, (SERVER, b"220 mx ESMTP\r\n" + b"250 ok\r\n" * 200))
    assert notes(events) == [
        "server sent more than max_buffered bytes that answer nothing; following the client alone"
    ]


def test_notes_are_capped() -> None:
    session = SmtpSession(max_line=8, max_notes=3)
    events = drive(session, (SERVER, b"220 mx\r\n"), (CLIENT, b"NOOP 123456789\r\n" * 10))
    assert notes(events) == ["client line longer than max_line was cut"] * 2 + [
        "more notes suppressed"
    ]
    assert [e.skipped for e in events if isinstance(e, SessionNote)] == [True, True, False]


def test_binary_client_stream_is_not_smtp() -> None:
    session = SmtpSession(max_junk_lines=4)
    session.receive_data(SERVER, b"220 mx\r\n", 0.0)
    session.receive_data(CLIENT, b"AUTH PLAIN " + b64("\x00u\x00p") + b"\r\n", 1.0)
    session.receive_data(SERVER, b"235 ok\r\n", 2.0)
    with pytest.raises(SmtpProtocolError, match="not SMTP"):
        session.receive_data(CLIENT, b"\x00\x01\x02\r\n" * 5, 3.0)
    assert [a.username for a in auths(session.events())] == ["u"]
    with pytest.raises(SmtpProtocolError, match="not SMTP"):
        session.receive_data(CLIENT, b"NOOP\r\n", 4.0)
    with pytest.raises(SmtpProtocolError, match="not SMTP"):
        session.close(5.0)


def test_data_after_the_end_is_a_protocol_error() -> None:
    session = SmtpSession()
    session.receive_eof(CLIENT, 0.0)
    with pytest.raises(SmtpProtocolError, match="after the end"):
        session.receive_data(CLIENT, b"NOOP\r\n", 1.0)
    closed = SmtpSession()
    closed.close(0.0)
    closed.close(1.0)  # closing twice is harmless
    with pytest.raises(SmtpProtocolError, match="after the end"):
        closed.receive_data(SERVER, b"220 x\r\n", 2.0)


def test_client_gap_during_auth_abandons_the_attempt() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"EHLO a\r\nAUTH LOGIN\r\n"),
        (SERVER, b"250 mx\r\n"),
        (SERVER, b"334 VXNlcm5hbWU6\r\n"),
        (CLIENT, b64("bob") + b"\r\n"),
        (CLIENT, 20),
        (SERVER, b"334 UGFzc3dvcmQ6\r\n235 ok\r\n"),
        (CLIENT, b"garbage tail\r\nAUTH PLAIN " + b64("\x00eve\x00pw") + b"\r\n"),
        (SERVER, b"535 no\r\n"),
    )
    assert [(a.username, a.outcome, a.flags) for a in auths(events)] == [
        ("bob", Outcome.UNKNOWN, ("gap",)),
        ("eve", Outcome.FAILURE, ("after-gap",)),
    ]
    assert notes(events) == ["20 client bytes were not captured; resynchronising"]


def test_client_gap_in_a_body_resyncs_at_its_end() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"EHLO a\r\nDATA\r\n"),
        (SERVER, b"250 mx\r\n354 go\r\n"),
        (CLIENT, b"From: a\r\n" + b64("user") + b"\r\n"),
        (CLIENT, 1000),
        (
            CLIENT,
            b"rest of a line\r\n"
            + b64("pass")
            + b"\r\n.\r\nAUTH PLAIN "
            + b64("\x00bob\x00pw")
            + b"\r\n",
        ),
        (SERVER, b"250 queued\r\n235 ok\r\n"),
    )
    assert [(a.username, a.outcome, a.flags) for a in auths(events)] == [
        ("bob", Outcome.SUCCESS, ())
    ]


def test_client_gap_swallowing_the_end_of_a_body() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"EHLO a\r\nDATA\r\n"),
        (SERVER, b"250 mx\r\n354 go\r\n"),
        (CLIENT, b"body\r\n"),
        (CLIENT, 500),
        (SERVER, b"250 queued\r\n"),
        (CLIENT, b"Quit smoking\r\nAUTH PLAIN " + b64("\x00bob\x00pw") + b"\r\n"),
        (SERVER, b"235 ok\r\n"),
    )
    assert [(a.username, a.outcome, a.flags) for a in auths(events)] == [
        ("bob", Outcome.SUCCESS, ())
    ]


def test_gap_inside_a_bdat_chunk_keeps_sync() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"EHLO a\r\nBDAT 100 LAST\r\n" + b"x" * 30),
        (CLIENT, 40),
        (CLIENT, b"y" * 30 + b"AUTH PLAIN " + b64("\x00bob\x00pw") + b"\r\n"),
        (SERVER, b"250 mx\r\n250 done\r\n235 ok\r\n"),
    )
    assert [(a.username, a.outcome) for a in auths(events)] == [("bob", Outcome.SUCCESS)]


def test_server_gap_means_client_only() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"EHLO a\r\n"),
        (SERVER, 100),
        (CLIENT, b"AUTH LOGIN\r\n" + b64("bob") + b"\r\n" + b64("pw") + b"\r\n"),
        (SERVER, b"334 VXNlcm5hbWU6\r\n"),
    )
    assert [(a.username, a.secret, a.flags) for a in auths(events)] == [
        ("bob", Secret("pw"), ("no-server-reply",))
    ]
    assert notes(events) == ["100 server bytes were not captured; following the client alone"]


def test_gap_right_after_starttls_is_taken_as_tls() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"STARTTLS\r\n"),
        (SERVER, b"220 go\r\n"),
        (CLIENT, 300),
        (CLIENT, b"AUTH PLAIN x\r\n"),
    )
    assert events == [TlsStarted(ts=2.0, reply_code=220, reply_text="go")]


def test_tls_without_starttls_is_noted_and_ignored() -> None:
    hello = record(0x16, client_hello("x"))
    events = Script(
        S(b"220 mx\r\n"),
        C(hello + b"\r\nAUTH PLAIN " + b64("\x00u\x00p") + b"\r\n"),
        S(b"235 ok\r\n"),
    ).run(orders=("as written", "client first", "server first"))
    assert notes(events) == ["TLS handshake without a STARTTLS exchange; the rest is encrypted"]
    assert auths(events) == []


def test_starttls_with_a_missing_server_and_tls_bytes() -> None:
    hello = record(0x16, client_hello("mail.example"))
    events = Script(C(b"EHLO a\r\nSTARTTLS\r\n"), C(hello)).run()
    assert events == [TlsStarted(ts=1.0, reply_code=None, reply_text="", sni="mail.example")]


def test_starttls_with_a_missing_server_and_cleartext() -> None:
    events = Script(C(b"EHLO a\r\nSTARTTLS\r\nAUTH PLAIN " + b64("\x00u\x00p") + b"\r\n")).run()
    assert [(a.username, a.tls) for a in auths(events)] == [("u", False)]
    assert [e for e in events if isinstance(e, TlsStarted)] == []


def test_eof_flushes_an_unterminated_last_line() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"AUTH PLAIN " + b64("\x00u\x00p")),
        (CLIENT, None),
        (SERVER, b"235 ok"),
        (SERVER, None),
    )
    assert [(a.username, a.outcome, a.reply_text) for a in auths(events)] == [
        ("u", Outcome.SUCCESS, "ok")
    ]


def test_client_eof_before_the_reply_still_gets_the_reply() -> None:
    session = SmtpSession()
    session.receive_data(SERVER, b"220 mx\r\n", 0.0)
    session.receive_data(CLIENT, b"AUTH PLAIN " + b64("\x00u\x00p") + b"\r\n", 1.0)
    session.receive_eof(CLIENT, 2.0)
    assert session.state is State.AUTH_REPLY
    session.receive_data(SERVER, b"235 ok\r\n", 3.0)
    assert [a.outcome for a in auths(session.events())] == [Outcome.SUCCESS]


def test_empty_data_is_ignored() -> None:
    session = SmtpSession()
    session.receive_data(CLIENT, b"", 0.0)
    assert session.next_event() is None


def test_client_gap_inside_a_body_never_turns_body_lines_into_credentials() -> None:
    session = SmtpSession()
    events = drive(
        session,
        (SERVER, b"220 mx\r\n"),
        (CLIENT, b"EHLO a\r\nDATA\r\n"),
        (SERVER, b"250 mx\r\n354 go\r\n"),
        (CLIENT, b"body\r\n"),
        (CLIENT, 500),
        (CLIENT, b"AUTH PLAIN " + b64("\x00bait\x00hunter2") + b"\r\nmore body\r\n.\r\n"),
        (SERVER, b"250 queued\r\n"),
        (CLIENT, b"QUIT\r\n"),
        (SERVER, b"221 bye\r\n"),
    )
    assert auths(events) == []
