"""SmtpSession: whole conversations, each fed in every arrival order that must not matter."""

from __future__ import annotations

from authaudit.model import Outcome
from authaudit.redact import Secret, SecretKind
from authaudit.smtp.events import AuthFinished, TlsStarted
from authaudit.smtp.session import SmtpSession
from authaudit.smtp.states import State
from tests.smtp.helpers import C, S, Script, Step, auths, b64, notes, tls_events
from tests.smtp.ntlm_data import CORPUS_TYPE1, CORPUS_TYPE2, CORPUS_TYPE3, CORPUS_V1_LINE
from tests.smtp.test_mechanisms import (
    CRAM_CHALLENGE,
    CRAM_RESPONSE,
    DIGEST_CHALLENGE,
    DIGEST_LINE,
    DIGEST_RESPONSE,
)
from tests.smtp.tls_data import client_hello, record

GREETING = S(b"220 mx.example.com ESMTP\r\n")
EHLO = C(b"EHLO client.example\r\n")
EHLO_REPLY = S(b"250-mx.example.com\r\n250-AUTH LOGIN PLAIN CRAM-MD5 NTLM\r\n250 8BITMIME\r\n")
HELLO = (GREETING, EHLO, EHLO_REPLY)


def login(user: str = "galunt", word: str = "V1v1tr0n") -> tuple[Step, ...]:
    """AUTH LOGIN with the usual prompts, up to the password."""
    return (
        C(b"AUTH LOGIN\r\n"),
        S(b"334 VXNlcm5hbWU6\r\n"),
        C(b64(user) + b"\r\n"),
        S(b"334 UGFzc3dvcmQ6\r\n"),
        C(b64(word) + b"\r\n"),
    )


def test_auth_login_success() -> None:
    events = Script(
        *HELLO, *login(), S(b"235 ok, go ahead (#2.0.0)\r\n"), C(b"QUIT\r\n"), S(b"221 bye\r\n")
    ).run()
    assert events == [
        AuthFinished(
            ts=3.0,
            mechanism="LOGIN",
            username="galunt",
            secret=Secret("V1v1tr0n"),
            outcome=Outcome.SUCCESS,
            reply_code=235,
            reply_text="ok, go ahead (#2.0.0)",
        )
    ]


def test_login_prompts_of_any_text_and_initial_response() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH LOGIN " + b64("bob@example.org") + b"\r\n"),
        S(b"334 Password please\r\n"),
        C(b64("s3cret") + b"\r\n"),
        S(b"535 5.7.8 Error: authentication failed\r\n"),
    ).run()
    (attempt,) = auths(events)
    assert (attempt.username, attempt.secret, attempt.outcome, attempt.reply_code) == (
        "bob@example.org",
        Secret("s3cret"),
        Outcome.FAILURE,
        535,
    )


def test_plain_inline_continuation_and_equals_sign() -> None:
    creds = b64("\x00123456789@aol.com\x001234567")
    inline = Script(*HELLO, C(b"AUTH PLAIN " + creds + b"\r\n"), S(b"235 2.7.0 ok\r\n")).run()
    continued = Script(
        *HELLO, C(b"AUTH PLAIN\r\n"), S(b"334 \r\n"), C(creds + b"\r\n"), S(b"235 2.7.0 ok\r\n")
    ).run()
    for events, ts in ((inline, 3.0), (continued, 3.0)):
        assert auths(events) == [
            AuthFinished(
                ts=ts,
                mechanism="PLAIN",
                username="123456789@aol.com",
                secret=Secret("1234567"),
                outcome=Outcome.SUCCESS,
                reply_code=235,
                reply_text="2.7.0 ok",
            )
        ]
    empty = Script(*HELLO, C(b"AUTH PLAIN =\r\n"), S(b"535 5.7.8 bad\r\n")).run()
    assert [(a.username, a.outcome, a.flags) for a in auths(empty)] == [
        (None, Outcome.FAILURE, ("empty-response",))
    ]


def test_plain_with_authzid_only() -> None:
    events = Script(*HELLO, C(b"AUTH PLAIN dXNlcm5hbWUAAHBhc3N3b3Jk\r\n"), S(b"235 Okay\r\n")).run()
    (attempt,) = auths(events)
    assert (attempt.username, attempt.authzid, attempt.secret, attempt.flags) == (
        "username",
        "username",
        Secret("password"),
        ("empty-authcid",),
    )


