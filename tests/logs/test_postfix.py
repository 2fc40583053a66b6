"""The Postfix parser: logins, SASL failures, messages through content-filter chains, queue-id
reuse, state limits, every public Postfix sample, and fuzzing.

Expected numbers for the public samples were counted with grep on the files (the command is given
next to each number), not taken from the parser's output.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authaudit.logs.interface import LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.postfix import PostfixParser
from authaudit.logs.postfix_lines import service_of, split_queue_id
from authaudit.logs.scan import LogScanStats, ScanOptions, scan_logs
from authaudit.logs.syslog import Envelope
from authaudit.model import LoginEvent, LoginKind, RelayedMessage, RelayVia
from tests.logs.samples import SHARED, needs_shared

LIGHTMETER = SHARED / "lightmeter"


class Run:
    """What one scan of some files gave."""

    def __init__(self, paths: Sequence[Path], parser: PostfixParser | None = None,
                 year: int | None = None) -> None:
        self.parser = parser or PostfixParser()
        self.events: list[LogEvent] = []
        self.stats: LogScanStats = scan_logs(paths, [self.parser], self.events.append,
                                             ScanOptions(year=year))

    @property
    def logins(self) -> list[LoginEvent]:
        return [e for e in self.events if isinstance(e, LoginEvent)]

    @property
    def messages(self) -> list[RelayedMessage]:
        return [e for e in self.events if isinstance(e, RelayedMessage)]

    def message(self, queue_id: str) -> RelayedMessage:
        found = [m for m in self.messages if m.queue_id == queue_id]
        assert len(found) == 1, found
        return found[0]

    def postfix_unknown(self) -> int:
        return sum(n for prog, n in self.stats.unknown.items() if prog.startswith("postfix"))


def _scan(tmp_path: Path, text: str, parser: PostfixParser | None = None) -> Run:
    path = tmp_path / "maillog"
    path.write_text(text)
    return Run([path], parser, year=2024)


def _statuses(message: RelayedMessage) -> dict[str, str]:
    return {d.recipient: d.status for d in message.deliveries}


# --- hand-written lines (quoted from the reference, or built from Postfix's format strings) ----


def test_authenticated_submission_gives_a_login_and_a_message(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Sep 23 15:57:40 mail postfix/submission/smtpd[3646210]: 838FC8A5F: client=unknown[fe80::1:2:3:4], sasl_method=PLAIN, sasl_username=out@example.org
Sep 23 15:57:40 mail postfix/cleanup[3646045]: 838FC8A5F: message-id=<341d97ec@example.org>
Sep 23 15:57:41 mail postfix/qmgr[2450825]: 838FC8A5F: from=<out@example.org>, size=939, nrcpt=1 (queue active)
Sep 23 15:57:41 mail postfix/submission/smtpd[3646210]: disconnect from unknown[fe80::1:2:3:4] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8
Sep 23 15:57:42 mail postfix/smtp[3646046]: 838FC8A5F: to=<someone@example.com>, relay=gmail-smtp-in.l.google.com[173.194.76.27]:25, delay=1.6, delays=0.78/0/0.3/0.52, dsn=2.0.0, status=sent (250 2.0.0 OK  1632412662 aaaaaaaaaaaaaaa.511 - gsmtp)
Sep 23 15:57:42 mail postfix/qmgr[2450825]: 838FC8A5F: removed
""")  # noqa: E501 - real line shapes, kept whole
    assert run.postfix_unknown() == 0
    (login,) = run.logins
    assert (login.kind, login.user, login.client_ip, login.method, login.service, login.daemon) \
        == (LoginKind.SUCCESS, "out@example.org", "fe80::1:2:3:4", "PLAIN", "submission",
            "postfix")
    assert login.time == datetime(2024, 9, 23, 15, 57, 40, tzinfo=UTC)
    assert login.lineno == 1
    assert login.line.startswith("postfix/submission/smtpd[3646210]: 838FC8A5F: client=")
    message = run.message("838FC8A5F")
    assert (message.via, message.user, message.client_ip, message.sender, message.lineno) == (
        RelayVia.AUTH, "out@example.org", "fe80::1:2:3:4", "out@example.org", 1)
    (delivery,) = message.deliveries
    assert (delivery.recipient, delivery.status, delivery.relay) == (
        "someone@example.com", "sent", "gmail-smtp-in.l.google.com[173.194.76.27]:25")
    assert delivery.time == datetime(2024, 9, 23, 15, 57, 42, tzinfo=UTC)
    assert message.lines[0] == login.line
    assert message.lines[1].startswith("postfix/qmgr[2450825]: 838FC8A5F: from=<out@example.org>")
    assert message.lines[2].startswith("postfix/smtp[3646046]: 838FC8A5F: to=<someone@")


def test_one_login_event_per_message_not_per_session(tmp_path: Path) -> None:
    lines = "".join(
        f"Oct 13 20:41:0{i} h postfix/smtpd[5331]: 123A51E01CD{i}: client=unknown[162.216.193.51]"
        f":4321, sasl_method=LOGIN, sasl_username=bgabrys@franklinpa.gov\n"
        for i in range(3)
    )
    run = _scan(tmp_path, lines)
    assert [(e.user, e.client_ip) for e in run.logins] == [
        ("bgabrys@franklinpa.gov", "162.216.193.51")] * 3
    # no qmgr line within the hour that followed: the log ends, the three are given out at flush
    assert len(run.messages) == 3


