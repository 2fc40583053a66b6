"""Dovecot: login-process and passdb lines, every tag form, secrets, speed, fuzzing."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.logs.dovecot import DovecotParser, is_passdb_event
from authaudit.logs.interface import NOTHING, SECRET_MARK, LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.scan import scan_logs
from authaudit.logs.syslog import Envelope, parse_line
from authaudit.model import LoginEvent, LoginKind
from tests.logs.samples import SHARED, needs_shared

FAIL2BAN = SHARED / "fail2ban"
CROWDSEC = SHARED / "crowdsec-hub"
LIGHTMETER = SHARED / "lightmeter" / "logs_sample"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _record(line: str, lineno: int = 1) -> LogRecord:
    env = parse_line(line)
    assert env is not None, line
    return LogRecord(T0, T0, "test.log", lineno, env)


def _feed(line: str, parser: DovecotParser | None = None) -> LoginEvent | None:
    """The single event of ``line`` (None when it gives NOTHING); fails on an unknown line."""
    events = (parser or DovecotParser()).feed(_record(line))
    assert events is not None, f"not understood: {line}"
    assert len(events) <= 1
    if not events:
        return None
    event = events[0]
    assert isinstance(event, LoginEvent)
    return event


def _scan(*paths: Path) -> tuple[list[LoginEvent], DovecotParser, dict[str, int]]:
    parser = DovecotParser()
    events: list[LogEvent] = []
    stats = scan_logs(paths, [parser], events.append)
    logins = [e for e in events if isinstance(e, LoginEvent)]
    assert len(logins) == len(events)
    return logins, parser, dict(stats.unknown)


def _fail_json(path: Path) -> dict[int, dict[str, object]]:
    """fail2ban's oracle per log line: the ``# failJSON:`` comment right above it."""
    oracles: dict[int, dict[str, object]] = {}
    pending: dict[str, object] | None = None
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith("#"):
            text = line.lstrip("#").strip()
            if text.startswith("failJSON:"):
                pending = json.loads(text[9:])
            continue
        if line.strip() and pending is not None:
            oracles[lineno] = pending
            pending = None
    return oracles


# -- public samples ---------------------------------------------------------------------------

@needs_shared
def test_fail2ban_sample_counts_and_oracles() -> None:
    path = FAIL2BAN / "dovecot.log"
    events, parser, unknown = _scan(path)
    assert unknown == {}  # all 67 log lines are understood (41 events, 26 recognised noise)
    # grep: 19 "(auth failed, " lines + 1 "proxy dest auth failed"; 17 passdb driver lines
    # ("passwd-file(", "pam(", "sql(", "ldap(" and the 2.4 "sql: Password mismatch") + 4 pam_unix
    assert len(events) == 41
    login = [e for e in events if not is_passdb_event(e)]
    passdb = [e for e in events if is_passdb_event(e)]
    assert len(login) == 20 and len(passdb) == 21
    assert {e.service for e in passdb} == {"auth"}
    assert Counter(e.service for e in login) == {"imap": 9, "pop3": 7, "submission": 2,
                                                  "sieve": 2}
    # 16 x "1 attempts", 1 x "2 attempts", 2 x "3 attempts", and the proxy line counts 1
    assert sum(e.attempts for e in login) == 25
    # grep -cE "unknown user|User not known" = 7
    assert sum(1 for e in events if e.kind is LoginKind.UNKNOWN_USER) == 7
    assert all(e.kind is not LoginKind.SUCCESS for e in events)
    assert parser.counters == {"no_auth_attempts": 17, "plaintext_disallowed": 3,
                               "login_chatter": 6}
    # every event is on a line fail2ban says matches, with the address fail2ban expects
    oracles = _fail_json(path)
    for event in events:
        oracle = oracles[event.lineno]
        assert oracle["match"] is True, event.lineno
        assert event.client_ip == oracle["host"], event.lineno
    # and no "no auth attempts" line (match false) became an event
    negatives = {n for n, o in oracles.items() if o["match"] is False}
    assert negatives and not negatives & {e.lineno for e in events}


