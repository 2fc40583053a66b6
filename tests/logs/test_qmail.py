"""qmail family parsing: CHKUSER session groups, vpopmail/spamcontrol/Plesk logins, qmail-send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authaudit.logs.interface import SECRET_MARK, LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.qmail import QmailParser
from authaudit.logs.qmail_lines import last_ip, parse_chkuser, parse_vchkpw, strip_splogger
from authaudit.logs.scan import LogScanStats
from authaudit.logs.syslog import Envelope
from authaudit.model import Delivery, LoginEvent, LoginKind, RelayedMessage, RelayVia
from authaudit.redact import Secret, SecretKind
from tests.logs.samples import SHARED, needs_shared, scan_events

T0 = datetime(2010, 6, 19, 9, 41, tzinfo=UTC)


def _scan(paths: Sequence[Path], parser: QmailParser | None = None,
          ) -> tuple[list[LoginEvent], list[RelayedMessage], LogScanStats]:
    return scan_events(paths, parser or QmailParser(), 2010)


def _write(tmp_path: Path, text: str, name: str = "maillog") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _record(message: str, program: str | None = "qmail-smtpd", pid: int | None = None,
            when: datetime = T0, lineno: int = 1) -> LogRecord:
    return LogRecord(when, when, "maillog", lineno, Envelope(when, "mx", program, pid, message))


TARGET = ("CHKUSER relaying rcpt: from <kbradford@philadefender.org:test:> remote "
          "<User:unknown:82.128.32.42> rcpt <aikens_l@msn.com> : client allowed to relay")


# -- public sample -------------------------------------------------------------------------------


@needs_shared
def test_fail2ban_qmail_rbl_lines_are_recognised() -> None:
    parser = QmailParser()
    logins, messages, stats = _scan([SHARED / "fail2ban" / "qmail.log"], parser)
    # 4 log lines: 2 splogger-prefixed under "qmail" (rblsmtpd, qmail-smtpd 421) and 2 rblsmtpd
    assert logins == [] and messages == [] and stats.unknown == {}
    assert stats.by_parser["qmail"] == 4
    assert parser.counters == {"rbl": 3, "smtpd-reject": 1}


# -- CHKUSER -----------------------------------------------------------------------------------


def test_target_case_is_exactly_right(tmp_path: Path) -> None:
    path = _write(tmp_path, f"Jun 19 09:41:00 mx qmail-smtpd[4711]: {TARGET}\n")
    logins, messages, stats = _scan([path])
    assert logins == [] and stats.unknown == {}
    (message,) = messages
    assert message == RelayedMessage(
        source=str(path), lineno=1, time=T0, daemon="qmail", queue_id="chkuser-1",
        via=RelayVia.AUTH, user="test", client_ip="82.128.32.42",
        sender="kbradford@philadefender.org",
        deliveries=(Delivery(recipient="aikens_l@msn.com", status="accepted", time=T0),),
        lines=(f"qmail-smtpd[4711]: {TARGET}",),
    )


def test_chkuser_formats_and_ip_as_last_field() -> None:
    classic = parse_chkuser(TARGET)
    assert classic is not None
    assert (classic.brief, classic.sender, classic.auth, classic.helo, classic.ip, classic.rcpt,
            classic.desc) == ("relaying rcpt", "kbradford@philadefender.org", "test", "User",
                              "82.128.32.42", "aikens_l@msn.com", "client allowed to relay")
    sagredo = parse_chkuser(
        "CHKUSER relaying rcpt: from <info@example.com|remoteinfo/auth:test@example.com|"
        "chkuser-identify:> remote <helo:ylmf-pc|remotehostname:unknown|remotehostip:192.0.2.7> "
        "rcpt <victim@gmail.com> : client allowed to relay")
    assert sagredo is not None
    assert (sagredo.sender, sagredo.auth, sagredo.helo, sagredo.ip, sagredo.rcpt) == (
        "info@example.com", "test@example.com", "ylmf-pc", "192.0.2.7", "victim@gmail.com")
    accepted = parse_chkuser(
        "CHKUSER accepted sender: from <newinfotr@adv.strawberrynet.com::> remote "
        "<smtp156.strawberrynet.com:unknown:202.181.189.53> rcpt <> : sender accepted")
    assert accepted is not None and (accepted.auth, accepted.rcpt, accepted.ip) == (
        "", "", "202.181.189.53")
    assert last_ip("helo:unknown:2001:db8::7") == "2001:db8::7"
    assert last_ip("[IPv6:2001:db8::9]:unknown:2001:db8::9") == "2001:db8::9"
    assert last_ip("helo:localhost:::1") == "::1"
    assert last_ip("a:b:c:192.0.2.1") == "192.0.2.1"
    assert last_ip("helo:unknown:") is None
    assert parse_chkuser("CHKUSER broken line") is None


def test_session_grouping_rules(tmp_path: Path) -> None:
    rel = ("CHKUSER relaying rcpt: from <{s}:{a}:> remote <h:unknown:{ip}> rcpt <{r}> : "
           "client allowed to relay")
    lines = [
        # one session of pid 10: two recipients, then a new sender (a second message)
        ("09:41:00", 10, rel.format(s="a@x", a="test", ip="192.0.2.1", r="r1@y")),
        ("09:41:01", 10, rel.format(s="a@x", a="test", ip="192.0.2.1", r="R1@y")),
        ("09:41:02", 10, rel.format(s="a@x", a="test", ip="192.0.2.1", r="r2@y")),
        # another pid at the same time: its own group; empty auth field = relay by IP
        ("09:41:02", 11, rel.format(s="b@x", a="", ip="192.0.2.2", r="r3@y")),
        ("09:41:03", 10, rel.format(s="c@x", a="test", ip="192.0.2.1", r="r4@y")),
        # an authenticated "accepted rcpt" (local recipient) groups too; unauthenticated does not
        ("09:41:03", 12, "CHKUSER accepted rcpt: from <d@x:u@x:> remote <h:unknown:192.0.2.3> "
                         "rcpt <local@here> : found existing recipient"),
        ("09:41:03", 13, "CHKUSER accepted rcpt: from <e@x::> remote <h:unknown:192.0.2.4> "
                         "rcpt <local@here> : found existing recipient"),
        ("09:41:04", 13, "CHKUSER rejected relaying: from <e@x::> remote <h:unknown:192.0.2.4> "
                         "rcpt <far@away> : client not allowed to relay"),
        ("09:41:04", 13, "CHKUSER must auth: from <e@x::> remote <h:unknown:192.0.2.4> "
                         "rcpt <far@away> : sender needs authentication"),
        # pid 10 idle for more than 60 s: the same sender starts a new group
        ("09:42:10", 10, rel.format(s="c@x", a="test", ip="192.0.2.1", r="r5@y")),
    ]
    text = "".join(f"Jun 19 {t} mx qmail-smtpd[{pid}]: {m}\n" for t, pid, m in lines)
    parser = QmailParser()
    logins, messages, stats = _scan([_write(tmp_path, text)], parser)
    assert logins == [] and stats.unknown == {}
    summary = [(m.lineno, m.via, m.user, m.client_ip, m.sender, [d.recipient for d in m.deliveries])
               for m in messages]
    assert summary == [
        (1, RelayVia.AUTH, "test", "192.0.2.1", "a@x", ["r1@y", "r2@y"]),
        (4, RelayVia.NETWORK, None, "192.0.2.2", "b@x", ["r3@y"]),
        (6, RelayVia.AUTH, "u@x", "192.0.2.3", "d@x", ["local@here"]),
        (5, RelayVia.AUTH, "test", "192.0.2.1", "c@x", ["r4@y"]),
        (10, RelayVia.AUTH, "test", "192.0.2.1", "c@x", ["r5@y"]),
    ]
    assert len({m.queue_id for m in messages}) == 5
    assert all(m.queue_id.startswith("chkuser-") for m in messages)
    assert messages[0].lines[1].endswith("rcpt <R1@y> : client allowed to relay")
    assert parser.counters["chkuser relaying"] == 6
    assert parser.counters["chkuser accepted rcpt"] == 1
    assert parser.counters["chkuser rejected relaying"] == 1
    assert parser.counters["chkuser must auth"] == 1


def test_multilog_lines_are_claimed_by_content(tmp_path: Path) -> None:
    text = (
        "@400000004ccc70a30b5515bc tcpserver: status: 1/40\n"
        "@400000004ccc70a30b5515bc tcpserver: pid 9848 from 127.0.0.1\n"
        "@400000004ccc70a30b5515bc tcpserver: ok 9848 0:127.0.0.1:2023 :127.0.0.1::43424\n"
        "@400000004ccc70a30b5515bc CHKUSER accepted sender: from "
        "<newinfotr@adv.strawberrynet.com::> remote "
        "<smtp156.strawberrynet.com:unknown:202.181.189.53> rcpt <> : sender accepted\n"
        "@400000004ccc70a40b5515bc CHKUSER relaying rcpt: from <info@example.com|"
        "remoteinfo/auth:|chkuser-identify:> remote <helo:ylmf-pc|remotehostname:unknown|"
        "remotehostip:2001:db8::7> rcpt <victim@gmail.com> : client allowed to relay\n"
        "@400000004ccc70a40b5515bc simscan:[9848]:CLEAN (0.00/7.00):0.1s:hi:1.2.3.4:a@b:c@d\n"
        "@400000004ccc70a40b5515bc rblsmtpd: 198.51.100.77 pid 19597 sbl-xbl.spamhaus.org: 451 x\n"
        "@400000004ccc70a40b5515bc tcpserver: end 9848 status 0\n"
        "@400000004ccc70a40b5515bc new msg 53\n"
        "@400000004ccc70a40b5515bc info msg 53: bytes 246 from <me@domain> qp 20345 uid 666\n"
        "@400000004ccc70a40b5515bc starting delivery 1: msg 53 to local me@domain\n"
        "@400000004ccc70a40b5515bc status: local 1/10 remote 0/20\n"
        "@400000004ccc70a40b5515bc delivery 1: success: did_1+0+0/\n"
        "@400000004ccc70a40b5515bc status: local 0/10 remote 0/20\n"
        "@400000004ccc70a40b5515bc end msg 53\n"
    )
    parser = QmailParser()
    logins, messages, stats = _scan([_write(tmp_path, text, "current")], parser)
    assert logins == [] and stats.unknown == {}
    assert stats.by_parser["qmail"] == 15
    queued, relayed = messages
    assert (queued.queue_id, queued.via, queued.uid, queued.sender) == (
        "msg 53", RelayVia.QUEUED, 666, "me@domain")
    assert [(d.recipient, d.status, d.relay) for d in queued.deliveries] == [
        ("me@domain", "sent", "local")]
    assert (relayed.via, relayed.user, relayed.client_ip, relayed.sender) == (
        RelayVia.NETWORK, None, "2001:db8::7", "info@example.com")
    assert parser.counters["tcpserver"] == 4 and parser.counters["qmail-send"] == 2


# -- logins ------------------------------------------------------------------------------------

LOGINS = """\
Jul  7 11:08:51 srv vpopmail[19743]: vchkpw-submission: (CRAM-MD5) login success user@my_domain:1.2.3.4
Jul  7 11:23:52 srv vpopmail[20057]: vchkpw-pop3: (PLAIN) login success user@my_domain:1.2.3.4
Jun  9 08:56:30 www vpopmail[65827]: vchkpw-smtp: password fail (pass: '<65825.1118321790@mail.xxx.com>') myuserid@xxx.com:208.210.222.68
Jul  7 07:10:18 srv vpopmail[4800]: vchkpw-imap: password fail (pass: 'it's') a secret') user@my_domain:1.2.3.4
Sep 14 07:21:42 iron vpopmail[939]: vchkpw-pop3: password fail user1@xxxx.com:192.168.2.1
Jun  9 09:04:16 www vpopmail[65851]: vchkpw-pop3: vpopmail user not found myuserid@:208.210.222.68
Jul  5 16:02:13 srv vpopmail[4160]: vchkpw-pop3: null password given oneone1:121.243.18.134
Jul  5 16:02:14 srv vpopmail[4161]: vchkpw-smtp: smtp access denied user@my_domain:1.2.3.4
Jul  5 16:02:15 srv qmail-smtpd: pid 100 Accept::AUTH::plain P:ESMTPSA S:192.0.2.1:unknown H:client.invalid F:alice@example.invalid T:recipient@example.invalid ?~ 'alice@example.invalid'
Jul  5 16:02:16 srv qmail-smtpd[101]: pid 101 Reject::AUTH::login P:ESMTP S:2001:db8::3:unknown ?= 'mallory'
Jul  5 16:02:17 srv qmail-smtpd[101]: pid 101 Reject::RCPT::Failed_Rcptto P:ESMTP S:192.0.2.9:x F:a@b T:c@d
Nov  1 22:49:04 server smtp_auth: smtp_auth: SMTP user test : /var/qmail/mailnames/domain.tld/test logged in from unknown@somehostingprovider.tld [192.0.2.44]
Feb 10 10:27:08 s60418 smtp_auth: SMTP connect from unknown@ [207.219.92.194]
Feb 10 10:27:08 s60418 smtp_auth: smtp_auth: FAILED: bob - password incorrect  from unknown@ [207.219.92.194]
"""  # noqa: E501 - real line shapes, kept whole


def test_login_lines(tmp_path: Path) -> None:
    logins, messages, stats = _scan([_write(tmp_path, LOGINS)])
    assert messages == [] and stats.unknown == {}
    got = [(e.lineno, e.daemon, e.service, e.kind, e.user, e.client_ip, e.method, e.reason)
           for e in logins]
    assert got == [
        (1, "vpopmail", "submission", LoginKind.SUCCESS, "user@my_domain", "1.2.3.4",
         "CRAM-MD5", ""),
        (2, "vpopmail", "pop3", LoginKind.SUCCESS, "user@my_domain", "1.2.3.4", "PLAIN", ""),
        (3, "vpopmail", "smtp", LoginKind.FAILURE, "myuserid@xxx.com", "208.210.222.68", None,
         "password fail"),
        (4, "vpopmail", "imap", LoginKind.FAILURE, "user@my_domain", "1.2.3.4", None,
         "password fail"),
        (5, "vpopmail", "pop3", LoginKind.FAILURE, "user1@xxxx.com", "192.168.2.1", None,
         "password fail"),
        (6, "vpopmail", "pop3", LoginKind.UNKNOWN_USER, "myuserid@", "208.210.222.68", None,
         "vpopmail user not found"),
        (7, "vpopmail", "pop3", LoginKind.FAILURE, "oneone1", "121.243.18.134", None,
         "null password given"),
        (8, "vpopmail", "smtp", LoginKind.FAILURE, "user@my_domain", "1.2.3.4", None,
         "smtp access denied"),
        (9, "qmail", "smtp", LoginKind.SUCCESS, "alice@example.invalid", "192.0.2.1", "PLAIN", ""),
        (10, "qmail", "smtp", LoginKind.FAILURE, "mallory", "2001:db8::3", "LOGIN", ""),
        (12, "qmail", "smtp", LoginKind.SUCCESS, "test", "192.0.2.44", None, ""),
        (14, "qmail", "smtp", LoginKind.FAILURE, "bob", "207.219.92.194", None,
         "password incorrect"),
    ]
    assert logins[2].secret == Secret("<65825.1118321790@mail.xxx.com>", SecretKind.CLEARTEXT)
    assert logins[2].line == (f"vpopmail[65827]: vchkpw-smtp: password fail (pass: "
                              f"'{SECRET_MARK}') myuserid@xxx.com:208.210.222.68")
    assert logins[3].secret == Secret("it's') a secret")
    assert "secret'" not in logins[3].line and SECRET_MARK in logins[3].line
    assert [e.secret is None for e in logins].count(False) == 2


def test_vchkpw_parts() -> None:
    parsed = parse_vchkpw("vchkpw-pop3s: (PLAIN) login success user@my_domain:::ffff:1.2.3.4")
    assert parsed is not None and (parsed.service, parsed.user, parsed.ip) == (
        "pop3s", "user@my_domain", "1.2.3.4")
    assert parse_vchkpw("vchkpw-pop3: something else user@x:1.2.3.4") is None
    assert parse_vchkpw("vchkpw-pop3: password fail (pass: 'x') nocolon") is None


# -- spamdyke ---------------------------------------------------------------------------------


def test_spamdyke_allowed_with_auth_is_relay_evidence(tmp_path: Path) -> None:
    text = (
        "Mar  9 11:10:37 server spamdyke[29207]: ALLOWED from: a@b.example to: c@d.example "
        "origin_ip: 203.0.113.6 origin_rdns: (unknown) auth: a@b.example encryption: TLS "
        "reason: 250_ok\n"
        "Mar  9 11:10:38 server spamdyke[29207]: ALLOWED from: a@b.example to: e@f.example "
        "origin_ip: 203.0.113.6 origin_rdns: (unknown) auth: a@b.example encryption: TLS "
        "reason: 250_ok\n"
        "Mar  9 11:10:39 server spamdyke[29300]: ALLOWED from: x@y to: me@here origin_ip: "
        "198.51.100.1 origin_rdns: mx.y auth: (unknown) encryption: (none) reason: 250_ok\n"
        "Mar  9 11:10:40 server spamdyke[29207]: DENIED_RDNS_MISSING from: spam@mail.spam-"
        "source.net to: recipient@example.com origin_ip: 203.0.113.66 origin_rdns: (unknown) "
        "auth: (unknown) encryption: (none) reason: (empty)\n"
        "Mar  9 11:10:41 server spamdyke[29207]: ERROR: unable to open file x\n"
    )
    parser = QmailParser()
    logins, messages, stats = _scan([_write(tmp_path, text)], parser)
    assert logins == [] and stats.unknown == {}
    (message,) = messages
    assert (message.via, message.user, message.client_ip, message.sender) == (
        RelayVia.AUTH, "a@b.example", "203.0.113.6", "a@b.example")
    assert [d.recipient for d in message.deliveries] == ["c@d.example", "e@f.example"]
    assert message.queue_id.startswith("spamdyke-")
    assert parser.counters["spamdyke denied"] == 1 and parser.counters["spamdyke allowed"] == 1


# -- qmail-send ----------------------------------------------------------------------------------

SEND = """\
Jun 19 09:12:20 mx qmail: 1276913540.100000 new msg 78833
Jun 19 09:12:20 mx qmail: 1276913540.100100 info msg 78833: bytes 2461 from <alice@example.com> qp 20345 uid 89
Jun 19 09:12:24 mx qmail: 1276913544.622856 starting delivery 1: msg 78833 to remote bob@example.net
Jun 19 09:12:24 mx qmail: 1276913544.622900 starting delivery 2: msg 78833 to local carol@example.com
Jun 19 09:12:25 mx qmail: 1276913545.100000 delivery 1: deferral: Connected_to_192.0.2.5_but_greeting_failed./
Jun 19 09:12:25 mx qmail: 1276913545.200000 delivery 2: success: did_1+0+0/
Jun 19 09:12:25 mx qmail: 1276913545.300000 status: local 0/10 remote 0/20
Jun 19 09:40:00 mx qmail-send[200]: starting delivery 7: msg 78833 to remote bob@example.net
Jun 19 09:40:01 mx qmail-send[200]: delivery 7: success: 192.0.2.5_accepted_message./Remote_host_said:_250_ok/
Jun 19 09:40:01 mx qmail-send[200]: end msg 78833
Jun 19 09:40:02 mx qmail-send[200]: new msg 78833
Jun 19 09:40:02 mx qmail-send[200]: info msg 78833: bytes 300 from <> qp 20400 uid 82
Jun 19 09:40:02 mx qmail-send[200]: starting delivery 8: msg 78833 to remote dave@example.org
Jun 19 09:40:03 mx qmail-send[200]: delivery 8: failure: Sorry,_I_couldn't_find_any_host_named_example.org._(#5.1.2)/
Jun 19 09:40:03 mx qmail-send[200]: bounce msg 78833 qp 20401
Jun 19 09:40:03 mx qmail-send[200]: end msg 78833
Jun 19 09:40:04 mx qmail-send[200]: triple bounce: discarding bounce/78834
Jun 19 09:40:05 mx qmail-send[200]: starting delivery 9: msg 99 to local ghost@here
Jun 19 09:40:05 mx qmail-send[200]: delivery 9: success: did_0+0+1/
Jun 19 09:40:06 mx qmail-send[200]: new msg 500
Jun 19 09:40:06 mx qmail-send[200]: info msg 500: bytes 1 from <w@x> qp 1 uid 10003
Jun 19 09:40:07 mx qmail-send[200]: new msg 500
"""  # noqa: E501 - real line shapes, kept whole


def test_qmail_send_message_life_and_reuse(tmp_path: Path) -> None:
    parser = QmailParser()
    logins, messages, stats = _scan([_write(tmp_path, SEND)], parser)
    assert logins == [] and stats.unknown == {}
    first, second, reused, last = messages
    assert (first.queue_id, first.lineno, first.via, first.uid, first.sender, first.user) == (
        "msg 78833", 1, RelayVia.QUEUED, 89, "alice@example.com", None)
    assert [(d.recipient, d.status, d.relay) for d in first.deliveries] == [
        ("bob@example.net", "sent", "remote"), ("carol@example.com", "sent", "local")]
    assert first.deliveries[0].time == datetime(2010, 6, 19, 9, 40, 1, tzinfo=UTC)
    assert first.lines[0] == "qmail: 1276913540.100000 new msg 78833" and len(first.lines) == 5
    assert (second.queue_id, second.lineno, second.uid, second.sender) == (
        "msg 78833", 11, 82, "")
    assert [(d.recipient, d.status) for d in second.deliveries] == [
        ("dave@example.org", "bounced")]
    # "new msg 500" again without "end msg 500": the first one is given out as it is
    assert (reused.queue_id, reused.lineno, reused.uid, reused.sender, reused.deliveries) == (
        "msg 500", 20, 10003, "w@x", ())
    assert (last.queue_id, last.lineno, last.uid) == ("msg 500", 22, None)
    assert parser.counters["open-at-end"] == 1
    assert sorted((s.reason, s.count) for s in stats.skipped if s.where == "qmail messages") == [
        ("delivery of a msg whose new msg is not in the log", 1),
        ("msg number reused before end msg", 1)]


def test_splogger_stamp() -> None:
    assert strip_splogger("1276913544.622856 starting delivery 1") == "starting delivery 1"
    assert strip_splogger("12 starting") == "12 starting"


# -- bounds, claims, unknown lines ----------------------------------------------------------------


def test_claims() -> None:
    parser = QmailParser()
    for program in ("qmail", "qmail-smtpd", "qmail-send", "vpopmail", "tcpserver", "smtp_auth",
                    "spamdyke", "rblsmtpd", "simscan", "vchkpw-smtp"):
        assert parser.claims(program, "x"), program
    assert parser.claims("status", "local 1/10 remote 0/20")
    assert not parser.claims("status", "something")
    assert not parser.claims("postfix/smtpd", "x") and not parser.claims("exim", "x")
    assert parser.claims(None, "new msg 5") and parser.claims(None, TARGET)
    assert not parser.claims(None, "imap-login: Info: Login: user=<a>")


def test_unknown_lines_are_none() -> None:
    parser = QmailParser()
    for program, message in [
        ("qmail", "something else"), ("qmail-smtpd", "hello"), ("vpopmail", "vchkpw-pop3: odd"),
        ("tcpserver", "what"), ("rblsmtpd", "odd"), ("spamdyke", "odd"),
        ("qmail", "info msg x: garbage"), ("qmail", "new msg abc"), ("smtp_auth", "odd"),
    ]:
        assert parser.feed(_record(message, program)) is None, message
    result = parser.feed(_record("delivery 4: success: x", "qmail"))
    assert result == () and parser.counters["delivery-result-unknown"] == 1


def test_vchkpw_program_tag() -> None:
    parser = QmailParser()
    result = parser.feed(_record("password fail (pass: 'pw') a@b:192.0.2.1", "vchkpw-smtp"))
    assert result is not None
    (event,) = result
    assert isinstance(event, LoginEvent)
    assert (event.service, event.user, event.secret) == ("smtp", "a@b", Secret("pw"))
    assert event.line == f"vchkpw-smtp: password fail (pass: '{SECRET_MARK}') a@b:192.0.2.1"


def test_bounds_are_counted() -> None:
    parser = QmailParser(expire=timedelta(hours=1), max_open=2)
    out: list[LogEvent] = []

    def feed(message: str, when: datetime, pid: int | None = None) -> None:
        result = parser.feed(_record(message, "qmail", pid=pid, when=when))
        assert result is not None, message
        out.extend(result)

    for n in range(3):
        feed(f"new msg {n}", T0)
    for pid in range(3):
        feed(TARGET, T0, pid=pid)
    assert [m.queue_id for m in out if isinstance(m, RelayedMessage)] == ["msg 0", "chkuser-1"]
    for _ in range(300):
        feed("status: local 0/10 remote 0/20", T0 + timedelta(hours=2))
    assert sorted(m.queue_id for m in out if isinstance(m, RelayedMessage)) == [
        "chkuser-1", "chkuser-2", "chkuser-3", "msg 0", "msg 1", "msg 2"]
    assert parser.flush() == []
    assert sorted((s.reason, s.count) for s in parser.skipped()) == [
        ("more than 2 SMTP sessions open", 1), ("more than 2 queued messages open", 1),
        ("msg open longer than 1:00:00 without end msg", 2)]


_WORDS = st.sampled_from([
    "CHKUSER ", "relaying rcpt", ": from <", "> remote <", "> rcpt <", "> : ", ":", "|",
    "remoteinfo/auth:", "remotehostip:", "vchkpw-smtp: ", "password fail ", "(pass: '", "') ",
    "login success ", "@", "192.0.2.1", "::1", "new msg ", "info msg ", "starting delivery ",
    "delivery ", "end msg ", "1", "12", ": bytes 3 from <a> qp 1 uid 2", " to remote ",
    "success:", "deferral:", "pid 1 ", "Accept::AUTH::", "S:", " ?~ '", "'", "SMTP user ",
    "FAILED: ", " from: ", " origin_ip: ", " auth: ", "ALLOWED", " ", "1276913544.622856 ",
])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(
    st.one_of(st.text(max_size=12), st.sampled_from([
        "qmail", "qmail-smtpd", "vpopmail", "vchkpw-pop3", "smtp_auth", "spamdyke", "tcpserver",
        "rblsmtpd", "status", "other", ""])),
    st.integers(min_value=0, max_value=3),
    st.one_of(st.text(max_size=80), st.lists(_WORDS, max_size=14).map("".join))),
    max_size=30))
def test_fuzz_never_raises(lines: list[tuple[str, int, str]]) -> None:
    parser = QmailParser(max_open=3)
    for n, (program, minutes, message) in enumerate(lines):
        result = parser.feed(_record(message, program or None, pid=minutes or None,
                                     when=T0 + timedelta(minutes=minutes * n), lineno=n))
        assert result is None or all(isinstance(e, LoginEvent | RelayedMessage) for e in result)
    assert all(isinstance(e, RelayedMessage) for e in parser.flush())
    parser.skipped()