def test_cram_md5() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH CRAM-MD5\r\n"),
        S(b"334 " + CRAM_CHALLENGE + b"\r\n"),
        C(CRAM_RESPONSE + b"\r\n"),
        S(b"235 Okay\r\n"),
    ).run()
    (attempt,) = auths(events)
    assert attempt.username == "username"
    assert attempt.secret == Secret(
        f"$cram_md5${CRAM_CHALLENGE.decode()}${CRAM_RESPONSE.decode()}", SecretKind.CRAM_MD5
    )
    assert attempt.outcome is Outcome.SUCCESS


def test_ntlm_without_initial_response() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH NTLM\r\n"),
        S(b"334 \r\n"),
        C(CORPUS_TYPE1 + b"\r\n"),
        S(b"334 " + CORPUS_TYPE2 + b"\r\n"),
        C(CORPUS_TYPE3 + b"\r\n"),
        S(b"235 Authentication successful\r\n"),
        C(b"QUIT\r\n"),
    ).run()
    assert auths(events) == [
        AuthFinished(
            ts=3.0,
            mechanism="NTLM",
            username="SMTPDOM\\jack",
            secret=Secret(CORPUS_V1_LINE, SecretKind.NETNTLMV1),
            outcome=Outcome.SUCCESS,
            reply_code=235,
            reply_text="Authentication successful",
        )
    ]


def test_ntlm_with_initial_response() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH NTLM " + CORPUS_TYPE1 + b"\r\n"),
        S(b"334 " + CORPUS_TYPE2 + b"\r\n"),
        C(CORPUS_TYPE3 + b"\r\n"),
        S(b"535 5.7.3 Authentication unsuccessful\r\n"),
    ).run()
    (attempt,) = auths(events)
    assert (attempt.username, attempt.outcome) == ("SMTPDOM\\jack", Outcome.FAILURE)


def test_digest_md5_with_rspauth_round() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH DIGEST-MD5\r\n"),
        S(b"334 " + b64(DIGEST_CHALLENGE) + b"\r\n"),
        C(b64(DIGEST_RESPONSE) + b"\r\n"),
        S(b"334 " + b64("rspauth=00") + b"\r\n"),
        C(b"\r\n"),
        S(b"235 2.0.0 OK\r\n"),
    ).run()
    (attempt,) = auths(events)
    assert (attempt.username, attempt.secret, attempt.outcome) == (
        "chris",
        Secret(DIGEST_LINE, SecretKind.DIGEST_MD5),
        Outcome.SUCCESS,
    )


def test_scram_and_oauth() -> None:
    scram = Script(
        *HELLO,
        C(b"AUTH SCRAM-SHA-1 " + b64("n,,n=user,r=abc") + b"\r\n"),
        S(b"334 " + b64("r=abcdef,s=QSXCR+Q6sek8bf92,i=4096") + b"\r\n"),
        C(b64("c=biws,r=abcdef,p=AAAA") + b"\r\n"),
        S(b"535 5.7.8 no\r\n"),
    ).run()
    (attempt,) = auths(scram)
    assert (attempt.mechanism, attempt.username, attempt.outcome) == (
        "SCRAM-SHA-1",
        "user",
        Outcome.FAILURE,
    )
    assert attempt.secret is not None and attempt.secret.kind is SecretKind.SCRAM
    xoauth = Script(
        *HELLO,
        C(b"AUTH XOAUTH2 " + b64("user=a@b.c\x01auth=Bearer tok\x01\x01") + b"\r\n"),
        S(b"235 2.7.0 Accepted\r\n"),
    ).run()
    assert [(a.username, a.secret) for a in auths(xoauth)] == [
        ("a@b.c", Secret("tok", SecretKind.BEARER_TOKEN))
    ]


def test_gssapi_and_unknown_mechanisms() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH GSSAPI\r\n"),
        S(b"334 \r\n"),
        C(b64(b"\x60\x82krb") + b"\r\n"),
        S(b"334 " + b64(b"\x60token") + b"\r\n"),
        C(b"\r\n"),
        S(b"235 ok\r\n"),
        C(b"AUTH X-FOO\r\n"),
        S(b"504 5.5.4 Unrecognized authentication type\r\n"),
    ).run()
    assert [(a.mechanism, a.outcome, a.flags) for a in auths(events)] == [
        ("GSSAPI", Outcome.SUCCESS, ("not-decoded",)),
        ("X-FOO", Outcome.REJECTED, ("unknown-mechanism",)),
    ]