def test_long_queue_ids_and_service_names(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Mar 11 23:27:54 s postfix-smo/submission/smtpd[2]: 44JCRG5tYPzCqt2: client=a[192.0.2.1], sasl_method=PLAIN, sasl_username=u1
Mar 11 23:27:55 s postfix/smtps/smtpd[3]: 44JCRG5tYPzCqt3: client=a[192.0.2.2], sasl_method=LOGIN, sasl_username=u2
Mar 11 23:27:56 s postfix-incoming/smtpd[4]: 44JCRG5tYPzCqt4: client=a[IPv6:2001:DB8::1], sasl_method=CRAM-MD5, sasl_username=u3
Mar 11 23:27:57 s postfix/smtp-25/smtpd[5]: 44JCRG5tYPzCqt5: client=a[::ffff:192.0.2.5]:25, sasl_method=PLAIN, sasl_username=u4
""")  # noqa: E501 - real line shapes, kept whole
    assert [(e.user, e.service, e.client_ip, e.method) for e in run.logins] == [
        ("u1", "submission", "192.0.2.1", "PLAIN"),
        ("u2", "smtps", "192.0.2.2", "LOGIN"),
        ("u3", "smtp", "2001:db8::1", "CRAM-MD5"),
        ("u4", "smtp", "192.0.2.5", "PLAIN"),
    ]
    assert sorted(m.queue_id for m in run.messages) == [
        "44JCRG5tYPzCqt2", "44JCRG5tYPzCqt3", "44JCRG5tYPzCqt4", "44JCRG5tYPzCqt5"]


def test_service_of() -> None:
    assert service_of("postfix/submission/smtpd") == "submission"
    assert service_of("postfix/submissions/smtpd") == "smtps"
    assert service_of("postfix/smtps/smtpd") == "smtps"
    assert service_of("postfix/smtpd") == "smtp"
    assert service_of("postfix/dkimmilter/smtpd") == "smtp"


def test_split_queue_id() -> None:
    assert split_queue_id("838FC8A5F: removed") == ("838FC8A5F", "removed")
    assert split_queue_id("44JCRG5tYPzCqt2: client=x[1.2.3.4]") == ("44JCRG5tYPzCqt2",
                                                                     "client=x[1.2.3.4]")
    for text in ("warning: x", "statistics: max cache size 1", "NOQUEUE: reject: RCPT",
                 "connect from a[1.2.3.4]", "ABC: x", ": x", ""):
        assert split_queue_id(text) is None, text


def test_sasl_failures(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Nov  4 09:11:01 mail postfix/smtpd[1234]: warning: unknown[192.0.2.152]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=admin
Nov  4 09:11:02 mail postfix/smtpd[1234]: warning: unknown[192.0.2.153]: SASL PLAIN authentication failed: authentication failure, sasl_username=(unavailable)
Sep  6 00:44:57 trianon postfix/submission/smtpd[11538]: warning: unknown[82.221.106.233]: SASL login authentication failed: UGFzc3dvcmQ6
Aug  4 16:47:52 mail3 postfix/smtpd[31152]: warning: unknown[192.0.2.237]:55729: SASL LOGIN authentication failed: authentication failure
Nov  4 09:11:01 mail postfix/submission/smtpd[27133]: warning: unknown[192.0.2.150]: SASL PLAIN authentication failed:
Feb  3 08:29:28 mail postfix/smtpd[21022]: warning: unknown[1.1.1.1]: SASL LOGIN authentication failed: Connection lost to authentication server
Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: SASL authentication failure: cannot connect to saslauthd server: Permission denied
Apr 26 10:55:19 tcc1 postfix/smtpd[21126]: warning: SASL authentication failure: Password verification failed
""")  # noqa: E501 - real line shapes, kept whole
    assert run.postfix_unknown() == 0
    assert run.stats.by_parser["postfix"] == 8
    assert [(e.kind, e.user, e.client_ip, e.method, e.reason, e.service) for e in run.logins] == [
        (LoginKind.FAILURE, "admin", "192.0.2.152", "LOGIN", "(reason unavailable)", "smtp"),
        (LoginKind.FAILURE, None, "192.0.2.153", "PLAIN", "authentication failure", "smtp"),
        (LoginKind.FAILURE, None, "82.221.106.233", "LOGIN", "UGFzc3dvcmQ6", "submission"),
        (LoginKind.FAILURE, None, "192.0.2.237", "LOGIN", "authentication failure", "smtp"),
        (LoginKind.FAILURE, None, "192.0.2.150", "PLAIN", "", "submission"),
    ]
    assert run.logins[0].line == (
        "postfix/smtpd[1234]: warning: unknown[192.0.2.152]: SASL LOGIN authentication failed: "
        "(reason unavailable), sasl_username=admin")


AMAVIS_CHAIN = """\
Dec  9 10:18:23 mail postfix/submission/smtpd[20040]: BA8F630001DA: client=client.example.com[89.247.252.52], sasl_method=PLAIN, sasl_username=sender@mydomain.com
Dec  9 10:18:23 mail postfix/qmgr[3398]: BA8F630001DA: from=<sender@mydomain.com>, size=502, nrcpt=2 (queue active)
Dec  9 10:18:24 mail postfix/smtpd[20051]: 1310930001DB: client=localhost[127.0.0.1]
Dec  9 10:18:24 mail postfix/qmgr[3398]: 1310930001DB: from=<sender@mydomain.com>, size=1188, nrcpt=2 (queue active)
Dec  9 10:18:24 mail postfix/smtp[20049]: BA8F630001DA: to=<a@dst1.example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.38, delays=0.23/0.02/0/0.13, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 1310930001DB)
Dec  9 10:18:24 mail postfix/smtp[20049]: BA8F630001DA: to=<b@dst2.example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.38, delays=0.23/0.02/0/0.13, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 1310930001DB)
Dec  9 10:18:24 mail postfix/qmgr[3398]: BA8F630001DA: removed
Dec  9 10:18:25 mail postfix/smtp[20055]: 1310930001DB: to=<a@dst1.example.com>, relay=mx.dst1.example.com[192.0.2.10]:25, delay=0.55, delays=0.02/0.06/0.16/0.31, dsn=2.0.0, status=sent (250 2.0.0 OK)
Dec  9 10:18:26 mail postfix/smtp[20056]: 1310930001DB: to=<b@dst2.example.com>, relay=mx.dst2.example.com[192.0.2.20]:25, delay=2, delays=0.02/0.06/0.16/0.31, dsn=4.4.1, status=deferred (connect to mx.dst2.example.com[192.0.2.20]:25: Connection refused)
Dec  9 10:18:26 mail postfix/qmgr[3398]: 1310930001DB: removed
"""  # noqa: E501 - real line shapes, kept whole


def test_content_filter_chain_keeps_the_submission_identity(tmp_path: Path) -> None:
    run = _scan(tmp_path, AMAVIS_CHAIN)
    assert run.postfix_unknown() == 0
    (message,) = run.messages
    assert (message.queue_id, message.via, message.user, message.client_ip, message.sender) == (
        "BA8F630001DA", RelayVia.AUTH, "sender@mydomain.com", "89.247.252.52",
        "sender@mydomain.com")
    assert [(d.recipient, d.status, d.relay) for d in message.deliveries] == [
        ("a@dst1.example.com", "sent", "mx.dst1.example.com[192.0.2.10]:25"),
        ("b@dst2.example.com", "deferred", "mx.dst2.example.com[192.0.2.20]:25"),
    ]
    assert len(message.lines) == 5
    assert "sasl_username=sender@mydomain.com" in message.lines[0]
    assert not any("client=localhost" in line for line in message.lines)


