"""Exim main-log parsing: logins from ``<=`` lines and authenticator failures, messages by id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authaudit.logs.exim import EximParser
from authaudit.logs.exim_fields import message_id_end, parse_arrival, parse_auth_failure
from authaudit.logs.interface import LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.scan import LogScanStats
from authaudit.logs.syslog import Envelope
from authaudit.model import Delivery, LoginEvent, LoginKind, RelayedMessage, RelayVia
from tests.logs.samples import SHARED, needs_shared, scan_events


def _scan(paths: Sequence[Path], parser: EximParser | None = None,
          ) -> tuple[list[LoginEvent], list[RelayedMessage], LogScanStats]:
    return scan_events(paths, parser or EximParser(), 2022)


def _write(tmp_path: Path, text: str, name: str = "mainlog") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- public samples ------------------------------------------------------------------------------


@needs_shared
def test_testsuite_3400_logins_failures_and_messages() -> None:
    logins, messages, stats = _scan([SHARED / "exim-testsuite" / "test-log-3400.log"])
    assert stats.unknown == {}
    success = [e for e in logins if e.kind is LoginKind.SUCCESS]
    failure = [e for e in logins if e.kind is LoginKind.FAILURE]
    # 7 "<= ... A=" arrivals; 24 of the 27 "authenticator failed" lines answer 535 (two 435
    # temporary failures and one 501 cancel give nothing)
    assert len(success) == 7 and len(failure) == 24 and len(logins) == 31
    assert [(e.lineno, e.user, e.method) for e in success if e.user is not None] == [
        (19, "userx", "login"), (25, "userx", "expanded_prompt_plain")]
    assert {e.method for e in success if e.user is None} == {"mylogin"}
    first = failure[0]
    assert (first.lineno, first.user, first.client_ip, first.method, first.reason) == (
        18, None, "10.0.0.1", "plain", "535 Incorrect authentication data")
    assert (failure[1].lineno, failure[1].user) == (23, "eserx")
    assert sum(e.user == "userx" for e in failure) == 21
    assert len(messages) == 10
    by_id = {m.queue_id: m for m in messages}
    plain = by_id["10HmaX-000000005vi-0000"]
    assert (plain.via, plain.user, plain.client_ip, plain.sender) == (
        RelayVia.NETWORK, None, "10.0.0.3", "userx@cus.cam.ac.uk")
    assert plain.deliveries == (Delivery(recipient="userx6@test.ex", status="sent",
                                         time=datetime(1999, 3, 2, 9, 44, 33, tzinfo=UTC),
                                         relay="local"),)
    auth = by_id["10HmbC-000000005vi-0000"]
    assert (auth.via, auth.user, auth.lineno) == (RelayVia.AUTH, "userx", 19)
    assert len(auth.lines) == 3 and auth.lines[0].startswith("exim: 10HmbC-000000005vi-0000 <=")
    assert sum(m.via is RelayVia.AUTH for m in messages) == 7


@needs_shared
def test_testsuite_3461_client_side_auth_is_not_a_login() -> None:
    parser = EximParser()
    logins, messages, stats = _scan([SHARED / "exim-testsuite" / "test-log-3461.log"], parser)
    assert stats.unknown == {}
    # lines 4, 10 and 12 carry "=> ... A=plain": Exim logging in to a smarthost
    assert [(e.lineno, e.user, e.method, e.kind) for e in logins] == [
        (n, "userx", "plain", LoginKind.SUCCESS) for n in (18, 19, 20, 21)]
    assert all(" <= " in e.line for e in logins)
    assert len(messages) == 6
    local = messages[0]
    assert (local.queue_id, local.via, local.user, local.client_ip) == (
        "10HmaX-000000005vi-0000", RelayVia.LOCAL, "CALLER", None)
    assert local.deliveries[0].relay == "127.0.0.1[127.0.0.1]"
    # 10HmaZ and 10HmbA arrive on the server and never complete there: given out at flush
    assert [(m.queue_id, m.deliveries) for m in messages[-2:]] == [
        ("10HmaZ-000000005vi-0000", ()), ("10HmbA-000000005vi-0000", ())]
    assert parser.counters["open-at-end"] == 2
    (lost,) = [s for s in stats.skipped if s.where == "exim messages"]
    assert (lost.reason, lost.count) == ("delivery of a message whose arrival is not in the log", 2)


@needs_shared
def test_testsuite_4064_recipients_and_blackhole() -> None:
    logins, messages, stats = _scan([SHARED / "exim-testsuite" / "test-log-4064.log"])
    assert stats.unknown == {}
    assert len(logins) == 4 and {e.user for e in logins} == {"userx"}
    assert len(messages) == 8
    server = [m for m in messages if m.via is RelayVia.AUTH]
    assert server[0].deliveries[0] == Delivery(
        recipient="nocache@test.ex", status="sent",
        time=datetime(1999, 3, 2, 9, 44, 33, tzinfo=UTC), relay="none")
    assert [m.deliveries[0].recipient for m in server] == [
        "nocache@test.ex", "hascache@test.ex", "nocache@test.ex", "chunking@test.ex"]


@needs_shared
def test_fail2ban_exim_failures_and_noise() -> None:
    parser = EximParser()
    logins, messages, stats = _scan([SHARED / "fail2ban" / "exim.log"], parser)
    assert stats.unknown == {} and messages == []
    assert len(logins) == 12 and all(e.kind is LoginKind.FAILURE for e in logins)
    assert [e.user for e in logins] == [
        "brian", None, None, None, None, None, "scanner", "test@domain.com", "webmaster",
        "user@example.com", "uaf589@example.com", None]
    assert [e.client_ip for e in logins][:2] == ["24.106.174.74", "120.196.140.45"]
    last = logins[-1]  # journal line with an inner timestamp
    assert (last.lineno, last.client_ip, last.method) == (40, "192.0.2.27", "plain_server")
    assert last.time == datetime(2021, 7, 17, 23, 20, 49, tzinfo=UTC)
    syslogged = logins[7]
    assert (syslogged.lineno, syslogged.method, syslogged.line[:18]) == (
        20, "dovecot_login", "exim[29786]: dovec")
    assert logins[10].method == "dovecot_login" and logins[10].client_ip == "194.169.175.1"
    assert parser.counters["relay-denied"] == 2 and parser.counters["rejected-rcpt"] == 3


@needs_shared
@pytest.mark.parametrize(("name", "users"), [
    ("fail2ban/exim-spam.log", []),
    ("crowdsec-hub/exim-bf__exim-bf.log",
     ["info@test.com", "info1@test.com", "info2@test.com", "info3@test.com", "info5@test.com"]),
    ("crowdsec-hub/exim-logs__exim-logs.log",
     ["abuse@test.com", "dave", "info@test.com", "user", "user", "user"]),
    ("crowdsec-hub/exim-spam__exim-spam.log", []),
    ("crowdsec-hub/exim-syslog-logs__exim-logs.log",
     ["abuse@test.com", "dave", "info@test.com", "user", "user"]),
])
def test_other_samples(name: str, users: list[str]) -> None:
    logins, messages, stats = _scan([SHARED / name])
    assert stats.unknown == {} and messages == []
    assert [e.user for e in logins] == users
    assert all(e.kind is LoginKind.FAILURE and e.service == "smtp" for e in logins)


@needs_shared
def test_crowdsec_milliseconds_and_ports() -> None:
    logins, _, _ = _scan([SHARED / "crowdsec-hub" / "exim-logs__exim-logs.log"])
    millis = next(e for e in logins if e.lineno == 11)
    assert millis.client_ip == "192.0.2.12"
    assert millis.time == datetime(2023, 5, 30, 6, 10, 13, 345000, tzinfo=UTC)
    assert logins[1].client_ip == "202.137.142.181" and logins[1].method == "dovecot_plain"


# -- hand-written lines (cPanel, subjects, id forms) -----------------------------------------

CPANEL = (
    "2019-02-14 06:42:41 1guGLh-001ONk-GU <= hennie@proautorubber.co.za "
    "H=169-0-190-141.ip.afrihost.co.za (mail.proautorubber.co.za) [169.0.190.141]:44810 "
    "I=[192.185.115.186]:25 P=esmtpsa X=TLSv1.2:ECDHE-RSA-AES256-SHA384:256 CV=no "
    "A=dovecot_login:smtpout@proautorubber.co.za S=3421 id=abc@PARSVR.par.local "
    'T="RE: RFQ URGENT PLS" from <hennie@proautorubber.co.za> for Colin@hudson-rubber.co.za\n'
    "2019-02-14 06:42:41 1guGLh-001ONk-GU ** colin@hudson-rubber.co.za "
    "<Colin@hudson-rubber.co.za> F=<hennie@proautorubber.co.za> R=enforce_mail_permissionsHG: "
    "Domain proautorubber.co.za has exceeded the max emails per hour (500/500 (100%)) allowed. "
    "Message discarded.\n"
    "2019-02-14 06:42:41 1guGLh-001ONk-GU Completed\n"
)


def test_cpanel_auth_user_differs_from_sender_and_bounce(tmp_path: Path) -> None:
    logins, messages, stats = _scan([_write(tmp_path, CPANEL)])
    assert stats.unknown == {}
    (login,) = logins
    assert (login.kind, login.user, login.method, login.client_ip, login.service) == (
        LoginKind.SUCCESS, "smtpout@proautorubber.co.za", "dovecot_login", "169.0.190.141", "smtp")
    (message,) = messages
    assert (message.queue_id, message.via, message.user, message.sender, message.client_ip) == (
        "1guGLh-001ONk-GU", RelayVia.AUTH, "smtpout@proautorubber.co.za",
        "hennie@proautorubber.co.za", "169.0.190.141")
    assert message.deliveries == (Delivery(
        recipient="Colin@hudson-rubber.co.za", status="bounced",
        time=datetime(2019, 2, 14, 6, 42, 41, tzinfo=UTC), relay="local"),)
    assert len(message.lines) == 3


def test_subject_with_brackets_and_fields_does_not_fool_the_parser() -> None:
    arrival = parse_arrival(
        'a@x.example H=(helo) [198.51.100.9]:25 P=esmtp S=100 '
        'T="Order [20260701-123] A=evil:root P=local" from <a@x.example> for b@y.example c@z')
    assert (arrival.authenticator, arrival.protocol, arrival.host is not None) == (
        None, "esmtp", True)
    assert arrival.host is not None and arrival.host.ip == "198.51.100.9"
    assert arrival.recipients == ("b@y.example", "c@z")
    quoted = parse_arrival('a@x H=[192.0.2.1] P=esmtp T="say "hi" for me" for r@x')
    assert quoted.recipients == ("r@x",)
    helo = parse_arrival("a@x H=nic.example (EHLO [not-an-ip] A=x:y) [198.51.100.9] P=esmtp")
    assert helo.authenticator is None and helo.host is not None
    assert (helo.host.rdns, helo.host.helo, helo.host.ip) == (
        "nic.example", "EHLO [not-an-ip] A=x:y", "198.51.100.9")
    mailauth = parse_arrival("a@x H=[2001:db8::5]:587 P=esmtpsa A=plain:bob:bob@x S=1 id=q@w")
    assert (mailauth.authenticator, mailauth.auth_id, mailauth.auth_sender) == (
        "plain", "bob", "bob@x")
    assert mailauth.recipients == ()
    srs = parse_arrival("<> R=1guGLh-001ONk-GU U=mail P=local S=1 for SRS0=ab=cd=x.org=u@y.example")
    assert srs.sender == "" and srs.recipients == ("SRS0=ab=cd=x.org=u@y.example",)


def test_message_id_forms() -> None:
    assert message_id_end("1guGLh-001ONk-GU <= x") == 16
    assert message_id_end("10HmaX-000000005vi-0000 <= x") == 23
    assert message_id_end("1x9hqp-000000076Qy-1Ug8 Completed") == 23
    assert message_id_end("SMTP-connection-from x") == 0
    assert message_id_end("1guGLh-001ONk-G! <= x") == 0
    assert message_id_end("short") == 0


def test_local_injection_network_syslog_and_deferral(tmp_path: Path) -> None:
    text = (
        "Jun 29 16:04:19 srv exim[1234]: 1x9hqp-000000076Qy-1Ug8 <= info@clinic.example "
        "U=clinicuser P=local S=512 T=\"Newsletter\" for a@x.example b@y.example\n"
        "Jun 29 16:04:20 srv exim[1235]: 1x9hqp-000000076Qy-1Ug8 == a@x.example R=dnslookup "
        "T=remote_smtp defer (-44): SMTP error from remote mail server after RCPT TO:<a@x>: 451\n"
        "Jun 29 16:04:21 srv exim[1235]: [1235] 1x9hqp-000000076Qy-1Ug8 => a@x.example "
        "R=dnslookup T=remote_smtp H=mx.x.example [192.0.2.25]:25 X=TLS1.3 CV=yes "
        "A=plain C=\"250 OK\"\n"
        "Jun 29 16:04:22 srv exim[1236]: 1Y06VR-0000Iw-7C <= x@y H=mx.y (helo) "
        "[2001:db8::1]:4000 P=esmtps S=10 for r@local.example\n"
        "Jun 29 16:04:23 srv exim[1236]: 1Y06VR-0000Iw-7C => r <r@local.example> "
        "R=localuser T=local_delivery\n"
        "Jun 29 16:04:23 srv exim[1236]: 1Y06VR-0000Iw-7C Completed\n"
    )
    logins, messages, stats = _scan([_write(tmp_path, text, "maillog")])
    assert stats.unknown == {} and logins == []
    inbound, local = messages  # the inbound one completes, the local one is open at flush
    assert (inbound.via, inbound.client_ip, inbound.sender) == (
        RelayVia.NETWORK, "2001:db8::1", "x@y")
    assert inbound.deliveries[0].recipient == "r@local.example"
    assert (local.via, local.user, local.uid, local.sender) == (
        RelayVia.LOCAL, "clinicuser", None, "info@clinic.example")
    assert [(d.recipient, d.status, d.relay) for d in local.deliveries] == [
        ("a@x.example", "sent", "mx.x.example[192.0.2.25]:25"),
        ("b@y.example", "accepted", "")]


def test_failure_codes_and_forms() -> None:
    text = ("dovecot_login authenticator failed for (User) [194.169.175.1]:21298 "
            "I=[22.33.44.55]:465 Ci=30416: 535 Incorrect authentication data (set_id=a@b)")
    failure = parse_auth_failure(text, text.index(" authenticator failed for "))
    assert failure is not None
    assert (failure.authenticator, failure.host.helo, failure.host.ip, failure.host.port,
            failure.code, failure.text, failure.set_id) == (
        "dovecot_login", "User", "194.169.175.1", 21298, 535,
        "Incorrect authentication data", "a@b")
    old = ("defer authenticator failed for H=(test.host) [10.0.0.1] U=CALLER: "
           "435 Unable (set_id=u): x")
    parsed = parse_auth_failure(old, old.index(" authenticator failed for "))
    assert parsed is not None
    assert (parsed.code, parsed.set_id, parsed.text) == (435, "u", "Unable: x")
    bad = "x authenticator failed for nowhere: 535 no address"
    assert parse_auth_failure(bad, 1) is None


def _record(message: str, program: str | None = "exim", when: datetime | None = None,
            lineno: int = 1) -> LogRecord:
    order = when or datetime(2024, 1, 1, tzinfo=UTC)
    return LogRecord(when, order, "mainlog", lineno, Envelope(when, None, program, None, message))


def test_unknown_noise_and_split_lines() -> None:
    parser = EximParser()
    assert parser.claims("exim", "x") and parser.claims("exim4", "x")
    assert not parser.claims(None, "x") and not parser.claims("postfix/smtpd", "x")
    assert parser.feed(_record("something entirely different")) is None
    assert parser.feed(_record("1guGLh-001ONk-GU something unheard of")) is None
    for noise in ("Start queue run: pid=1", "End queue run: pid=1", "cwd=/home/u 3 args: x",
                  "1guGLh-001ONk-GU Frozen (delivery error message)",
                  "no MAIL in SMTP connection from [192.0.2.1] D=0s",
                  "TLS error on connection from (x) [192.0.2.1]",
                  "1guGLh-001ONk-GU Completed",
                  "[2\\3] continuation of a long line",
                  "login authenticator failed for (x) [192.0.2.1]: 501 Authentication cancelled"):
        assert parser.feed(_record(noise)) == (), noise
    assert parser.counters["completed-unknown"] == 1 and parser.counters["auth-cancelled"] == 1
    first = parser.feed(_record("[1\\2] 1guGLh-001ONk-GU <= a@x U=u P=local S=1"))
    assert first == ()
    (message,) = parser.flush()
    assert isinstance(message, RelayedMessage) and message.via is RelayVia.LOCAL


def test_expiry_and_cap_are_counted() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    parser = EximParser(expire=timedelta(hours=1), max_open=2)
    out: list[LogEvent] = []
    for n in range(3):  # the third arrival evicts the first
        result = parser.feed(_record(f"1guGL{n}-001ONk-GU <= a@x U=u P=local S=1", when=start))
        assert result is not None
        out.extend(result)
    assert [e.queue_id for e in out if isinstance(e, RelayedMessage)] == ["1guGL0-001ONk-GU"]
    later = start + timedelta(hours=2)
    for n in range(300):  # expiry is checked every 256 recognised lines
        result = parser.feed(_record("Start queue run: pid=1", when=later, lineno=n))
        assert result is not None
        out.extend(result)
    assert [e.queue_id for e in out if isinstance(e, RelayedMessage)] == [
        "1guGL0-001ONk-GU", "1guGL1-001ONk-GU", "1guGL2-001ONk-GU"]
    assert parser.flush() == []
    assert sorted((s.reason, s.count) for s in parser.skipped()) == [
        ("message open longer than 1:00:00 without Completed", 2),
        ("more than 2 messages open", 1)]


def test_reused_id_gives_the_old_message_out() -> None:
    parser = EximParser()
    parser.feed(_record("1guGLh-001ONk-GU <= a@x U=u P=local S=1 for r@x"))
    result = parser.feed(_record("1guGLh-001ONk-GU <= b@x U=v P=local S=1"))
    assert result is not None
    (old,) = result
    assert isinstance(old, RelayedMessage) and old.sender == "a@x"
    assert old.deliveries == (Delivery(recipient="r@x", status="accepted"),)
    assert [s.reason for s in parser.skipped()] == ["message id arrived again before Completed"]


_WORDS = st.sampled_from([
    "<=", "=>", "**", "==", "->", "Completed", "A=", "H=", "P=local", "U=", "T=\"", "for",
    " authenticator failed for ", "(", ")", "[", "]", ":", "535", "(set_id=", "1guGLh-001ONk-GU",
    "10HmaX-000000005vi-0000", "[1\\3]", "[123]", " ", "\"", "=",
])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(
    st.one_of(st.text(max_size=12), st.sampled_from(["exim", "exim4", "other", ""])),
    st.one_of(st.text(max_size=80), st.lists(_WORDS, max_size=14).map("".join),
              st.lists(_WORDS, max_size=14).map(" ".join)))))
def test_fuzz_never_raises(lines: list[tuple[str, str]]) -> None:
    parser = EximParser(max_open=3)
    for n, (program, message) in enumerate(lines):
        result = parser.feed(_record(message, program or None, lineno=n))
        assert result is None or all(isinstance(e, LoginEvent | RelayedMessage) for e in result)
    assert all(isinstance(e, RelayedMessage) for e in parser.flush())
    parser.skipped()
