"""Which parser reads a program's lines, and the counts of lines the scanner answers itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from authaudit.logs import routing
from authaudit.logs.dovecot import DovecotParser
from authaudit.logs.interface import NOTHING, LogEvent
from authaudit.logs.merge import LogRecord
from authaudit.logs.postfix import PostfixParser
from authaudit.logs.routing import ALL_LINES, QuietAware, Router, family
from authaudit.logs.syslog import Envelope
from authaudit.model import Skipped


class _Counting:
    """A parser that claims programs starting with ``a`` and counts the questions."""

    name = "counting"

    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def claims(self, program: str | None, message: str) -> bool:
        self.asked.append(program)
        if program is None:
            return message.startswith("mine")
        return program.startswith("a")

    def feed(self, record: LogRecord) -> Sequence[LogEvent] | None:
        return NOTHING

    def flush(self) -> Sequence[LogEvent]:
        return NOTHING

    def skipped(self) -> Sequence[Skipped]:
        return ()


def test_family_drops_the_dovecot_session_part() -> None:
    assert family("auth(u,192.0.2.1,sasl:login)<abc>") == "auth"
    assert family("postfix/smtpd") == "postfix/smtpd"
    assert family(None) == family("") == "-"


def test_a_program_is_decided_once_untagged_lines_each_time() -> None:
    parser = _Counting()
    router = Router([parser])
    assert router.route("abc", "x").parser is parser
    assert router.route("abc", "y") is router.route("abc", "z")
    assert router.route("zzz", "x").parser is None
    assert parser.asked == ["abc", "zzz"]
    assert router.route(None, "mine").parser is parser
    assert router.route(None, "other").parser is None
    assert parser.asked == ["abc", "zzz", None, None]


def test_quiet_texts_come_from_quiet_aware_parsers_only() -> None:
    postfix = PostfixParser()
    router = Router([postfix, DovecotParser(), _Counting()])
    assert isinstance(postfix, QuietAware) and not isinstance(_Counting(), QuietAware)
    assert router.route("postfix/postscreen", "").quiet == ALL_LINES
    smtpd = router.route("postfix/submission/smtpd", "")
    assert "connect from " in smtpd.quiet and smtpd.pattern is None and smtpd.tick is not None
    cleanup = router.route("postfix/cleanup", "")
    assert "NOQUEUE: " not in cleanup.quiet and cleanup.pattern is not None
    assert cleanup.pattern.match("4F2A1C3B7: message-id=<a@b>")
    assert not cleanup.pattern.match("4F2A1C3B7: reject: header Subject: x")
    assert router.route("dovecot", "").quiet == ()
    assert router.route("abc", "").quiet == () and router.route("abc", "").tick is None
    assert router.route("opendkim", "").quiet == ALL_LINES  # unclaimed: every line counted


def test_counts_survive_forgetting_the_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routing, "MAX_PROGRAMS", 3)
    router = Router([_Counting()])
    for program in ("a1", "a2", "b1", "a3", "b2", "a1"):
        router.route(program, "").lines += 2
    assert len(router.routes) <= 3
    recognised, unclaimed = router.harvest()
    assert recognised == {"counting": 8} and unclaimed == {"b1": 2, "b2": 2}
    assert router.harvest() == ({}, {})


def test_postfix_tick_gives_out_what_time_ends() -> None:
    parser = PostfixParser()
    when = datetime.fromisoformat("2025-01-01T00:00:00+00:00")
    record = LogRecord(when, when, "f", 1, _envelope("1A2B3C4D5E: client=a[192.0.2.1]"))
    parser.feed(record)
    assert parser.tick(when) == NOTHING
    # an hour later the unqueued message is closed, then held a minute for a filter's claim
    assert parser.tick(datetime.fromisoformat("2025-01-01T01:00:00+00:00")) == NOTHING
    given = parser.tick(datetime.fromisoformat("2025-01-01T01:01:30+00:00"))
    assert [type(event).__name__ for event in given] == ["RelayedMessage"]


def _envelope(message: str) -> Envelope:
    return Envelope(None, "h", "postfix/smtpd", 1, message)
