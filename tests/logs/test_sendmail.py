"""sendmail: AUTH successes joined by (host, pid) to messages, deliveries, AUTH failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from authaudit.logs.interface import NOTHING, LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.scan import scan_logs
from authaudit.logs.sendmail import SendmailParser
from authaudit.logs.syslog import Envelope
from authaudit.model import Delivery, LoginEvent, LoginKind, RelayedMessage, RelayVia
from tests.logs.samples import SHARED, feed_lines, needs_shared, record_of

FAIL2BAN = SHARED / "fail2ban"
T0 = datetime(2024, 12, 6, 14, 6, 32, tzinfo=UTC)

# Built from the reference's quoted sonic.net lines (section 2.4): the AUTH line and the from=
# line of the same smtpd child, and a delivery by a queue runner (another pid).
AUTH = ("Dec  6 14:06:32 a.mail.sonic.net sm-mta[9738]: AUTH=server, relay=173-228-127-4.dsl."
        "dynamic.sonic.net [173.228.127.4] (may be forged), authid=augie, mech=PLAIN, bits=0")
FROM = ("Dec  6 14:06:33 a.mail.sonic.net sm-mta[9738]: qB6M6WXx009738: from=<augie@corp.sonic"
        ".net>, size=1391, class=0, nrcpts=2, msgid=<509AD829.8000902@corp.sonic.net>, "
        "proto=ESMTP, daemon=MSA, relay=173-228-127-4.dsl.dynamic.sonic.net [173.228.127.4] "
        "(may be forged)")
TO_1 = ("Dec  6 14:06:34 a.mail.sonic.net sm-mta[9740]: qB6M6WXx009738: to=<friend@example.com>,"
        "<other@example.org>, delay=00:00:08, xdelay=00:00:01, mailer=esmtp, pri=1322505, "
        "relay=aspmx.l.google.com. [173.194.79.26], dsn=4.0.0, stat=Deferred: Connection timed "
        "out with aspmx.l.google.com.")
TO_2 = ("Dec  6 15:06:34 a.mail.sonic.net sm-mta[9801]: qB6M6WXx009738: to=<friend@example.com>,"
        "<other@example.org>, delay=01:00:08, xdelay=00:00:01, mailer=esmtp, pri=1322505, "
        "relay=aspmx.l.google.com. [173.194.79.26], dsn=2.0.0, stat=Sent (OK 1352754085 "
        "j9si11007854paw.67)")


def _record(line: str, lineno: int, when: datetime) -> LogRecord:
    return record_of(line, lineno, when)


def _run(lines: list[str], parser: SendmailParser | None = None,
         step: timedelta = timedelta(seconds=1)) -> tuple[list[LogEvent], SendmailParser]:
    parser = parser or SendmailParser()
    return feed_lines(parser, lines, T0, step), parser


def _messages(events: list[LogEvent]) -> list[RelayedMessage]:
    return [e for e in events if isinstance(e, RelayedMessage)]


def _logins(events: list[LogEvent]) -> list[LoginEvent]:
    return [e for e in events if isinstance(e, LoginEvent)]


@needs_shared
def test_fail2ban_sendmail_auth() -> None:
    path = FAIL2BAN / "sendmail-auth.log"
    parser = SendmailParser()
    events: list[LogEvent] = []
    stats = scan_logs([path], [parser], events.append)
    assert dict(stats.unknown) == {} and stats.by_parser["sendmail"] == 13
    # grep -c "AUTH failure" = 7, grep -c "possible SMTP attack: command=AUTH" = 6
    logins = _logins(events)
    assert len(events) == len(logins) == 7
    assert parser.counters == {"auth_attack_warnings": 6}
    hosts: dict[int, str] = {}
    pending = None
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# failJSON:"):
            pending = json.loads(line[11:])["host"]
        elif line.strip() and not line.startswith("#"):
            hosts[lineno], pending = str(pending), None
    assert all(e.client_ip == hosts[e.lineno] for e in logins)
    by_line = {e.lineno: e for e in logins}
    assert (by_line[22].user, by_line[22].method, by_line[22].kind) == (
        "user@example.com", "LOGIN", LoginKind.FAILURE)
    assert by_line[22].reason == (
        "authentication failure (-13) SASL(-13): authentication failure: checkpass failed")
    # the user name carries a fake relay; the real one is the last
    assert (by_line[24].user, by_line[24].client_ip) == (
        "criminal, relay=[192.0.2.100]", "192.0.2.4")
    assert [(by_line[n].kind, by_line[n].user, by_line[n].method) for n in (27, 29)] == [
        (LoginKind.UNKNOWN_USER, "scanner", "DIGEST-MD5"),
        (LoginKind.UNKNOWN_USER, "scan", "CRAM-MD5"),
    ]
    assert by_line[32].method == "LOGIN"  # logged as "(login)"
    assert by_line[36].user is None
    assert {(e.service, e.daemon) for e in logins} == {("smtp", "sendmail")}


@needs_shared
def test_fail2ban_sendmail_reject() -> None:
    parser = SendmailParser()
    events: list[LogEvent] = []
    stats = scan_logs([FAIL2BAN / "sendmail-reject.log"], [parser], events.append)
    assert dict(stats.unknown) == {} and stats.by_parser["sendmail"] == 45  # all 45 lines
    assert events == []  # rejects; the three from= lines have nrcpts=0
    assert parser.counters == {"refused_envelopes": 3}


def test_auth_session_joins_the_message_and_deliveries_complete_it() -> None:
    events, parser = _run([AUTH, FROM, TO_1, TO_2])
    login, message = events
    assert isinstance(login, LoginEvent) and isinstance(message, RelayedMessage)
    assert (login.kind, login.user, login.client_ip, login.method, login.service) == (
        LoginKind.SUCCESS, "augie", "173.228.127.4", "PLAIN", "smtp")
    assert login.line == AUTH[33:]
    assert (message.via, message.user, message.client_ip, message.sender) == (
        RelayVia.AUTH, "augie", "173.228.127.4", "augie@corp.sonic.net")
    assert (message.queue_id, message.lineno, message.daemon) == ("qB6M6WXx009738", 2, "sendmail")
    relay = "aspmx.l.google.com. [173.194.79.26]"
    assert message.deliveries == (
        Delivery(recipient="friend@example.com", status="sent", time=T0 + timedelta(seconds=4),
                 relay=relay),
        Delivery(recipient="other@example.org", status="sent", time=T0 + timedelta(seconds=4),
                 relay=relay),
    )
    assert message.lines == (FROM[33:], TO_1[33:], TO_2[33:])
    assert parser.flush() == [] and parser.skipped() == []


def test_session_needs_same_address_and_recent_auth() -> None:
    other_ip = FROM.replace("[173.228.127.4] (may be forged)", "[192.0.2.50]")
    events, _ = _run([AUTH, other_ip, TO_2])
    assert [(m.via, m.user, m.client_ip) for m in _messages(events)] == [
        (RelayVia.NETWORK, None, "192.0.2.50")]
    events, _ = _run([AUTH, FROM], step=timedelta(hours=2))  # pid reused much later
    assert _messages(events) == []
    events, parser = _run([AUTH, FROM], step=timedelta(hours=2))
    assert [(m.via, m.user) for m in _messages(list(parser.flush()))] == [(RelayVia.NETWORK, None)]
    # proto=ESMTPSA with no AUTH line seen: authenticated, identity unknown
    events, parser = _run([FROM.replace("proto=ESMTP", "proto=ESMTPSA")])
    assert [(m.via, m.user) for m in _messages(list(parser.flush()))] == [(RelayVia.AUTH, None)]


def test_local_submission_and_its_mta_copy_are_one_message() -> None:
    lines = [
        "Nov 12 10:00:00 host sendmail[1234]: qACA00Xx001234: from=root, size=123, class=0, "
        "nrcpts=1, msgid=<202411121000.qACA00Xx001234@host.example.com>, relay=root@localhost",
        "Nov 12 10:00:00 host sm-mta[1235]: qACA00Yy001235: from=<root@host.example.com>, "
        "size=456, class=0, nrcpts=1, msgid=<202411121000.qACA00Xx001234@host.example.com>, "
        "proto=ESMTP, daemon=MTA-v4, relay=localhost [127.0.0.1]",
        "Nov 12 10:00:00 host sendmail[1234]: qACA00Xx001234: to=user@example.com, "
        "ctladdr=root (0/0), delay=00:00:00, xdelay=00:00:00, mailer=relay, pri=30123, "
        "relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (qACA00Yy001235 Message accepted "
        "for delivery)",
        "Nov 12 10:00:01 host sm-mta[1236]: qACA00Yy001235: to=<user@example.com>, "
        "ctladdr=<root@host.example.com> (0/0), delay=00:00:01, xdelay=00:00:01, mailer=esmtp, "
        "pri=120456, relay=mx.example.com. [192.0.2.25], dsn=2.0.0, stat=Sent (OK id=1)",
    ]
    events, parser = _run(lines)
    assert len(events) == 1
    message = events[0]
    assert isinstance(message, RelayedMessage)
    assert (message.via, message.user, message.uid, message.client_ip) == (
        RelayVia.LOCAL, "root", 0, None)
    assert (message.queue_id, message.lineno, message.sender) == (
        "qACA00Yy001235", 1, "root@host.example.com")
    assert [(d.recipient, d.status, d.relay) for d in message.deliveries] == [
        ("user@example.com", "sent", "mx.example.com. [192.0.2.25]")]
    assert message.lines[0] == lines[0][21:] and len(message.lines) == 3
    assert parser.counters["handed_over"] == 1 and parser.flush() == []

    # without the msgid link (a custom Message-Id), "accepted for delivery" still joins them
    unlinked = [lines[0], lines[1].replace("202411121000.qACA00Xx001234", "custom-id"), *lines[2:]]
    events, _ = _run(unlinked)
    assert [(m.via, m.user, m.uid, m.queue_id) for m in _messages(events)] == [
        (RelayVia.LOCAL, "root", 0, "qACA00Yy001235")]


def test_content_filter_copy_keeps_the_authenticated_identity() -> None:
    # dual-MTA content filter: the filter re-injects on localhost before it answers 250
    filtered = TO_2.replace("relay=aspmx.l.google.com. [173.194.79.26], dsn=2.0.0, stat=Sent (OK "
                            "1352754085 j9si11007854paw.67)",
                            "relay=[127.0.0.1] [127.0.0.1], dsn=2.0.0, stat=Sent (2.0.0 from "
                            "MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 qB6M6WXy009750 Message "
                            "accepted for delivery)")
    reinjected = ("Dec  6 15:06:34 a.mail.sonic.net sm-mta[9750]: qB6M6WXy009750: from=<augie@"
                  "corp.sonic.net>, size=1500, class=0, nrcpts=2, msgid=<509AD829.8000902@corp."
                  "sonic.net>, proto=ESMTP, daemon=MTA, relay=localhost [127.0.0.1]")
    final = TO_2.replace("sm-mta[9801]: qB6M6WXx009738", "sm-mta[9751]: qB6M6WXy009750")
    events, parser = _run([AUTH, FROM, reinjected, filtered, final])
    (message,) = _messages(events)
    assert (message.via, message.user, message.client_ip, message.queue_id, message.lineno) == (
        RelayVia.AUTH, "augie", "173.228.127.4", "qB6M6WXy009750", 2)
    assert [(d.recipient, d.status) for d in message.deliveries] == [
        ("friend@example.com", "sent"), ("other@example.org", "sent")]
    assert parser.counters["handed_over"] == 2 and parser.flush() == []


def test_status_words_orphans_and_flush() -> None:
    base = ("Jan  1 00:00:00 h sm-mta[500]: zZ1000000000500: from=<a@x>, size=1, class=0, "
            "nrcpts=4, msgid=<m@x>, proto=SMTP, daemon=MTA, relay=[192.0.2.1]")
    to = ("Jan  1 00:00:01 h sm-mta[501]: zZ1000000000500: to={}, delay=00:00:01, mailer={}, "
          "pri=1, relay=r, {}stat={}")
    events, parser = _run([
        base,
        to.format("<b@y>", "esmtp", "dsn=5.1.1, ", "User unknown"),
        to.format("c", "local", "", "queued"),
        to.format("<d@z>", "esmtp", "", "Deferred: 451 try later"),
        to.format("<e@z>", "esmtp", "", "Sent (ok)"),
        "Jan  1 00:00:02 h sm-mta[502]: zZ1999999999999: to=<q@q>, delay=0, mailer=esmtp, pri=1,"
        " relay=r, dsn=2.0.0, stat=Sent (ok)",
        "Jan  1 00:00:03 h sm-mta[500]: zZ1000000000500: zZ1000000000501: DSN: User unknown",
    ])
    assert events == []  # two recipients are still not final
    assert parser.counters["orphan_deliveries"] == 1
    (message,) = _messages(list(parser.flush()))
    assert [(d.recipient, d.status) for d in message.deliveries] == [
        ("b@y", "bounced"), ("c", "accepted"), ("d@z", "deferred"), ("e@z", "sent")]
    assert message.via is RelayVia.NETWORK and message.client_ip == "192.0.2.1"


def test_expiry_and_cap_are_counted() -> None:
    env = ("Jan  1 00:00:00 h sm-mta[{0}]: zZ100000000{0:04d}: from=<a@x>, size=1, class=0, "
           "nrcpts=1, msgid=<m@x>, proto=SMTP, daemon=MTA, relay=[192.0.2.1]")
    events, parser = _run([env.format(1), env.format(2)], step=timedelta(days=8))
    assert [m.queue_id for m in _messages(events)] == ["zZ1000000000001"]
    assert [(s.where, s.count) for s in parser.skipped()] == [("sendmail queue", 1)]
    events, parser = _run([env.format(n) for n in range(4)], SendmailParser(max_open=2))
    assert len(_messages(events)) == 2 and parser.skipped()[0].count == 2


def test_noise_and_unknown() -> None:
    parser = SendmailParser()
    for line in [
        "Jan 1 00:00:00 h sm-mta[1]: STARTTLS=server, relay=x [192.0.2.1], version=TLSv1.3",
        "Jan 1 00:00:00 h sm-mta[1]: starting daemon (8.17.1): SMTP+queueing@00:25:00",
        "Jan 1 00:00:00 h sm-mta[1]: zZ1000000000001: AUTH=client, relay=smarthost, mech=PLAIN,"
        " bits=0",
        "Jan 1 00:00:00 h sm-mta[1]: [192.0.2.1]: possible SMTP attack: command=AUTH, count=5",
        "Jan 1 00:00:00 h sm-mta[1]: zZ1000000000001: [192.0.2.1]: possible SMTP attack: "
        "command=RCPT, count=9",
    ]:
        assert parser.feed(_record(line, 1, T0)) == NOTHING, line
    assert parser.counters == {"auth_attack_warnings": 1, "attack_warnings": 1}
    assert parser.feed(_record("Jan 1 00:00:00 h sm-mta[1]: zZ1000000000001: odd", 1, T0)) is None
    assert parser.feed(_record("Jan 1 00:00:00 h sm-mta[1]: odd thing", 1, T0)) is None
    assert parser.claims("sm-msp-queue", "x") and parser.claims("sm-acceptingconnections", "x")
    assert parser.claims("sendmail", "x") and not parser.claims("sm-notify", "x")
    assert not parser.claims("postfix/smtpd", "x") and not parser.claims(None, "x")


_PROGRAMS = st.sampled_from(["sm-mta", "sendmail", "sm-msp-queue", None])
_PIECES = st.sampled_from([
    "zZ1000000000001: ", "zZ1000000000002: ", "AUTH=server, ", "relay=", "x [192.0.2.1]",
    ", authid=", "u", ", mech=", "PLAIN", ", bits=0", "AUTH failure (", "LOGIN", "): ",
    ", user=", ", relay=", "from=", "<a@b>", ", size=", "1", ", class=0", ", nrcpts=", "2",
    ", msgid=", "<202401010000.zZ1000000000001@h>", ", proto=", "ESMTPSA", "to=", ",", "<c@d>",
    ", ctladdr=", "root (0/0)", ", delay=", ", mailer=", ", dsn=", "2.0.0", "5.0.0", ", stat=",
    "Sent (zZ1000000000002 Message accepted for delivery)", "Deferred", "queued", "[127.0.0.1]",
    "root@localhost", "possible SMTP attack: command=AUTH, count=5", " ",
])


@given(lines=st.lists(st.tuples(_PROGRAMS, st.integers(1, 3),
                                st.lists(_PIECES | st.text(max_size=5), max_size=20)),
                      max_size=8))
def test_fuzz_never_raises(lines: list[tuple[str | None, int, list[str]]]) -> None:
    parser = SendmailParser(max_open=3, max_sessions=2)
    for n, (program, pid, pieces) in enumerate(lines):
        message = "".join(pieces)
        parser.claims(program, message)
        when = T0 + timedelta(hours=20 * n)
        record = LogRecord(when, when, "f.log", n, Envelope(None, "h", program, pid, message))
        for event in parser.feed(record) or ():
            assert isinstance(event, LoginEvent | RelayedMessage)
    for event in parser.flush():
        assert isinstance(event, RelayedMessage)
    parser.skipped()