@needs_shared
def test_fail2ban_sample_field_values() -> None:
    events, _, _ = _scan(FAIL2BAN / "dovecot.log")
    by_line = {e.lineno: e for e in events}
    tai = by_line[2]  # "@4000... imap-login: Info: Aborted login (auth failed, 1 attempts)"
    assert (tai.service, tai.user, tai.client_ip, tai.method, tai.attempts) == (
        "imap", "martin@waschbuesch.de", "80.187.101.33", "CRAM-MD5", 1)
    assert tai.time is not None and tai.reason == "Aborted login"
    v24 = by_line[27]  # "Login aborted: ... (auth failed, 3 attempts in 16 secs) (auth_failed)"
    assert (v24.user, v24.client_ip, v24.attempts, v24.kind) == (
        "test", "192.0.2.241", 3, LoginKind.FAILURE)
    assert v24.reason == "Login aborted: Connection closed"
    assert by_line[29].service == "sieve"
    assert (by_line[136].service, by_line[136].method) == ("submission", "LOGIN")
    assert by_line[21].user is None  # "Disconnected (auth failed, 1 attempts): method=PLAIN, ..."
    times = by_line[35]  # "dovecot: auth(default): pam(...): ... User not known ...: 2 Time(s)"
    assert (times.kind, times.attempts, times.user) == (
        LoginKind.UNKNOWN_USER, 2, "account@MYSERVERNAME.com")
    assert times.reason == ("passdb: pam_authenticate() failed: User not known to the underlying"
                            " authentication module")
    worker = by_line[65]  # "auth-worker(80180): Info: conn unix:auth-worker (uid=143): ..."
    assert (worker.user, worker.client_ip, worker.kind) == (
        "support", "192.0.2.6", LoginKind.UNKNOWN_USER)
    ldap = by_line[109]  # "Mar 23 06:10:52 auth: Info: ldap(dog,52.37.139.121,): invalid ..."
    assert (ldap.user, ldap.reason) == ("dog", "passdb: invalid credentials")
    injected = by_line[8]  # pam_unix "ruser=rhost=1.2.3.4 rhost=192.0.43.10"
    assert injected.client_ip == "192.0.43.10" and injected.user == "rhost=1.2.3.4"
    assert by_line[10].user == "root"  # "... rhost=176.61.140.225  user=root"
    sha1 = by_line[62]
    assert sha1.secret is None and "f638ff" not in sha1.line
    assert sha1.line.endswith(f"(SHA1 of given password: {SECRET_MARK})")
    assert sha1.reason == "passdb: Password mismatch (for LDAP bind)"
    new = by_line[143]  # Dovecot 2.4 "auth(info@example.com,192.0.2.110,sasl:login)<...>"
    assert (new.user, new.client_ip, new.method, new.service) == (
        "info@example.com", "192.0.2.110", "LOGIN", "auth")
    assert new.secret is not None and new.secret.value == "XxxxXXxx123"
    assert "XxxxXXxx123" not in new.line
    assert new.line == ("auth(info@example.com,192.0.2.110,sasl:login)<CvN+E95Uf4e7eEnj>: Info: "
                        f"sql: Password mismatch (given password: {SECRET_MARK})")
    assert new.reason == "passdb: Password mismatch"
    assert by_line[145].service == "imap" and by_line[145].attempts == 3  # the same client


@needs_shared
def test_crowdsec_samples() -> None:
    events, parser, unknown = _scan(CROWDSEC / "dovecot-logs__dovecot-logs.log")
    assert unknown == {}
    # grep: 5 "(auth failed, ", 1 "Login: ", 8 driver lines; 1 "no auth attempts"
    assert len(events) == 14
    assert sum(1 for e in events if e.kind is LoginKind.SUCCESS) == 1
    assert sum(1 for e in events if is_passdb_event(e)) == 8
    assert parser.counters["no_auth_attempts"] == 1
    success = next(e for e in events if e.kind is LoginKind.SUCCESS)
    assert (success.service, success.user, success.client_ip, success.method) == (
        "pop3", "test@yourdomain.net", "172.17.0.1", "PLAIN")
    secrets = [e for e in events if e.secret is not None]
    assert len(secrets) == 1 and secrets[0].secret is not None
    assert secrets[0].secret.value == "Password123$"
    assert (secrets[0].user, secrets[0].client_ip) == ("testing@example.com", "192.168.1.1")
    assert all("Password123$" not in e.line and "21bd12" not in e.line for e in events)
    youpi = next(e for e in events if "<youpi>" in e.line)
    assert (youpi.user, youpi.client_ip, youpi.kind) == ("toto", "1.1.1.1", LoginKind.FAILURE)

    slow, _, unknown = _scan(CROWDSEC / "dovecot-slow-bf__dovecot-slow-bf.log")
    assert unknown == {} and len(slow) == 4
    assert {(e.user, e.client_ip, e.kind) for e in slow} == {
        ("admin@example.com", "192.0.2.1", LoginKind.FAILURE)}
    assert Counter(e.service for e in slow) == {"imap": 3, "pop3": 1}
    spam, _, unknown = _scan(CROWDSEC / "dovecot-spam__dovecot-spam.log")
    assert unknown == {} and len(spam) == 12  # 6 login-process + 6 passdb lines
    timed, _, unknown = _scan(CROWDSEC / "dovecot-time-based-bf__dovecot-time-based-bf.log")
    assert unknown == {} and len(timed) == 4
    assert {e.user for e in timed} == {"admin@example.com", "webmaster@example.com",
                                       "info@example.com"}


