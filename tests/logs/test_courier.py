"""Courier: ESMTP AUTH failures, IMAP/POP3 logins, queued messages from newmsg to completed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from authaudit.logs.courier import CourierParser
from authaudit.logs.interface import NOTHING, SECRET_MARK, LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.scan import scan_logs
from authaudit.logs.syslog import Envelope
from authaudit.model import Delivery, LoginEvent, LoginKind, RelayedMessage, RelayVia
from tests.logs.samples import SHARED, feed_lines, needs_shared, record_of

FAIL2BAN = SHARED / "fail2ban"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

# A real Courier flow (forum post, 2010; reference section 2.6), addresses made up where the
# post had them redacted.
FLOW = [
    "Dec 10 12:20:52 aldenpease courierd: newmsg,id=0038C081.4D026173.000051A4: dns; localhost "
    "(localhost [127.0.0.1])",
    "Dec 10 12:20:52 aldenpease courierd: started,id=0038C081.4D026173.000051A4,"
    "from=<root@aldenpease.me>,module=esmtp,host=gmail.com,addr=<friend@gmail.com>",
    "Dec 10 12:20:52 aldenpease courierd: started,id=0038C081.4D026173.000051A4,"
    "from=<root@aldenpease.me>,module=local,host=alden!!1000!1000!/home/alden!!,addr=<alden>",
    "Dec 10 12:20:52 aldenpease courierd: Waiting.  shutdown time=none, wakeup time=Fri Dec 10 "
    "12:25:01 2010, queuedelivering=4, inprogress=2",
    "Dec 10 12:20:52 aldenpease courierlocal: id=0038C081.4D026173.000051A4,"
    "from=<root@aldenpease.me>,addr=<alden@aldenpease.me>,size=329,success: Message delivered.",
    "Dec 10 12:20:52 aldenpease courieresmtp: id=0038C081.4D026173.000051A4,"
    "from=<root@aldenpease.me>,addr=<friend@gmail.com>: 250 OK DD/68-24070-A71620D4",
    "Dec 10 12:20:52 aldenpease courieresmtp: id=0038C081.4D026173.000051A4,"
    "from=<root@aldenpease.me>,addr=<friend@gmail.com>,size=329,success: delivered: "
    "smtp-server.maine.rr.com [71.74.56.22]",
    "Dec 10 12:20:52 aldenpease courieresmtp: id=0038C081.4D026173.000051A4,"
    "from=<root@aldenpease.me>,addr=<friend@gmail.com>,size=329,status: success",
    "Dec 10 12:20:52 aldenpease courierd: completed,id=0038C081.4D026173.000051A4",
]


def _record(line: str, lineno: int = 1, when: datetime = T0) -> LogRecord:
    return record_of(line, lineno, when)


def _run(lines: list[str], parser: CourierParser | None = None,
         step: timedelta = timedelta(0)) -> tuple[list[LogEvent], CourierParser]:
    parser = parser or CourierParser()
    return feed_lines(parser, lines, T0, step), parser


def _oracle_hosts(path: Path) -> dict[int, str]:
    hosts: dict[int, str] = {}
    pending: str | None = None
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("# failJSON:"):
            pending = json.loads(line[11:])["host"]
        elif line.strip() and not line.startswith("#") and pending is not None:
            hosts[lineno] = pending
            pending = None
    return hosts


@needs_shared
def test_fail2ban_courier_smtp() -> None:
    path = FAIL2BAN / "courier-smtp.log"
    events: list[LogEvent] = []
    stats = scan_logs([path], [CourierParser()], events.append)
    assert dict(stats.unknown) == {} and stats.by_parser["courier"] == 8
    # grep -c 'msg="535 Authentication failed.",cmd:' = 3; the other 5 are RCPT rejects
    assert len(events) == 3
    by_line = {e.lineno: e for e in events if isinstance(e, LoginEvent)}
    assert sorted(by_line) == [4, 14, 16]
    hosts = _oracle_hosts(path)
    for event in by_line.values():
        assert (event.kind, event.service, event.daemon) == (LoginKind.FAILURE, "smtp", "courier")
        assert event.client_ip == hosts[event.lineno]
    bare = by_line[4]  # "cmd: YWRvYmVhZG9iZQ==": an old-style bare client line, maybe a password
    assert (bare.user, bare.method) == (None, None)
    assert "YWRvYmVhZG9iZQ" not in bare.line and bare.line.endswith(f"cmd: {SECRET_MARK}")
    plain = by_line[14]  # "cmd: AUTH PLAIN AAAAABBBBCCCCWxlZA== admin"
    assert (plain.user, plain.method) == ("admin", "PLAIN")
    assert plain.line.endswith(f"cmd: AUTH PLAIN {SECRET_MARK} admin")
    login = by_line[16]  # "...,port=43632,msg=...,cmd: AUTH LOGIN PlcmSpIp@example.com"
    assert (login.user, login.method, login.client_ip) == (
        "PlcmSpIp@example.com", "LOGIN", "192.0.2.3")
    assert login.reason == "535 Authentication failed."


@needs_shared
def test_fail2ban_courier_auth() -> None:
    path = FAIL2BAN / "courier-auth.log"
    events: list[LogEvent] = []
    stats = scan_logs([path], [CourierParser()], events.append)
    assert dict(stats.unknown) == {}
    assert len(events) == 6  # grep -c "LOGIN FAILED" = 6
    logins = [e for e in events if isinstance(e, LoginEvent)]
    hosts = _oracle_hosts(path)
    assert {e.lineno: e.client_ip for e in logins} == hosts
    assert [(e.service, e.user) for e in sorted(logins, key=lambda e: e.lineno)] == [
        ("imap", "sales@example.com"), ("pop3", "info@example.com"), ("imap", "user@domain.tld"),
        ("pop3", "USER@EXAMPLE.org"), ("imap", None), ("imap", "tester"),
    ]
    assert all(e.kind is LoginKind.FAILURE and e.reason == "LOGIN FAILED" for e in logins)
    assert next(e for e in logins if e.lineno == 10).method == "PLAIN"


def test_imap_pop3_success_and_noise() -> None:
    events, _ = _run([
        "Apr 17 19:17:11 h courierpop3login: LOGIN, user=web10_mauricio, "
        "ip=[::ffff:192.168.0.100]",
        "Apr 17 19:17:12 h imapd-ssl: LOGIN, user=ann@example.com, ip=[::ffff:192.0.2.8], "
        "port=[51000], protocol=IMAP",
        "Apr 17 19:17:13 h imapd-ssl: LOGOUT, user=ann@example.com, ip=[::ffff:192.0.2.8], "
        "headers=0, body=0, rcvd=100, sent=200, time=1, starttls=1",
        "Apr 17 19:17:13 h imapd: Connection, ip=[::ffff:192.0.2.8]",
        "Apr 17 19:17:13 h pop3d: TIMEOUT, user=x, ip=[::ffff:192.0.2.8]",
        "Apr 17 19:17:14 h imapd: LOGIN FAILED, user=a, ip=[1.1.1.1], method=X, ip=[::ffff:"
        "192.0.2.9], port=[2]",  # a user name that carries fields
        "Apr 17 19:17:15 h imapd: LOGIN FAILED, user=x, method=CRAM-MD5, ip=[::ffff:192.0.2.9]",
    ])
    assert [(e.service, e.user, e.client_ip, e.kind, e.method) for e in events
            if isinstance(e, LoginEvent)] == [
        ("pop3", "web10_mauricio", "192.168.0.100", LoginKind.SUCCESS, None),
        ("imap", "ann@example.com", "192.0.2.8", LoginKind.SUCCESS, None),
        ("imap", "a, ip=[1.1.1.1]", "192.0.2.9", LoginKind.FAILURE, "X"),  # the last ip= wins
        ("imap", "x", "192.0.2.9", LoginKind.FAILURE, "CRAM-MD5"),
    ]


def test_claims() -> None:
    parser = CourierParser()
    assert parser.claims("courierd", "newmsg,id=1: dns; x")
    assert parser.claims("courieresmtpd", "error,relay=::ffff:1.2.3.4")
    assert parser.claims("imapd", "LOGIN FAILED, user=a, ip=[::ffff:1.2.3.4]")
    assert parser.claims("pop3d-ssl", "Connection, ip=[::ffff:1.2.3.4]")
    assert not parser.claims("imapd", "Login failed user=a auth=a host=x [192.0.2.1]")  # UW
    assert not parser.claims("postfix/smtpd", "connect from x")
    assert not parser.claims(None, "LOGIN, user=a, ip=[1.2.3.4]")


def test_message_flow_from_the_forum_post() -> None:
    events, parser = _run(FLOW)
    assert len(events) == 1
    message = events[0]
    assert isinstance(message, RelayedMessage)
    assert (message.queue_id, message.via, message.user, message.client_ip, message.sender) == (
        "0038C081.4D026173.000051A4", RelayVia.NETWORK, None, "127.0.0.1", "root@aldenpease.me")
    assert (message.daemon, message.lineno, message.time) == ("courier", 1, T0)
    assert message.deliveries == (
        Delivery(recipient="friend@gmail.com", status="sent", time=T0,
                 relay="smtp-server.maine.rr.com [71.74.56.22]"),
        Delivery(recipient="alden", status="sent", time=T0, relay="local"),
    )
    assert len(message.lines) == 5 and message.lines[0].startswith("courierd: newmsg,id=")
    assert parser.flush() == [] and parser.skipped() == []


def test_authenticated_message_and_failures() -> None:
    lines = [
        "May  1 12:00:00 mx courierd: newmsg,id=000A.65F0.01, auth=alice@example.com: dns; "
        "client.example (client.example [192.0.2.7])",
        "May  1 12:00:00 mx courierd: started,id=000A.65F0.01,from=<ceo@example.com>,"
        "module=esmtp,host=example.net,addr=<a@example.net>",
        "May  1 12:00:00 mx courierd: started,id=000A.65F0.01,from=<ceo@example.com>,"
        "module=esmtp,host=example.org,addr=<b@example.org>",
        "May  1 12:00:01 mx courieresmtp: id=000A.65F0.01,from=<ceo@example.com>,"
        "addr=<a@example.net>,size=10,status: deferred",
        "May  1 12:00:01 mx courieresmtp: id=000A.65F0.01,from=<ceo@example.com>,"
        "addr=<b@example.org>,size=10,status: failure",
        "May  1 12:00:02 mx courierd: completed,id=000A.65F0.01",
    ]
    events, _ = _run(lines)
    assert len(events) == 1 and isinstance(events[0], RelayedMessage)
    message = events[0]
    assert (message.via, message.user, message.client_ip, message.sender) == (
        RelayVia.AUTH, "alice@example.com", "192.0.2.7", "ceo@example.com")
    assert [(d.recipient, d.status) for d in message.deliveries] == [
        ("a@example.net", "deferred"), ("b@example.org", "bounced")]


def test_flush_expiry_and_cap() -> None:
    newmsg = "May  1 12:00:00 mx courierd: newmsg,id={}: dns; c (c [192.0.2.{}])"
    # no "completed": given out at flush with the recipient still "accepted"
    events, parser = _run([
        newmsg.format("1.1.1", 1),
        "May  1 12:00:00 mx courierd: started,id=1.1.1,from=<>,module=esmtp,host=h,addr=<r@x>",
    ])
    assert events == []
    flushed = [e for e in parser.flush() if isinstance(e, RelayedMessage)]
    assert len(flushed) == 1 and flushed[0].deliveries[0].status == "accepted"
    assert flushed[0].sender == "" and parser.skipped() == []
    # a message with no line for more than 7 days is given out when log time passes that
    events, parser = _run([newmsg.format("2.2.2", 2), newmsg.format("3.3.3", 3)],
                          step=timedelta(days=8))
    assert [e.queue_id for e in events if isinstance(e, RelayedMessage)] == ["2.2.2"]
    assert [(s.where, s.count) for s in parser.skipped()] == [("courier queue", 1)]
    # more than max_open open messages: the oldest is given out early and counted
    events, parser = _run([newmsg.format(f"{n}.0.0", n) for n in range(5)],
                          CourierParser(max_open=3))
    assert [e.queue_id for e in events if isinstance(e, RelayedMessage)] == ["0.0.0", "1.0.0"]
    assert [s.count for s in parser.skipped()] == [2]
    assert len(parser.flush()) == 3


def test_unknown_lines_are_reported() -> None:
    parser = CourierParser()
    assert parser.feed(_record("May 1 12:00:00 mx courierd: weird thing")) is None
    assert parser.feed(_record("May 1 12:00:00 mx courieresmtpd: odd")) is None
    assert parser.feed(_record("May 1 12:00:00 mx imapd: something else")) is None
    assert parser.feed(_record("May 1 12:00:00 mx courierd: Waiting.  shutdown time=none")) == (
        NOTHING)
    # delivery lines of a message whose newmsg was not seen are recognised, not used
    assert parser.feed(_record(FLOW[7])) == NOTHING


_PROGRAMS = st.sampled_from(["courierd", "courieresmtpd", "courieresmtp", "courierlocal",
                             "imapd", "pop3d-ssl", "courierpop3login", None, "x"])
_PIECES = st.sampled_from([
    "newmsg,id=", "started,id=", "completed,id=", "id=", "1.2.3", ", auth=", ": dns; ", "(",
    "[", "]", ")", ",from=<", ",addr=<", ">", ",size=", "12", ",status: ", "success", "failure",
    ": ", "delivered: ", "error,relay=", "::ffff:1.2.3.4", 'msg="535 Authentication failed.",',
    "cmd: ", "AUTH ", "PLAIN ", "LOGIN", " ", "LOGIN FAILED, ", "LOGIN, ", "user=", ", ip=[",
    ", protocol=", "method=", ",",
])


@given(program=_PROGRAMS, lines=st.lists(st.lists(_PIECES | st.text(max_size=6), max_size=20),
                                         max_size=6))
def test_fuzz_never_raises(program: str | None, lines: list[list[str]]) -> None:
    parser = CourierParser(max_open=2)
    for n, pieces in enumerate(lines):
        message = "".join(pieces)
        parser.claims(program, message)
        when = T0 + timedelta(days=3 * n)
        record = LogRecord(when, when, "f.log", n, Envelope(None, "h", program, None, message))
        events = parser.feed(record)
        for event in events or ():
            assert isinstance(event, LoginEvent | RelayedMessage)
    for event in parser.flush():
        assert isinstance(event, RelayedMessage)
    parser.skipped()