def test_503_is_rejected_and_cancel_is_cancelled() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH LOGIN\r\n"),
        S(b"503 AUTH command used when not advertised\r\n"),
        C(b"AUTH LOGIN\r\n"),
        S(b"334 VXNlcm5hbWU6\r\n"),
        C(b"*\r\n"),
        S(b"501 5.7.0 Authentication cancelled\r\n"),
        C(b"AUTH PLAIN\r\n"),
        S(b"454 4.7.0 Temporary authentication failure\r\n"),
    ).run()
    assert [(a.outcome, a.reply_code, a.reply_text, a.username) for a in auths(events)] == [
        (Outcome.REJECTED, 503, "AUTH command used when not advertised", None),
        (Outcome.CANCELLED, 501, "5.7.0 Authentication cancelled", None),
        (Outcome.REJECTED, 454, "4.7.0 Temporary authentication failure", None),
    ]


def test_qmail_235_failure_quirk() -> None:
    events = Script(*HELLO, *login(), S(b"235 auth failure\r\n")).run()
    (attempt,) = auths(events)
    assert (attempt.outcome, attempt.flags) == (Outcome.FAILURE, ("qmail-235-failure",))


def test_failure_then_retry_in_one_session() -> None:
    events = Script(
        *HELLO,
        *login("bob", "wrong"),
        S(
            b"535-5.7.8 Username and Password not accepted.\r\n"
            b"535 5.7.8 Learn more at https://support.example\r\n"
        ),
        *login("bob", "right"),
        S(b"235 2.7.0 Accepted\r\n"),
    ).run()
    assert [(a.ts, a.secret, a.outcome, a.reply_text) for a in auths(events)] == [
        (3.0, Secret("wrong"), Outcome.FAILURE, "5.7.8 Learn more at https://support.example"),
        (9.0, Secret("right"), Outcome.SUCCESS, "2.7.0 Accepted"),
    ]


def test_no_reply_is_unknown() -> None:
    events = Script(*HELLO, *login()).run()
    assert [(a.username, a.secret, a.outcome, a.reply_code, a.flags) for a in auths(events)] == [
        ("galunt", Secret("V1v1tr0n"), Outcome.UNKNOWN, None, ("no-server-reply",))
    ]


def test_quit_answering_a_334_is_the_user_name() -> None:
    events = Script(
        GREETING,
        EHLO,
        EHLO_REPLY,
        C(b"AUTH LOGIN\r\n"),
        S(b"334 VXNlcm5hbWU6\r\n"),
        C(b"QUIT\r\n"),
        S(b"334 UGFzc3dvcmQ6\r\n"),
    ).run()
    assert auths(events) == [
        AuthFinished(
            ts=3.0,
            mechanism="LOGIN",
            username="\\x41\\x42\\x13",
            outcome=Outcome.UNKNOWN,
            flags=("incomplete",),
        )
    ]


def test_server_334_captured_after_the_client_answer() -> None:
    # The client's answers are on the wire before the server's prompts: pairing is by order.
    events = Script(
        *HELLO,
        C(b"AUTH LOGIN\r\n"),
        C(b64("skewed") + b"\r\n"),
        C(b64("pw") + b"\r\n"),
        S(b"334 VXNlcm5hbWU6\r\n"),
        S(b"334 UGFzc3dvcmQ6\r\n"),
        S(b"235 ok\r\n"),
    ).run()
    assert [(a.username, a.secret, a.outcome) for a in auths(events)] == [
        ("skewed", Secret("pw"), Outcome.SUCCESS)
    ]


def test_pipelined_commands_and_multi_line_replies() -> None:
    events = Script(
        GREETING,
        C(
            b"EHLO a\r\nAUTH PLAIN "
            + b64("\x00u\x00p")
            + b"\r\nMAIL FROM:<u@a>\r\nRCPT TO:<v@b>\r\n"
        ),
        S(b"250-mx\r\n250-PIPELINING\r\n250 AUTH PLAIN\r\n235 2.7.0 ok\r\n250 ok\r\n250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 go\r\n"),
        C(b"Subject: x\r\n\r\nAUTH PLAIN AGJvYgBwdw==\r\n.\r\n"),
        S(b"250 queued\r\n"),
    ).run()
    assert [(a.username, a.outcome) for a in auths(events)] == [("u", Outcome.SUCCESS)]