@needs_shared
def test_lightmeter_logins_and_noise() -> None:
    events, parser, unknown = _scan(*sorted(LIGHTMETER.iterdir()))
    # 2,193 "dovecot:" lines: none unknown (other programs have no parser here)
    assert not any("dovecot" in program for program in unknown)
    # grep: 865 "imap-login: Login: ", 27 "pop3-login: Login: "; the one "auth: passwd-file(u):
    # unknown user" has no client address (an lmtp userdb lookup) and is only counted
    assert Counter((e.service, e.kind) for e in events) == {
        ("imap", LoginKind.SUCCESS): 865, ("pop3", LoginKind.SUCCESS): 27,
    }
    assert parser.counters == {"no_auth_attempts": 48, "login_chatter": 7,
                               "no_client_lookups": 1}
    logins = Counter((e.user, e.client_ip) for e in events if e.method == "LOGIN")
    assert logins == {("h-304@h-ffeb17e38996c.com", "224.165.23.115"): 20}


# -- hand-written lines -----------------------------------------------------------------------

def test_success_line_from_the_reference() -> None:
    event = _feed("May 27 17:31:57 mail dovecot: imap-login: Login: user=<postmaster>, "
                  "method=PLAIN, rip=80.241.60.193, lip=172.31.1.100, mpid=23349, TLS, "
                  "session=<sF+SszFtrD5Q8TzB>")
    assert event is not None
    assert (event.kind, event.service, event.user, event.client_ip, event.method) == (
        LoginKind.SUCCESS, "imap", "postmaster", "80.241.60.193", "PLAIN")
    assert (event.daemon, event.reason, event.attempts, event.time) == ("dovecot", "", 1, T0)
    assert event.line.startswith("dovecot: imap-login: Login: user=<postmaster>")


@pytest.mark.parametrize("line", [
    # Dovecot 1.x mapped address
    "Jan  5 10:00:00 mail dovecot: pop3-login: Login: user=<bob>, method=PLAIN, "
    "rip=::ffff:192.0.2.9, lip=::ffff:192.0.2.1",
    # log_path file, level word first (syslog.py strips it) and after the process
    "Jun 23 15:04:05 Info: pop3-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.9, lip=x",
    "Jun 23 15:04:05 pop3-login: Info: Login: user=<bob>, method=PLAIN, rip=192.0.2.9",
    # TAI64N: the level word stays the program, the process is in the message
    "@400000004c91b044077a9e94 Info: pop3-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.9",
    # syslog with the level after the program
    "Jan  5 10:00:00 mail dovecot[7]: Info: pop3-login: Login: user=<bob>, method=PLAIN, "
    "rip=192.0.2.9, lip=192.0.2.1, mpid=1, secured, session=<x>",
])
def test_success_line_forms(line: str) -> None:
    parser = DovecotParser()
    env = parse_line(line)
    assert env is not None and parser.claims(env.program, env.message)
    event = _feed(line, parser)
    assert event is not None
    assert (event.kind, event.service, event.user, event.client_ip, event.method) == (
        LoginKind.SUCCESS, "pop3", "bob", "192.0.2.9", "PLAIN")


