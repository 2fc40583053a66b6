"""The syslog envelope: every header variant, garbage, and fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.logs.syslog import Envelope, parse_line
from authaudit.logs.timestamps import Yearless

PLUS1 = timezone(timedelta(hours=1))


def _yearless(
    host: str | None, program: str | None, pid: int | None, message: str, stamp: Yearless
) -> Envelope:
    return Envelope(None, host, program, pid, message, "yearless", stamp)


CASES: list[tuple[str, Envelope]] = [
    (
        "Oct 13 20:41:03 custhost1 postfix/smtpd[5331]: 123A51E01CDD: client=unknown[1.2.3.4]",
        _yearless("custhost1", "postfix/smtpd", 5331, "123A51E01CDD: client=unknown[1.2.3.4]",
                  Yearless(10, 13, 20, 41, 3)),
    ),
    (  # space-padded day, submission instance
        "Jan  3 06:22:09 mail postfix/submission/smtpd[5973]: warning: x",
        _yearless("mail", "postfix/submission/smtpd", 5973, "warning: x", Yearless(1, 3, 6, 22, 9)),
    ),
    (  # Postfix's own logger: zero-padded day; empty message
        "Mar 07 10:00:00 mail postfix/qmgr[1]:",
        _yearless("mail", "postfix/qmgr", 1, "", Yearless(3, 7, 10, 0, 0)),
    ),
    (  # unpadded day, no pid
        "Jun 9 01:02:03 web courieresmtpd: error,relay=::ffff:1.2.3.4",
        _yearless("web", "courieresmtpd", None, "error,relay=::ffff:1.2.3.4",
                  Yearless(6, 9, 1, 2, 3)),
    ),
    (  # BSD syslogd -v and -vv tokens
        "Apr  2 17:51:27 <4.3> pancake sshd[55624]: Invalid user",
        _yearless("pancake", "sshd", 55624, "Invalid user", Yearless(4, 2, 17, 51, 27)),
    ),
    (
        "Mar 19 23:48:18 <auth.info> pancake sshd[55517]: x",
        _yearless("pancake", "sshd", 55517, "x", Yearless(3, 19, 23, 48, 18)),
    ),
    (  # journalctl -o short-precise
        "Jan 05 10:00:00.123456 mail dovecot[12]: imap-login: Login",
        _yearless("mail", "dovecot", 12, "imap-login: Login", Yearless(1, 5, 10, 0, 0, 123456)),
    ),
    (  # no host (Dovecot log_path)
        "Jan 29 09:33:58 pop3-login: Info: Aborted login",
        _yearless(None, "pop3-login", None, "Info: Aborted login", Yearless(1, 29, 9, 33, 58)),
    ),
    (  # Dovecot 2.x log_path: level word first
        "Jun 23 15:04:05 Info: imap-login: Login: user=<a>",
        _yearless(None, "imap-login", None, "Login: user=<a>", Yearless(6, 23, 15, 4, 5)),
    ),
    (  # qmail through splogger
        "Sep  6 07:33:33 sd6 qmail: 1157520813.485077 rblsmtpd: x",
        _yearless("sd6", "qmail", None, "1157520813.485077 rblsmtpd: x", Yearless(9, 6, 7, 33, 33)),
    ),
    (  # rsyslog RSYSLOG_FileFormat
        "2024-01-05T10:00:00.123456+01:00 mail postfix/submission/smtpd[32860]: B06C: client=x",
        Envelope(datetime(2024, 1, 5, 10, 0, 0, 123456, tzinfo=PLUS1), "mail",
                 "postfix/submission/smtpd", 32860, "B06C: client=x"),
    ),
    (  # journalctl short-iso: no colon in the offset
        "2023-01-01T10:00:00+0100 h dovecot: x",
        Envelope(datetime(2023, 1, 1, 10, 0, tzinfo=PLUS1), "h", "dovecot", None, "x"),
    ),
    (  # Z and nanoseconds (truncated to microseconds)
        "2024-08-26T01:33:38.572449123Z machine postfix/smtpd[60203]: NOQUEUE: reject",
        Envelope(datetime(2024, 8, 26, 1, 33, 38, 572449, tzinfo=UTC), "machine",
                 "postfix/smtpd", 60203, "NOQUEUE: reject"),
    ),
    (  # ISO without an offset: naive
        "2024-08-26T01:33:38 machine qmail-smtpd[7]: pid 100 Accept::AUTH::plain",
        Envelope(datetime(2024, 8, 26, 1, 33, 38), "machine", "qmail-smtpd", 7,
                 "pid 100 Accept::AUTH::plain"),
    ),
    (  # macOS unified log: space separator with an offset
        "2016-10-15 14:12:29.250063+0100 localhost log[64346]: (libdovecot.0.dylib) imap-login",
        Envelope(datetime(2016, 10, 15, 14, 12, 29, 250063, tzinfo=PLUS1), "localhost", "log",
                 64346, "(libdovecot.0.dylib) imap-login"),
    ),
    (  # Exim main log
        "2019-02-14 06:42:41 1guGLh-001ONk-GU <= a@b.example H=(x) [192.0.2.1] P=esmtpa A=login:u",
        Envelope(datetime(2019, 2, 14, 6, 42, 41), None, "exim", None,
                 "1guGLh-001ONk-GU <= a@b.example H=(x) [192.0.2.1] P=esmtpa A=login:u"),
    ),
    (  # Exim with milliseconds
        "2023-05-30 06:10:13.345 login authenticator failed for (x) [1.2.3.4]: 535 Incorrect",
        Envelope(datetime(2023, 5, 30, 6, 10, 13, 345000), None, "exim", None,
                 "login authenticator failed for (x) [1.2.3.4]: 535 Incorrect"),
    ),
    (  # Exim with a pid
        "2013-06-10 18:33:32 [10099] H=(x) [1.2.3.4]: 535 Incorrect",
        Envelope(datetime(2013, 6, 10, 18, 33, 32), None, "exim", 10099,
                 "H=(x) [1.2.3.4]: 535 Incorrect"),
    ),
    (  # ISO date with a syslog host and program (fail2ban exim sample)
        "2019-10-22 03:39:17 mx1.fqdn.local exim[29786]: dovecot_login authenticator failed",
        Envelope(datetime(2019, 10, 22, 3, 39, 17), "mx1.fqdn.local", "exim", 29786,
                 "dovecot_login authenticator failed"),
    ),
    (  # ISO date, no host (Dovecot)
        "2013-08-11 03:56:40 auth-worker(default): Info: pam(u,1.2.3.4): failed",
        Envelope(datetime(2013, 8, 11, 3, 56, 40), None, "auth-worker(default)", None,
                 "Info: pam(u,1.2.3.4): failed"),
    ),
    (  # Dovecot 2.3 tag with ":" in parentheses and a session id
        "Aug 30 00:10:57 auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95U>: Info: sql: x",
        _yearless(None, "auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95U>", None,
                  "Info: sql: x", Yearless(8, 30, 0, 10, 57)),
    ),
    (  # Exim ACL logwrite: not a Dovecot tag
        "1999-03-02 09:44:33 acl_c0: 'userx'",
        Envelope(datetime(1999, 3, 2, 9, 44, 33), None, "exim", None, "acl_c0: 'userx'"),
    ),
    (  # Exim message id: not a host
        "2013-12-30 00:24:50 1VxPit-000MMd-U4 SA: Action: flagged as Spam",
        Envelope(datetime(2013, 12, 30, 0, 24, 50), None, "exim", None,
                 "1VxPit-000MMd-U4 SA: Action: flagged as Spam"),
    ),
    (  # journal line without a timestamp; Exim's inner timestamp wins
        "mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator failed",
        Envelope(datetime(2021, 7, 17, 23, 20, 49), "mail.example.com", "exim", 3751842,
                 "plain_server authenticator failed"),
    ),
    (  # Exim under syslog with an inner timestamp
        "Jul 17 23:20:50 mail exim[3]: 2021-07-17 23:20:49 H=x",
        Envelope(datetime(2021, 7, 17, 23, 20, 49), "mail", "exim", 3, "H=x"),
    ),
    (  # journal line without a timestamp (other programs)
        "mail.example.com postfix/smtpd[1]: connect from x",
        Envelope(None, "mail.example.com", "postfix/smtpd", 1, "connect from x", "no timestamp"),
    ),
    (  # TAI64N (multilog) with a program prefix
        "@400000006597d32a075bcd15 imap-login: Info: Aborted login",
        Envelope(datetime(2024, 1, 5, 10, 0, 0, 123456, tzinfo=UTC), None, "imap-login", None,
                 "Info: Aborted login"),
    ),
    (  # TAI64N without a program
        "@400000006597d32a00000000 delivery 7: success: did_1+0+0/",
        Envelope(datetime(2024, 1, 5, 10, 0, tzinfo=UTC), None, None, None,
                 "delivery 7: success: did_1+0+0/"),
    ),
    (  # docker compose prefix
        "mailcow-postfix-mailcow-1     | Jul  3 01:26:53 eb54 postfix/submission/smtpd[440]: x",
        _yearless("eb54", "postfix/submission/smtpd", 440, "x", Yearless(7, 3, 1, 26, 53)),
    ),
    (  # RFC 5424
        "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed",
        Envelope(datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC), "mymachine.example.com",
                 "su", None, "'su root' failed"),
    ),
    (
        '<165>1 2003-08-24T05:14:15.000003-07:00 host evntslog 8710 ID47 [a b="c\\]"][d] msg',
        Envelope(datetime(2003, 8, 24, 5, 14, 15, 3, tzinfo=timezone(timedelta(hours=-7))),
                 "host", "evntslog", 8710, "msg"),
    ),
]


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_header_variants(line: str, expected: Envelope) -> None:
    assert parse_line(line) == expected
    assert parse_line(line.encode() + b"\r\n") == expected


def test_program_for_lines_without_one() -> None:
    tai = parse_line(b"@400000006597d32a00000000 delivery 7: success", program="qmail-send")
    assert tai is not None and tai.program == "qmail-send"
    local = parse_line("2002-09-17 06:35:15.334422 starting delivery 1: msg 16799625", "qmail")
    assert local == Envelope(datetime(2002, 9, 17, 6, 35, 15, 334422), None, "qmail", None,
                             "starting delivery 1: msg 16799625")


def test_undecodable_bytes_are_kept() -> None:
    env = parse_line(b"Jan  1 00:00:00 h postfix/smtpd[1]: helo=<\xff\xfe>\n")
    assert env is not None
    assert env.message.encode("utf-8", "surrogateescape") == b"helo=<\xff\xfe>"


def test_cached_stamp_does_not_change_results() -> None:
    line = "Feb  2 02:02:02 h p[1]: m"
    assert parse_line(line) == parse_line(line) == _yearless("h", "p", 1, "m",
                                                             Yearless(2, 2, 2, 2, 2))
    assert parse_line("Feb  2 02:02:02 no tag here") is None


@pytest.mark.parametrize(
    "line",
    [
        "",
        "\n",
        "garbage",
        "# failJSON: { \"time\": \"2005-06-21T16:47:48\" }",
        "Foo 13 20:41:03 host prog[1]: bad month",
        "Jan 32 20:41:03 host prog[1]: bad day",
        "Jan 13 25:41:03 host prog[1]: bad hour",
        "Jan 13 20:41:03 host prog with spaces: no tag",
        "Jan 13 20:41:03",
        "2024-01-05T10:00:00+01:00 no tag here",
        "@4000zz 1",
        "<34>1 bad",
        "1234",
    ],
)
def test_garbage_gives_none(line: str) -> None:
    assert parse_line(line) is None


def test_invalid_dates_keep_the_line() -> None:
    assert parse_line("2024-02-30 10:00:00 H=x") == Envelope(
        None, None, "exim", None, "H=x", "invalid date"
    )
    for bad in ("2024-13-05T10:00:00+01:00", "2024-01-05T10:00:00+25:00"):
        assert parse_line(bad + " h prog: x") == Envelope(None, "h", "prog", None, "x",
                                                          "invalid date")
    tai = parse_line("@ffffffffffffffff00000000 prog: x")
    assert tai == Envelope(None, None, "prog", None, "x", "invalid date")


_PREFIXES = st.sampled_from(
    [b"", b"Jan  1 00:00:00 ", b"2024-01-05T10:00:00+01:00 ", b"2024-01-05 10:00:00 ",
     b"@400000006597d32a00000000 ", b"<1>1 ", b"x | ", b"Dec 31 23:59:60 h "]
)


@given(prefix=_PREFIXES, body=st.binary(max_size=200))
def test_fuzz_any_bytes(prefix: bytes, body: bytes) -> None:
    env = parse_line(prefix + body)
    assert env is None or isinstance(env, Envelope)


@given(st.text(max_size=200))
def test_fuzz_any_text(text: str) -> None:
    env = parse_line(text)
    assert env is None or isinstance(env, Envelope)


def test_non_ascii_digits_are_not_numbers() -> None:
    assert parse_line("Jan \u0663 00:00:00 h p[1]: x") is None
    assert parse_line("Jan  3 00:00:00 h p[\u0661]: x") is None


_PIECES = st.sampled_from(["mail", "mx.example.org", "postfix/smtpd", "prog[12]", "x[", "]",
                           ":", ": ", " ", "(a)", "<s>", "exim", "Info", "[1]", "a:b", "-",
                           "q", "\t", "[12345678901]"])


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_fast_header_split_agrees_with_the_regex(tail: str) -> None:
    from authaudit.logs.syslog import _fast_tail, _tail
    from authaudit.logs.timestamps import Yearless

    stamp = Yearless(1, 3, 6, 22, 9, 0)
    line = "Jan  3 06:22:09 " + tail
    fast = _fast_tail(stamp, line)
    if fast is not None:
        assert fast == _tail(None, "yearless", stamp, line, 16)