def test_data_bodies_full_of_credentials_give_nothing() -> None:
    body = b"".join(b64(w) + b"\r\n" for w in ("user@example.com", "Password1", "admin")) * 50
    body += b"AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n" + b64("fake") + b"\r\n..\r\n"
    events = Script(
        *HELLO,
        C(b"MAIL FROM:<a@b>\r\n"),
        S(b"250 ok\r\n"),
        C(b"RCPT TO:<c@d>\r\n"),
        S(b"250 ok\r\n"),
        C(b"DATA\r\n"),
        S(b"354 End data with <CR><LF>.<CR><LF>\r\n"),
        C(body + b".\r\n"),
        S(b"250 queued\r\n"),
        C(b"QUIT\r\n"),
        S(b"221 bye\r\n"),
    ).run()
    assert events == []


def test_refused_data_keeps_reading_commands() -> None:
    events = Script(
        *HELLO,
        C(b"DATA\r\n"),
        S(b"503 5.5.1 need MAIL\r\n"),
        C(b"AUTH PLAIN " + b64("\x00u\x00p") + b"\r\n"),
        S(b"235 ok\r\n"),
    ).run()
    assert [a.username for a in auths(events)] == ["u"]


def test_bdat_chunks_are_skipped_by_count() -> None:
    chunk = b"AUTH PLAIN " + b64("\x00fake\x00fake") + b"\r\nQUIT\r\n"
    events = Script(
        *HELLO,
        C(b"MAIL FROM:<a@b>\r\n"),
        C(b"RCPT TO:<c@d>\r\n"),
        C(b"BDAT %d\r\n" % len(chunk) + chunk),
        C(b"BDAT 0 LAST\r\n"),
        S(b"250 ok\r\n250 ok\r\n250 chunk\r\n250 done\r\n"),
        C(b"AUTH PLAIN " + b64("\x00real\x00pw") + b"\r\n"),
        S(b"235 ok\r\n"),
    ).run()
    assert [(a.username, a.outcome) for a in auths(events)] == [("real", Outcome.SUCCESS)]


def test_starttls_accepted_hides_the_rest() -> None:
    hello = record(0x16, client_hello("mx.example.com"))
    events = Script(
        *HELLO,
        C(b"STARTTLS\r\n"),
        S(b"220 2.0.0 Ready to start TLS\r\n"),
        C(hello + b"AUTH PLAIN " + b64("\x00tls\x00pw") + b"\r\n"),
        S(b"\x16\x03\x03\x00\x10" + bytes(16) + b"\r\n235 ok\r\n"),
    ).run()
    assert events == [
        TlsStarted(
            ts=4.0, reply_code=220, reply_text="2.0.0 Ready to start TLS", sni="mx.example.com"
        )
    ]


def test_starttls_refused_continues_in_clear() -> None:
    events = Script(
        *HELLO,
        C(b"STARTTLS\r\n"),
        S(b"454 4.7.0 TLS not available\r\n"),
        *login(),
        S(b"235 ok\r\n"),
    ).run()
    assert [(type(e).__name__, getattr(e, "tls", None)) for e in events] == [
        ("AuthFinished", False)
    ]


def test_decrypted_capture_continues_after_starttls() -> None:
    events = Script(
        *HELLO,
        C(b"STARTTLS\r\n"),
        S(b"220 2.0.0 SMTP server ready\r\n"),
        C(b"EHLO client.example\r\n"),
        S(b"250-mx\r\n250 AUTH LOGIN\r\n"),
        *login(),
        S(b"235 ok\r\n"),
    ).run()
    assert tls_events(events) == [
        TlsStarted(
            ts=4.0, reply_code=220, reply_text="2.0.0 SMTP server ready", cleartext_after=True
        )
    ]
    assert [(a.username, a.tls) for a in auths(events)] == [("galunt", True)]


def test_mixed_case_pipelined_bare_lf_starttls() -> None:
    events = Script(C(b"EHLO\nrset\nstaRttLs\n"), S(b"250\n250\n220\n"), greeting=False).run()
    assert events == [TlsStarted(ts=1.0, reply_code=220, reply_text="")]