@pytest.mark.parametrize(("line", "user", "ip", "method"), [
    ("@400000004c91b044077a9e94 auth-worker(12): Info: sql(ann,192.0.2.9): unknown user",
     "ann", "192.0.2.9", None),
    ("Jan 29 09:33:58 auth-worker(ann,192.0.2.9,sasl:plain)<x/y+z>: Info: sql: unknown user",
     "ann", "192.0.2.9", "PLAIN"),
    ("Jan 29 09:33:58 mail dovecot: auth(ann,192.0.2.9,sasl:cram-md5)<ab>: passwd-file: "
     "unknown user", "ann", "192.0.2.9", "CRAM-MD5"),
    ("Jan 29 09:33:58 mail dovecot: auth: mydb(ann,192.0.2.9,<s>): unknown user",  # a name
     "ann", "192.0.2.9", None),
    ("Jan 29 09:33:58 mail dovecot-auth: shadow(ann,192.0.2.9): unknown user",
     "ann", "192.0.2.9", None),
])
def test_passdb_forms(line: str, user: str, ip: str | None, method: str | None) -> None:
    env = parse_line(line)
    assert env is not None and DovecotParser().claims(env.program, env.message)
    event = _feed(line)
    assert event is not None and is_passdb_event(event)
    assert (event.kind, event.service, event.user, event.client_ip, event.method) == (
        LoginKind.UNKNOWN_USER, "auth", user, ip, method)
    assert event.reason == "passdb: unknown user"


def test_given_password_with_parentheses_and_spaces() -> None:
    line = ("Jan  1 00:00:00 mx dovecot: auth: sql(eve@x.example,192.0.2.3,<s1>): Password "
            "mismatch (given password: p4ss (word) ))")
    event = _feed(line)
    assert event is not None and event.secret is not None
    assert event.secret.value == "p4ss (word) )"
    assert event.line == ("dovecot: auth: sql(eve@x.example,192.0.2.3,<s1>): Password mismatch "
                          f"(given password: {SECRET_MARK})")
    assert "p4ss" not in event.line and event.reason == "passdb: Password mismatch"


def test_lines_that_are_not_credential_attempts() -> None:
    parser = DovecotParser()
    for line in [
        "Jan 1 00:00:00 mx dovecot: lmtp(31740): Connect from local",
        "Jan 1 00:00:00 mx dovecot: imap(a@b)<123><xyz>: Logged out in=1 out=2",
        "Jan 1 00:00:00 mx dovecot: master: Warning: Killed with signal 15 (by pid=1)",
        "Jan 1 00:00:00 mx dovecot: imap-login: Maximum number of connections from user+IP "
        "exceeded (mail_max_userip_connections=10): user=<a>, method=PLAIN, rip=192.0.2.1",
        "Jan 1 00:00:00 mx dovecot: imap-login: Disconnected (no auth attempts in 3 secs): "
        "user=<>, rip=192.0.2.1, lip=192.0.2.2",
        "Jan 1 00:00:00 mx dovecot: auth: Debug: sql(a,192.0.2.1): query: SELECT x",
        "Jan 1 00:00:00 mx dovecot: Debug: auth: sql(a,192.0.2.1): query: SELECT x",
        "Jan 1 00:00:00 mx dovecot: auth: Error: sql(a,192.0.2.1): Password query failed",
        "Jan 1 00:00:00 mx dovecot: auth: Warning: auth client 1 disconnected with 1 pending",
        "Jan 1 00:00:00 mx dovecot: auth-worker(9): pam_unix(dovecot:auth): check pass; user "
        "unknown",
    ]:
        assert parser.feed(_record(line)) == NOTHING, line
    parser.counters.clear()
    for line in [  # no remote address: userdb lookups; "?" is Dovecot's unknown-user mark
        "Jan 1 00:00:00 mx dovecot: auth: passwd-file(ann): unknown user",
        "Jan 1 00:00:00 mx dovecot: auth-worker(4): sql(ann,<s1>): unknown user",
    ]:
        assert parser.feed(_record(line)) == NOTHING, line
    assert parser.counters == {"no_client_lookups": 2}
    event = _feed("Jan 1 00:00:00 mx dovecot: auth: digest-md5(?,192.0.2.1): Password mismatch")
    assert event is not None and event.user is None and event.client_ip == "192.0.2.1"
    assert parser.feed(_record(
        "Jan 1 00:00:00 mx dovecot: auth: digest-md5(?,192.0.2.1): Invalid response")) == NOTHING
    # a new Info-level passdb phrase is not swallowed: the scanner counts it as unknown
    assert parser.feed(_record(
        "Jan 1 00:00:00 mx dovecot: auth: sql(a,192.0.2.1): Account expired")) is None
    assert parser.feed(_record("Jan 1 00:00:00 mx dovecot: something odd")) is None
    assert parser.feed(_record("Jan 1 00:00:00 mx dovecot: Dovecot v2.3 starting up")) is None