def test_chain_when_the_reinjected_copy_ends_before_the_filter_answers(tmp_path: Path) -> None:
    # the re-injected copy is delivered and removed before the first hop's "queued as" line
    lines = AMAVIS_CHAIN.splitlines(keepends=True)
    reordered = lines[:4] + lines[7:] + lines[4:7]
    run = _scan(tmp_path, "".join(reordered))
    (message,) = run.messages
    assert message.queue_id == "BA8F630001DA"
    assert _statuses(message) == {"a@dst1.example.com": "sent", "b@dst2.example.com": "deferred"}


def test_chain_when_the_reinjected_copy_is_seen_only_after_the_answer(tmp_path: Path) -> None:
    lines = AMAVIS_CHAIN.splitlines(keepends=True)
    run = _scan(tmp_path, "".join(lines[:2] + lines[4:]))  # no client=/qmgr line of the copy
    (message,) = run.messages
    assert (message.queue_id, message.user) == ("BA8F630001DA", "sender@mydomain.com")
    assert _statuses(message) == {"a@dst1.example.com": "sent", "b@dst2.example.com": "deferred"}


def test_the_copy_a_filter_announced_joins_the_chain_when_it_shows_up(tmp_path: Path) -> None:
    lines = AMAVIS_CHAIN.splitlines(keepends=True)
    # the filter answers "queued as 1310930001DB" before the copy's client= line is logged
    run = _scan(tmp_path, "".join(lines[:2] + lines[4:6] + lines[2:4] + lines[6:]))
    (message,) = run.messages
    assert (message.queue_id, message.user, message.client_ip) == (
        "BA8F630001DA", "sender@mydomain.com", "89.247.252.52")
    assert _statuses(message) == {"a@dst1.example.com": "sent", "b@dst2.example.com": "deferred"}
    assert not any("client=localhost" in line for line in message.lines)


def test_a_filter_that_never_reports_back_leaves_recipients_accepted(tmp_path: Path) -> None:
    lines = AMAVIS_CHAIN.splitlines(keepends=True)
    run = _scan(tmp_path, "".join(lines[:7]))
    (message,) = run.messages  # at flush: the copy is still queued
    assert [(d.recipient, d.status, d.relay) for d in message.deliveries] == [
        ("a@dst1.example.com", "accepted", "127.0.0.1[127.0.0.1]:10024"),
        ("b@dst2.example.com", "accepted", "127.0.0.1[127.0.0.1]:10024"),
    ]


def test_remote_queued_as_is_an_ordinary_delivery(tmp_path: Path) -> None:
    # a remote Postfix answers "queued as X" where X is also an open id here: not merged
    run = _scan(tmp_path, """\
Feb  4 09:29:26 mail postfix/submission/smtpd[1]: D37AE2C77B1E: client=unknown[68.183.218.8], sasl_method=LOGIN, sasl_username=hello@sender.example.com
Feb  4 09:29:26 mail postfix/submission/smtpd[2]: 57521780484: client=unknown[68.183.218.9], sasl_method=LOGIN, sasl_username=other@sender.example.com
Feb  4 09:29:26 mail postfix/smtpd[3]: 57521780485: client=unknown[217.70.178.9]
Feb  4 09:29:27 mail postfix/smtp[6653]: D37AE2C77B1E: to=<mail@sender2.example.com>, relay=spool.mail.gandi.net[217.70.178.1]:25, delay=0.66, delays=0.02/0.04/0.38/0.23, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 57521780484)
Feb  4 09:29:27 mail postfix/smtp[6653]: D37AE2C77B1E: to=<x@sender2.example.com>, relay=spool.mail.gandi.net[217.70.178.1]:25, delay=0.66, delays=0.02/0.04/0.38/0.23, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 57521780485)
Feb  4 09:29:27 mail postfix/qmgr[964]: D37AE2C77B1E: removed
""")  # noqa: E501 - real line shapes, kept whole
    assert sorted(m.queue_id for m in run.messages) == [
        "57521780484", "57521780485", "D37AE2C77B1E"]
    assert _statuses(run.message("D37AE2C77B1E")) == {
        "mail@sender2.example.com": "sent", "x@sender2.example.com": "sent"}


def test_xforward_orig_queue_id_links_the_copy(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Oct 13 16:40:40 ucs postfix/smtpd[18568]: 4F5C64474F: client=unknown[28.55.140.112]
Oct 13 16:40:40 ucs postfix/qmgr[2329]: 4F5C64474F: from=<>, size=1315, nrcpt=1 (queue active)
Oct 13 16:40:42 ucs postfix/smtpd[18581]: ED01244770: client=localhost[127.0.0.1], orig_queue_id=4F5C64474F, orig_client=unknown[28.55.140.112]
Oct 13 16:40:42 ucs postfix/smtpd[18581]: ED01244771: client=localhost[127.0.0.1], orig_queue_id=FFFFFFFFFF, orig_client=unknown[198.51.100.7]
""")  # noqa: E501 - real line shapes, kept whole
    assert {m.queue_id: (m.via, m.client_ip) for m in run.messages} == {
        "4F5C64474F": (RelayVia.NETWORK, "28.55.140.112"),
        # its first hop is not in the log: the original client is the best address there is
        "ED01244771": (RelayVia.NETWORK, "198.51.100.7"),
    }


def test_local_submission_and_expiry(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Mar 30 11:33:58 test1 postfix/pickup[23219]: 81E343F2E2: uid=33 from=<www-data>
Mar 30 11:33:58 test1 postfix/cleanup[23392]: 81E343F2E2: message-id=<20210330093358.GA23369@sender.example.com>
Mar 30 11:33:58 test1 postfix/qmgr[23220]: 81E343F2E2: from=<www-data@sender.example.com>, size=458, nrcpt=2 (queue active)
Mar 30 11:33:59 test1 postfix/smtp[23394]: 81E343F2E2: to=<a@example.net>, relay=none, delay=0.47, delays=0.02/0.01/0.08/0.36, dsn=4.4.1, status=deferred (connect to example.net[192.0.2.1]:25: Connection timed out)
Mar 30 11:33:59 test1 postfix/smtp[23394]: 81E343F2E2: to=<b@example.net>, relay=example.net[192.0.2.1]:25, delay=0.47, delays=0.02/0.01/0.08/0.36, dsn=5.1.1, status=bounced (host example.net[192.0.2.1] said: 550 5.1.1 unknown)
Apr  4 11:34:00 test1 postfix/qmgr[23220]: 81E343F2E2: from=<www-data@sender.example.com>, status=expired, returned to sender
Apr  4 11:34:00 test1 postfix/qmgr[23220]: 81E343F2E2: removed
""")  # noqa: E501 - real line shapes, kept whole
    assert run.postfix_unknown() == 0
    (message,) = run.messages
    assert (message.via, message.uid, message.user, message.client_ip, message.sender) == (
        RelayVia.LOCAL, 33, None, None, "www-data@sender.example.com")
    assert _statuses(message) == {"a@example.net": "expired", "b@example.net": "bounced"}