def test_missing_greeting_is_detected_from_the_first_reply() -> None:
    events = Script(C(b"EHLO\nrset\nstaRttLs\n"), S(b"250\n250\n220\n")).run()
    assert events == [TlsStarted(ts=1.0, reply_code=220, reply_text="")]


def test_one_sided_client_capture() -> None:
    events = Script(
        C(b"EHLO a\r\nAUTH LOGIN\r\n"),
        C(b64("galunt") + b"\r\n" + b64("V1v1tr0n") + b"\r\n"),
        C(b"MAIL FROM:<a@b>\r\nDATA\r\n"),
        C(b"Z2FsdW50\r\nVjF2MXRyMG4=\r\n.\r\n"),
        C(b"AUTH PLAIN " + b64("\x00second\x00pw") + b"\r\nQUIT\r\n"),
    ).run()
    assert [(a.ts, a.username, a.secret, a.outcome, a.flags) for a in auths(events)] == [
        (0.0, "galunt", Secret("V1v1tr0n"), Outcome.UNKNOWN, ("no-server-reply",)),
        (4.0, "second", Secret("pw"), Outcome.UNKNOWN, ("no-server-reply",)),
    ]


def test_client_only_login_cut_short_by_a_command() -> None:
    events = Script(C(b"EHLO a\r\nAUTH LOGIN\r\n" + b64("user") + b"\r\nQUIT\r\n")).run()
    assert [(a.username, a.secret, a.flags) for a in auths(events)] == [
        ("user", None, ("no-server-reply", "incomplete"))
    ]


def test_unusable_server_stream_falls_back_to_the_client() -> None:
    events = Script(
        S(b"220 smtp001.mail.example.com ESMTP\r\n" + b"A" * 4964),
        C(b"EHLO Percival\r\n"),
        C(b"AUTH LOGIN\r\n"),
        C(b"Z2FsdW50\r\n"),
        C(b"VjF2MXRyMG4=\r\n"),
        C(b"MAIL FROM: <x@y>\r\n"),
        C(b"DATA\r\n"),
        C(b"body\r\n" + b64("fake") + b"\r\n.\r\n"),
    ).run()
    assert [(a.username, a.secret, a.outcome, a.flags) for a in auths(events)] == [
        ("galunt", Secret("V1v1tr0n"), Outcome.UNKNOWN, ("no-server-reply",))
    ]
    assert notes(events) == [
        "server sent a line that is not an SMTP reply; following the client alone"
    ]


def test_lenient_base64_is_reported() -> None:
    events = Script(
        *HELLO,
        C(b"AUTH LOGIN\r\n"),
        S(b"334 VXNlcm5hbWU6\r\n"),
        C(b"Ym9i\r\n"),
        S(b"334 UGFzc3dvcmQ6\r\n"),
        C(b"cHc\r\n"),
        S(b"235 ok\r\n"),
    ).run()
    assert [(a.username, a.secret, a.flags) for a in auths(events)] == [
        ("bob", Secret("pw"), ("lenient-base64",))
    ]


def test_socks_prefix_is_skipped() -> None:
    events = Script(
        C(b"\x05\x01\x00\x05\x01\x00\x03\x0e010.000.00.003\x00\x19EHLO User\r\nAUTH LOGIN\r\n"),
        S(
            b"\x05\x00\x05\x00\x00\x01\x0a\x00\x00\x01\xd1\xcd220 x ESMTP Exim 4.80\r\n"
            b"250-x Hello\r\n250 HELP\r\n503 AUTH command used when not advertised\r\n"
        ),
        client_skip=24,
        server_skip=12,
    ).run()
    assert [(a.mechanism, a.outcome, a.reply_code) for a in auths(events)] == [
        ("LOGIN", Outcome.REJECTED, 503)
    ]


def test_state_after_a_plain_session() -> None:
    feed = Script(*HELLO, C(b"QUIT\r\n")).feeds()["as written"]
    session = SmtpSession()
    for direction, data, ts in feed:
        session.receive_data(direction, data, ts)
    assert (session.state, session.server_usable) == (State.COMMAND, True)
    session.close(9.0)
    assert session.state is State.CLOSED