def test_claims() -> None:
    parser = DovecotParser()
    assert parser.claims("dovecot", "imap-login: Login: user=<a>")
    assert parser.claims("dovecot-auth", "pam_unix(dovecot:auth): ...")
    assert parser.claims("imap-login", "Info: Login: user=<a>")
    assert parser.claims("auth", "pam_unix(dovecot:auth): authentication failure;")
    assert parser.claims("auth-worker(80180)", "Info: conn unix:auth-worker")
    assert parser.claims("auth(a,192.0.2.1,sasl:login)<x>", "Info: sql: Password mismatch")
    assert parser.claims("imap(a@b)", "Info: Logged out")
    assert not parser.claims("imap", "badlogin: x [192.0.2.1] plaintext a SASL(-13)")  # Cyrus
    assert not parser.claims("imapd", "Login failed user=a auth=a host=x [192.0.2.1]")  # UW
    assert not parser.claims("postfix/smtpd", "connect from x[192.0.2.1]")
    assert parser.claims(None, "auth-worker(12): Info: sql(a,1.2.3.4): unknown user")
    assert parser.claims(None, "Info: imap-login: Login: user=<a>")
    assert not parser.claims(None, "starting delivery 1: msg 2 to local a@b")
    assert not parser.claims("Info", "starting delivery 1: msg 2 to local a@b")


def test_pathological_disconnect_reasons_parse_fast() -> None:
    parser = DovecotParser()
    sample = ("Aug 31 16:06:05 s166-62-100-187 dovecot: imap-login: Disconnected: a: a: a: a: "
              "a: a: a: a: a: a: a: a: a: a: a: a: a: a: a: a: a: a: (reason: some unknown "
              "reason) (tried to use disallowed test auth): user=<>, rip=192.0.2.111")
    huge = ("Aug 31 16:06:06 h dovecot: imap-login: Disconnected: " + "a: (" * 20_000
            + "auth failed, x attempts " + "(auth failed, " * 2_000 + "): user=<" + "x" * 5000)
    results = []
    for line in (sample, huge):
        record = _record(line)
        start = time.perf_counter()
        results.append(parser.feed(record))
        assert time.perf_counter() - start < 0.05
    assert results == [NOTHING, None]  # the made-up one has no valid "(auth failed, N attempts"


def test_counters_for_plaintext_and_flush() -> None:
    parser = DovecotParser()
    _feed("Dec 12 11:19:11 d dovecot: pop3-login: Aborted login (tried to use disallowed "
          "plaintext auth): rip=190.210.136.21, lip=113.212.99.193", parser)
    assert parser.counters["plaintext_disallowed"] == 1
    assert parser.flush() == NOTHING and parser.skipped() == ()


_PROGRAMS = st.sampled_from([
    None, "dovecot", "dovecot-auth", "imap-login", "pop3-login", "auth", "auth-worker(1)",
    "auth(a,b,sasl:x)<y>", "Info", "imap(a)", "lmtp",
])
_PIECES = st.sampled_from([
    "imap-login: ", "auth: ", "auth-worker(3): ", "dovecot: ", "Info: ", "Login: ", "user=<",
    ">, ", "method=", "rip=", "(auth failed, ", "2 attempts", " in 3 secs)", " (auth_failed)",
    ": ", "conn unix:x (pid=1): ", "auth-worker<4>: ", "sql(", "pam(", ",", ")", "(", "<", ">",
    "unknown user", "Password mismatch", " (given password: ", " (SHA1 of given password: ",
    "pam_unix(dovecot:auth): authentication failure; ", " ruser=", " rhost=", "  user=",
    "pam_authenticate() failed: ", ": 2 Time(s)", "1.2.3.4", "::ffff:", "x", " ",
])


@given(program=_PROGRAMS, pieces=st.lists(_PIECES | st.text(max_size=8), max_size=25))
def test_fuzz_never_raises(program: str | None, pieces: list[str]) -> None:
    parser = DovecotParser()
    message = "".join(pieces)
    parser.claims(program, message)
    record = LogRecord(T0, T0, "f.log", 1, Envelope(None, None, program, None, message))
    events = parser.feed(record)
    assert events is None or isinstance(events, tuple)
    for event in events or ():
        assert isinstance(event, LoginEvent)
        if event.secret is not None:
            assert SECRET_MARK in event.line
    assert parser.flush() == NOTHING