def test_queue_id_reuse_starts_a_new_message(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Sep  4 01:24:11 n postfix/smtpd[1]: BABABABABA: client=a[192.0.2.1], sasl_method=PLAIN, sasl_username=first
Sep  4 01:24:11 n postfix/qmgr[2]: BABABABABA: from=<f@example.com>, size=1, nrcpt=1 (queue active)
Sep  4 01:24:12 n postfix/smtp[3]: BABABABABA: to=<r1@example.net>, relay=mx[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Sep  4 01:24:12 n postfix/qmgr[2]: BABABABABA: removed
Sep  4 01:25:11 n postfix/smtpd[1]: BABABABABA: client=b[192.0.2.2], sasl_method=PLAIN, sasl_username=second
Sep  4 01:25:11 n postfix/qmgr[2]: BABABABABA: from=<s@example.com>, size=1, nrcpt=1 (queue active)
Sep  4 01:25:12 n postfix/smtp[3]: BABABABABA: to=<r2@example.net>, relay=mx[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Sep  4 01:25:12 n postfix/qmgr[2]: BABABABABA: removed
Sep  4 01:25:13 other postfix/smtp[3]: BABABABABA: to=<r3@example.net>, relay=mx[192.0.2.9]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
""")  # noqa: E501 - real line shapes, kept whole
    assert [(m.user, m.sender, _statuses(m)) for m in run.messages] == [
        ("first", "f@example.com", {"r1@example.net": "sent"}),
        ("second", "s@example.com", {"r2@example.net": "sent"}),
        # same id on another host: another message, whose start is not in the log
        (None, "", {"r3@example.net": "sent"}),
    ]
    assert run.messages[2].via is RelayVia.QUEUED


def test_rejects_are_recognised_and_counted_per_user(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Jul 12 07:47:48 saturn postfix/smtpd[8738]: NOQUEUE: reject: RCPT from 1-2-3-4-example.com[1.2.3.4]: 554 5.7.1 <smtp@example.com>: Relay access denied; from=<john@example.com> to=<smtp@example.org> proto=SMTP helo=<198.51.100.17>
Jul 12 07:47:49 saturn postfix/submission/smtpd[8739]: NOQUEUE: reject_warning: RCPT from example.com[93.184.216.34]: 553 5.7.1 <sender@example.com>: Sender address rejected: not owned by user ph123; from=<sender@example.com> to=<recipient@example.com> proto=ESMTP helo=<example.com>
Jul 12 07:47:50 saturn postfix/submission/smtpd[8739]: NOQUEUE: reject: RCPT from example.com[93.184.216.34]: 553 5.7.1 <boss@example.com>: Sender address rejected: not owned by user ph123; from=<boss@example.com> to=<recipient@example.com> proto=ESMTP helo=<example.com>
Jul 12 07:47:51 saturn postfix/submission/smtpd[8740]: NOQUEUE: reject: RCPT from unknown[192.0.2.5]: 554 5.7.1 <x@example.org>: Relay access denied; from=<a@example.com> to=<x@example.org> proto=ESMTP helo=<h> sasl_method=PLAIN sasl_username=carol@example.com
Jul 12 07:47:52 saturn postfix/smtpd[8741]: NOQUEUE: milter-reject: RCPT from mailrelay.example.com[8.8.8.8]: 451 4.7.1 Greylisting in action; from=<support@example.com> to=<example@example.org> proto=ESMTP helo=<mailrelay.example.com>
May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from [216.245.194.173]:60591: 550 5.7.1 Service unavailable; from=<spammer@example.com>, to=<goodguy@example.com>, proto=ESMTP, helo=<badguy.example.com>
""")  # noqa: E501 - real line shapes, kept whole
    assert run.postfix_unknown() == 0
    assert run.events == []
    assert run.parser.rejects_by_user == Counter({"ph123": 2, "carol@example.com": 1})


def test_rejected_recipients_and_messages(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Feb 16 22:23:11 mx postfix/smtpd[17727]: 769FF2E0760: client=h[117.165.155.187]
Feb 16 22:23:11 mx postfix/smtpd[17727]: 769FF2E0760: reject: RCPT from h[117.165.155.187]: 550 5.1.1 <u1@example.com>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@example.org> to=<u1@example.com> proto=ESMTP helo=<h>
Feb 16 22:23:11 mx postfix/cleanup[9060]: 769FF2E0760: message-id=<a@h>
Feb 16 22:23:12 mx postfix/cleanup[9060]: 769FF2E0760: milter-reject: END-OF-MESSAGE from h[117.165.155.187]: 5.7.1 Spam message rejected; from=<s@example.org> to=<u2@example.com> proto=ESMTP helo=<h>
Feb 16 22:23:13 mx postfix/cleanup[9060]: 769FF2E0760: milter-reject: END-OF-MESSAGE from h[117.165.155.187]: 5.7.1 Spam message rejected; from=<s@example.org> to=<u2@example.com> proto=ESMTP helo=<h>
Feb  8 21:28:47 mx postfix/smtps/smtpd[1036]: DE81A2E2DAA: client=unknown[2a02:168:636a::15e2], sasl_method=PLAIN, sasl_username=h-d2315d@h-24e89d.com
Feb  8 21:28:47 mx postfix/smtps/smtpd[1036]: DE81A2E2DAA: reject: RCPT from unknown[2a02:168:636a::15e2]: 550 5.7.1 <spoof@example.com>: Sender address rejected: not owned by user h-d2315d@h-24e89d.com; from=<spoof@example.com> to=<r@example.net> proto=ESMTP helo=<x>
""")  # noqa: E501 - real line shapes, kept whole
    assert run.postfix_unknown() == 0
    assert {m.queue_id: _statuses(m) for m in run.messages} == {
        "769FF2E0760": {"u1@example.com": "rejected", "u2@example.com": "rejected"},
        "DE81A2E2DAA": {"r@example.net": "rejected"},
    }
    assert run.parser.rejects_by_user == Counter({"h-d2315d@h-24e89d.com": 1})


def test_noise_is_recognised_and_odd_text_is_not(tmp_path: Path) -> None:
    run = _scan(tmp_path, """\
Sep 23 15:53:33 mail postfix/smtpd[3643150]: connect from unknown[0.0.0.0]
Sep 23 15:53:33 mail postfix/smtpd[3643150]: lost connection after AUTH from unknown[192.0.2.23]
Sep 23 15:53:33 mail postfix/smtpd[3643150]: disconnect from unknown[192.0.2.23] ehlo=1 auth=0/1 rset=1 commands=2/3
Sep 23 15:53:33 mail postfix/smtpd[3643150]: Anonymous TLS connection established from unknown[1.2.3.4]: TLSv1.2 with cipher X (256/256 bits)
Sep 23 15:53:33 mail postfix/anvil[1]: statistics: max connection rate 1/60s for (smtp:1.2.3.4) at Sep 23 15:53:33
Sep 23 15:53:33 mail postfix/postscreen[1]: PASS OLD [1.2.3.4]:2345
Sep 23 15:53:33 mail postfix/smtp[1]: Trusted TLS connection established to mx[1.2.3.4]:25: TLSv1.3
Sep 23 15:53:33 mail postfix/smtp[1]: connect to mx[1.2.3.4]:25: Connection refused
Sep 23 15:53:33 mail postfix/master[1]: daemon started -- version 3.4.14, configuration /etc/postfix
Sep 23 15:53:33 mail postfix/qmgr[1]: warning: bounce_queue_lifetime is larger than maximal_queue_lifetime
Sep 23 15:53:33 mail postfix/qmgr[1]: 0F5383D: removed
Sep 23 15:53:33 mail postfix/smtpd[1]: hello there
Sep 23 15:53:33 mail postfix/qmgr[1]: 0F5383D: frobnicated
Sep 23 15:53:33 mail postfix/cleanup[1]: something else
""")  # noqa: E501 - real line shapes, kept whole
    assert run.events == []
    assert run.stats.unknown == Counter({"postfix/smtpd": 1, "postfix/qmgr": 1,
                                         "postfix/cleanup": 1})
    assert PostfixParser().claims("postfix-secondary/qmgr", "")
    assert not PostfixParser().claims("dovecot", "")
    assert PostfixParser().claims("/postfix-script", "")  # Zimbra
    assert not PostfixParser().claims("/usr/sbin/amavisd", "")
    assert not PostfixParser().claims(None, "postfix/smtpd: x")


# --- state limits ------------------------------------------------------------------------------


def _client(n: int, when: str, qid: str | None = None) -> str:
    qid = qid or f"A{n:09X}"
    return f"{when} h postfix/smtpd[1]: {qid}: client=c[192.0.2.{n}], sasl_method=PLAIN, " \
           f"sasl_username=u{n}\n"


def _queued(when: str, qid: str) -> str:
    return f"{when} h postfix/qmgr[2]: {qid}: from=<s@example.com>, size=1, nrcpt=1 " \
           "(queue active)\n"


def test_unqueued_messages_are_given_out_after_an_hour_uncounted(tmp_path: Path) -> None:
    parser = PostfixParser()
    text = _client(1, "Jan  1 00:00:00") + _client(2, "Jan  1 00:30:00")
    text += "Jan  1 01:00:31 h postfix/smtpd[1]: connect from a[192.0.2.9]\n"
    path = tmp_path / "maillog"
    path.write_text(text)
    events: list[LogEvent] = []
    stats = scan_logs([path], [parser], events.append, ScanOptions(year=2024))
    assert [type(e).__name__ for e in events] == [
        "LoginEvent", "LoginEvent", "RelayedMessage", "RelayedMessage"]
    assert stats.skipped == []


def test_expiry_and_eviction_are_counted(tmp_path: Path) -> None:
    text = _client(1, "Jan  1 00:00:00") + _queued("Jan  1 00:00:01", "A000000001")
    text += _client(2, "Jan  9 00:00:00") + _queued("Jan  9 00:00:01", "A000000002")
    text += _client(3, "Jan  9 00:00:02") + _queued("Jan  9 00:00:03", "A000000003")
    text += _client(4, "Jan  9 00:00:04") + _queued("Jan  9 00:00:05", "A000000004")
    run = _scan(tmp_path, text, PostfixParser(max_open=2))
    assert [m.user for m in run.messages] == ["u1", "u2", "u3", "u4"]
    assert [(s.reason, s.count) for s in run.stats.skipped] == [
        ("message still queued after 7 days of log time; given out as far as known", 1),
        ("more than 2 open messages; the oldest given out early", 1),
    ]


def test_reused_id_without_removed_is_counted(tmp_path: Path) -> None:
    text = _client(1, "Jan  1 00:00:00", "B00000000B") + _queued("Jan  1 00:00:01", "B00000000B")
    text += _client(2, "Jan  1 00:00:02", "B00000000B")
    run = _scan(tmp_path, text)
    assert [m.user for m in run.messages] == ["u1", "u2"]
    assert [(s.reason, s.count) for s in run.stats.skipped] == [
        ("queue id seen again before its 'removed' line; earlier message given out", 1)]


# --- public samples ----------------------------------------------------------------------------


@needs_shared
def test_lightmeter_individual_files_are_all_understood() -> None:
    for path in sorted((LIGHTMETER / "individual_files").glob("*.log")):
        run = Run([path], year=2020)
        assert run.postfix_unknown() == 0, (path.name, run.stats.unknown_samples)
        # no re-injected copy (client=localhost or the filter's own address) is a message itself
        assert not any(m.client_ip == "127.0.0.1" for m in run.messages), path.name


@needs_shared
def test_lightmeter_single_delivery_through_amavis() -> None:
    run = Run([LIGHTMETER / "individual_files" / "11_single_successful_delivery.log"], year=2020)
    (login,) = run.logins
    assert (login.user, login.client_ip, login.service) == (
        "sender@mydomain.com", "89.247.252.52", "submission")
    (message,) = run.messages
    assert (message.queue_id, message.via, message.client_ip) == (
        "BA8F630001DA", RelayVia.AUTH, "89.247.252.52")
    # dst1 went through amavis (1310930001DB) to gmail; dst2 is named only by the cleanup
    # "replace: header" line of the first hop (the file is an excerpt): accepted
    assert _statuses(message) == {"recipient1@dst2.example.com": "accepted",
                                  "recipient1@dst1.example.com": "sent"}


@needs_shared
def test_lightmeter_xforward_file() -> None:
    run = Run([LIGHTMETER / "individual_files" / "8_weird_log_file.log"], year=2020)
    (message,) = run.messages
    assert (message.queue_id, message.via, message.client_ip, message.sender) == (
        "4F5C64474F", RelayVia.NETWORK, "28.55.140.112", "")
    (delivery,) = message.deliveries
    assert (delivery.recipient, delivery.status, delivery.relay) == (
        "h-14a52d@h-d6b1ceccbb3bc48.com", "sent", "127.0.0.1[127.0.0.1]:2003")


@needs_shared
def test_lightmeter_queue_id_reuse_file() -> None:
    run = Run([LIGHTMETER / "individual_files" / "14_reuse_of_queueid.log"], year=2020)
    # grep -c 'client=.*\[112.83.23.93\]' → 37 submissions; grep -c 'client=.*\[170.55.103.23\]'
    # → 35 re-injections by the DKIM signer on :2501, each answered "queued as" (35 lines)
    assert len(run.messages) == 37
    assert {m.client_ip for m in run.messages} == {"112.83.23.93"}
    # BABABABABA is first the signer's copy of DADADADADA, then (after "removed") a submission
    assert _statuses(run.message("DADADADADA")) == {"h-4037cdee42da82c8d@h-526472e87.com": "sent"}
    assert run.message("BABABABABA").lineno == 541
    assert _statuses(run.message("BABABABABA")) == {"h-629de2eeab377@h-05c3ae107.com": "sent"}


@needs_shared
def test_lightmeter_pickup_zimbra_expired_and_retry_files() -> None:
    files = LIGHTMETER / "individual_files"
    pickup = Run([files / "10_pickup.log"], year=2020)
    (message,) = pickup.messages
    assert (message.queue_id, message.via, message.uid, message.sender) == (
        "08ACF1541B01", RelayVia.LOCAL, 0, "h-dc76@h-ac7182297368ddc0f.com")
    assert _statuses(message) == {"h-06819@h-b4e62aa55116.com": "sent"}

    zimbra = Run([files / "5_zimbra_amavisd.log"], year=2020)  # two filters in a row
    (message,) = zimbra.messages
    assert (message.queue_id, message.user, message.client_ip) == (
        "E8759DC24C3", "sender@sender.example.com", "11.22.33.44")
    assert _statuses(message) == {"recipient@recipient.example.com": "sent"}

    expired = Run([files / "18_expired.log"], year=2020)
    assert {m.queue_id: (m.via, _statuses(m)) for m in expired.messages} == {
        "20B4E3D5BD": (RelayVia.QUEUED, {"h-664d01@h-695da2287.com": "expired"}),
        "A7E673C067": (RelayVia.QUEUED, {"h-498b874f2bf0cf639807ad80e1@h-5e67b9b4406.com":
                                         "sent"}),  # the bounce to the sender
    }

    retry = Run([files / "6_deferred_message_retry.log"], year=2020)
    assert {m.queue_id: _statuses(m) for m in retry.messages} == {
        "78E8330001C7": {"recipient@recipient.com": "sent"},
        "939E030001C8": {"mail@another.com": "sent"},
        "0025630001C7": {"user2@some.example.com": "sent"},
    }

    two = Run([files / "26_two_recipients.log"], year=2020)
    (message,) = two.messages
    assert _statuses(message) == {"recipient1@external.org": "sent",
                                  "recipient2@external.org": "sent"}


@needs_shared
def test_lightmeter_rotated_debian_set() -> None:
    run = Run(sorted((LIGHTMETER / "logs_sample").iterdir()))
    assert run.postfix_unknown() == 0
    assert not [s for s in run.stats.skipped if s.where == "postfix queue"]
    successes = [e for e in run.logins if e.kind is LoginKind.SUCCESS]
    failures = [e for e in run.logins if e.kind is LoginKind.FAILURE]
    # zcat -f * | grep -c sasl_username= → 49: 46 from 165.199.26.15, 2 from 217.65.140.20,
    # 1 from 187.23.192.155 (grep -o 'client=[^,]*' | sort | uniq -c)
    assert Counter((e.user, e.client_ip, e.method, e.service) for e in successes) == Counter({
        ("h-aaf4c@h-ffeb17e38996c.com", "165.199.26.15", "LOGIN", "submission"): 46,
        ("h-cff5713@h-ffeb17e38996c.com", "217.65.140.20", "PLAIN", "submission"): 2,
        ("h-aaf4c@h-ffeb17e38996c.com", "187.23.192.155", "PLAIN", "submission"): 1,
    })
    # zcat -f * | grep -c 'SASL [A-Za-z0-9-]* authentication failed' → 1271 (all in mail.warn*)
    assert len(failures) == 1271
    assert all(e.user is None for e in failures)
    # grep -c ': client=' → 311, of which 155 from [127.0.0.1] (amavis re-injections); plus the
    # one bounce postfix/bounce made (E93553012026): 157 messages
    assert len(run.messages) == 157
    assert Counter(m.via for m in run.messages) == Counter(
        {RelayVia.NETWORK: 107, RelayVia.AUTH: 49, RelayVia.QUEUED: 1})
    auth = [m for m in run.messages if m.via is RelayVia.AUTH]
    assert sorted(m.lineno for m in auth) == sorted(e.lineno for e in successes)
    assert {m.user for m in auth} == {"h-aaf4c@h-ffeb17e38996c.com",
                                      "h-cff5713@h-ffeb17e38996c.com"}
    # every authenticated message was delivered, except B741F3012026, whose only recipient
    # bounced (grep -c status=bounced → 1; the bounce E93553012026 went back to its sender)
    delivered = [m for m in auth if m.deliveries and
                 all(d.status == "sent" for d in m.deliveries)]
    assert len(delivered) == 48
    (bounced,) = [m for m in auth if m not in delivered]
    assert bounced.queue_id == "B741F3012026"
    assert _statuses(bounced) == {"h-291085e837e73@h-7db8006395b.com": "bounced"}


@needs_shared
def test_postfix_exporter_sample() -> None:
    run = Run([SHARED / "postfix_exporter" / "mail.log"], year=2021)
    assert run.postfix_unknown() == 0
    assert run.stats.by_parser["postfix"] == 53  # grep -c . → 53 lines, all postfix
    assert [(e.kind, e.user, e.client_ip, e.service, e.method, e.reason) for e in run.logins] == [
        (LoginKind.FAILURE, None, "192.168.1.2", "smtp", "PLAIN", "generic failure"),
        (LoginKind.SUCCESS, "user@domain", "1.2.3.4", "smtp", "PLAIN", ""),
        (LoginKind.SUCCESS, "out@example.org", "fe80::1:2:3:4", "submission", "PLAIN", ""),
    ]
    message = run.message("838FC8A5F")
    assert (message.via, message.user, message.sender, _statuses(message)) == (
        RelayVia.AUTH, "out@example.org", "out@example.org", {"someone@example.com": "sent"})


@needs_shared
def test_fail2ban_postfix_sample() -> None:
    run = Run([SHARED / "fail2ban" / "postfix.log"], year=2020)
    assert run.postfix_unknown() == 0
    # grep -v '^#' | grep -c 'SASL [A-Za-z0-9-]* authentication failed' → 14, one of which is
    # "Connection lost to authentication server"
    assert len(run.logins) == 13
    assert all(e.kind is LoginKind.FAILURE for e in run.logins)
    assert run.messages == []
    (named,) = [e for e in run.logins if e.user is not None]
    assert (named.user, named.client_ip, named.method, named.reason) == (
        "admin", "192.0.2.152", "LOGIN", "(reason unavailable)")
    assert Counter(e.service for e in run.logins) == Counter(
        {"smtp": 9, "submission": 3, "smtps": 1})
    assert Counter(e.method for e in run.logins) == Counter(
        {"LOGIN": 8, "CRAM-MD5": 3, "PLAIN": 2})


@needs_shared
def test_crowdsec_samples() -> None:
    hub = SHARED / "crowdsec-hub"
    counts = {}
    for path in sorted(hub.glob("postfix-*.log")):
        run = Run([path], year=2024)
        assert run.postfix_unknown() == 0, path.name
        counts[path.name.split("__")[0]] = len(run.logins)
    # grep -c 'authentication failed' per file
    assert counts == {"postfix-helo": 0, "postfix-honeypot-users": 9, "postfix-logs": 1,
                      "postfix-non-smtp": 0, "postfix-relay": 0, "postfix-sasl-bf": 3,
                      "postfix-spam": 4}
    run = Run([hub / "postfix-honeypot-users__postfix-honeypot-users.log"], year=2024)
    assert [(e.user, e.client_ip, e.service) for e in run.logins][:2] == [
        ("postmaster@example.org", "203.0.113.10", "smtps"),
        ("admin@example.org", "203.0.113.20", "smtps")]
    rfc3339 = Run([hub / "postfix-logs__postfix-logs.log"])
    assert rfc3339.stats.by_parser["postfix"] == 7


# --- header-less message tables ----------------------------------------------------------------

_T = datetime(2024, 1, 1, tzinfo=UTC)


def _record(program: str, message: str, lineno: int) -> LogRecord:
    return LogRecord(_T, _T, "tsv", lineno, Envelope(_T, "h", program, 1, message))


_GROK_PROGRAMS = {"script": "postfix/postfix-script", "trivial_rewrite": "postfix/trivial-rewrite",
                  "tls_features": "postfix/smtp"}
_GROK_FRAGMENTS = {"command_counter_data", "delays", "relay"}


@needs_shared
def test_grok_pattern_messages() -> None:
    """Every real message of postfix-grok-patterns' tests is understood; the 13 pattern
    fragments (session counters, a delays field, a relay field, bare TLS feature words) are
    not messages and are not understood."""
    parser = PostfixParser()
    understood, fragments = 0, []
    text = (SHARED / "postfix-grok-patterns" / "postfix-messages-from-tests.tsv").read_text()
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split("\t")
        if len(parts) != 3 or not re.fullmatch(r"[a-z_]+_\d{4}", parts[0]):
            continue  # header, and continuation lines of two multi-line messages
        tag, message = parts[0].rsplit("_", 1)[0], parts[2]
        program = _GROK_PROGRAMS.get(tag, f"postfix/{tag}")
        result = parser.feed(_record(program, message, lineno))
        if result is not None:
            understood += 1
        else:
            fragments.append(parts[0])
    parser.flush()
    assert understood == 178
    assert fragments == [
        *(f"command_counter_data_000{i}" for i in range(1, 6)), "delays_0001", "relay_0001",
        *(f"tls_features_{i:04d}" for i in range(7, 13))]
    assert all(f.rsplit("_", 1)[0] in _GROK_FRAGMENTS | {"tls_features"} for f in fragments)


_TD_PROGRAMS = {"sd": "smtpd", "s": "smtp", "q": "qmgr", "c": "cleanup", "l": "local",
                "pp": "pipe", "ps": "postsuper", "spf": "policy-spf", "m": "master",
                "b": "bounce", "v": "virtual", "p": "pickup"}


@needs_shared
def test_logwatch_sample_messages() -> None:
    """postfix-logwatch's #TD lines: tag TD<service><Q|N> (Q: a queue id goes in front, N:
    NOQUEUE). Postgrey (pg) and postfwd (pfw) lines are not Postfix's (29 lines). Untagged
    ``TD`` lines name no program; they count as understood when smtpd or the smtp client
    understands them. The 6 not understood are logwatch artefacts, not Postfix output: a
    count glued in front (``25 connect from``, ``(12) from=``, ``2 uid=0``), a program name
    repeated in the message, and a queue-id-less ``client=`` line."""
    parser = PostfixParser()
    assert not parser.claims("postgrey", "") and not parser.claims("postfwd", "")
    total = understood = 0
    not_understood = []
    text = (SHARED / "logwatch" / "postfix-TD-sample-messages.tsv").read_text()
    for lineno, line in enumerate(text.splitlines(), 1):
        tag, _, message = line.partition("\t")
        match = re.fullmatch(r"TD([a-z]*?)([QN]?)", tag)
        assert match is not None, line
        if match[1] in ("pg", "pfw"):
            continue
        if match[2] == "Q":
            message = f"{0x1000000000 + lineno:X}: {message}"
        elif match[2] == "N":
            message = f"NOQUEUE: {message}"
        programs = [f"postfix/{_TD_PROGRAMS[match[1]]}"] if match[1] else [
            "postfix/smtpd", "postfix/smtp"]
        total += 1
        if any(parser.feed(_record(p, message, lineno)) is not None for p in programs):
            understood += 1
        else:
            not_understood.append(lineno)
    parser.flush()
    assert total == 311
    assert understood == 305
    assert not_understood == [55, 59, 143, 150, 190, 225]


# --- fuzzing and bulk --------------------------------------------------------------------------

_PROGRAMS = st.sampled_from([
    "postfix/smtpd", "postfix/submission/smtpd", "postfix/qmgr", "postfix/smtp", "postfix/cleanup",
    "postfix/pickup", "postfix/anvil", "postfix-x/lmtp", "postfix/postsuper", "postfix", "x/y/z",
    "", "postfix//",
])
_MESSAGES = st.one_of(
    st.text(max_size=200),
    st.builds(lambda q, body: f"{q}: {body}",
              st.sampled_from(["838FC8A5F", "44JCRG5tYPzCqt2", "ABCDEF"]),
              st.sampled_from(["client=", "client=x[", "to=<", "to=<a>, relay=", "from=<",
                               "uid=", "removed", "reject: RCPT", "milter-reject: x ; to=<",
                               "to=<a>, relay=b[127.0.0.1]:1, status=sent (queued as 838FC8A5F)",
                               "client=l[127.0.0.1], orig_queue_id=838FC8A5F, orig_client=[",
                               "client=l[127.0.0.1]", "client=x[1.2.3.4], sasl_username=u",
                               "from=<s>, size=1, nrcpt=1 (queue active)",
                               "from=<s>, status=expired, returned to sender",
                               "to=<b>, relay=c[127.0.0.1]:2, status=sent (queued as ABCDEF)",
                               "to=<b>, relay=c[1.2.3.4], status=sent (queued as 44JCRG5tYPzCqt2)",
                               "hold: header X from y; from=<s> to=<h>",
                               "discard: RCPT from y; from=<s> to=<d>"])
              .flatmap(lambda head: st.one_of(st.just(""), st.text(max_size=60))
                       .map(lambda tail: head + tail))),
    st.builds(lambda tail: "warning: a[1.2.3.4]: SASL LOGIN authentication failed: " + tail,
              st.text(max_size=60)),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_PROGRAMS, _MESSAGES, st.integers(0, 10_000_000)), max_size=30))
def test_fuzz_never_raises(lines: list[tuple[str, str, int]]) -> None:
    parser = PostfixParser(max_open=3, chain_grace=timedelta(seconds=5))
    for lineno, (program, message, seconds) in enumerate(lines, 1):
        when = _T + timedelta(seconds=seconds)
        record = LogRecord(when, when, "f", lineno, Envelope(when, "h", program or None, 1,
                                                             message))
        result = parser.feed(record)
        assert result is None or all(isinstance(e, LoginEvent | RelayedMessage) for e in result)
    assert all(isinstance(e, RelayedMessage) for e in parser.flush())
    assert parser.flush() == ()
    parser.skipped()


def test_hostile_lines_cost_linear_time() -> None:
    """Repeated field markers with no end: each of these took seconds to minutes with a naive
    ``[^>]*``-style search (quadratic); here the whole set is a few milliseconds."""
    parser = PostfixParser()
    hostile = [
        ("postfix/smtpd", "warning: " + "a[" * 50_000 + ": SASL LOGIN authentication failed: x"),
        ("postfix/smtpd", "warning: a[1.2.3.4]: SASL LOGIN authentication failed: "
         + ", sasl_username=" * 30_000),
        ("postfix/smtp", "ABCDEF1234: to=<a>, relay=b, status=sent (queued as "
         + "queued as " * 30_000),
        ("postfix/cleanup", "ABCDEF1234: reject: " + "; from=<" * 30_000 + " to=<" * 30_000),
        ("postfix/smtpd", "ABCDEF1234: reject: RCPT" + " to=<" * 50_000),
        ("postfix/smtpd", "ABCDEF1234: client=" + "[a], x=y" * 30_000),
        ("postfix/smtpd", "NOQUEUE: reject: " + "not owned by user " * 30_000),
        ("postfix/qmgr", "ABCDEF1234: from=<" + ">, size=" * 30_000),
    ]
    for lineno, (program, message) in enumerate(hostile, 1):
        parser.feed(_record(program, message, lineno))
    parser.flush()


def test_synthetic_bulk(tmp_path: Path) -> None:
    """A small synthetic day (brute force, authenticated relaying through amavis, relay
    rejects): everything understood, every event accounted for. Not timed."""
    lines = []
    for n in range(300):
        when = f"Mar  1 {n // 60 % 24:02d}:{n % 60:02d}:00"
        ip = f"203.0.113.{n % 250 + 1}"
        smtpd = f"{when} mx postfix/submission/smtpd[{1000 + n}]"
        lines += [f"{smtpd}: connect from unknown[{ip}]",
                  f"{smtpd}: warning: unknown[{ip}]: SASL LOGIN authentication failed: "
                  "UGFzc3dvcmQ6",
                  f"{smtpd}: disconnect from unknown[{ip}] ehlo=1 auth=0/1 commands=1/2"]
        if n % 3:
            continue
        q1, q2 = f"{n:05X}A0001", f"{n:05X}B0002"
        lines += [
            f"{smtpd}: {q1}: client=unknown[{ip}], sasl_method=PLAIN, sasl_username=user{n % 7}",
            f"{when} mx postfix/qmgr[9]: {q1}: from=<user{n % 7}@example.com>, size=1, nrcpt=2 "
            "(queue active)",
            f"{when} mx postfix/smtpd[9]: {q2}: client=localhost[127.0.0.1]",
            f"{when} mx postfix/qmgr[9]: {q2}: from=<user{n % 7}@example.com>, size=2, nrcpt=2 "
            "(queue active)",
        ]
        for r in ("a", "b"):
            lines.append(f"{when} mx postfix/smtp[8]: {q1}: to=<{r}@example.net>, "
                         "relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0/0/0/1, dsn=2.0.0, "
                         f"status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok:"
                         f" queued as {q2})")
        lines.append(f"{when} mx postfix/qmgr[9]: {q1}: removed")
        lines += [f"{when} mx postfix/smtp[8]: {q2}: to=<{r}@example.net>, relay=mx[192.0.2.1]:25,"
                  " delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)" for r in ("a", "b")]
        lines += [f"{when} mx postfix/qmgr[9]: {q2}: removed",
                  f"{when} mx postfix/smtpd[7]: NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1"
                  " <x@victim.example>: Relay access denied; from=<s@example.org> "
                  "to=<x@victim.example> proto=ESMTP helo=<bot>"]
    run = _scan(tmp_path, "\n".join(lines) + "\n")
    assert run.stats.lines == len(lines) == 300 * 3 + 100 * 11
    assert run.stats.unknown == Counter()
    assert len([e for e in run.logins if e.kind is LoginKind.FAILURE]) == 300
    assert len([e for e in run.logins if e.kind is LoginKind.SUCCESS]) == 100
    assert len(run.messages) == 100
    assert all(_statuses(m) == {"a@example.net": "sent", "b@example.net": "sent"}
               and m.via is RelayVia.AUTH for m in run.messages)
