"""One failed login logged by the MTA and by Dovecot's passdb counts once."""

from __future__ import annotations

import dataclasses

from authaudit.correlate.pairing import FailurePairer
from authaudit.logs.interface import LogEvent
from authaudit.model import LoginEvent
from tests.correlate.scenario import login

IP = "192.0.2.7"


def passdb(user: str | None, seconds: float) -> LoginEvent:
    event = login(user, IP, seconds / 60, ok=False)
    return dataclasses.replace(event, daemon="dovecot", service="auth",
                               reason="passdb: Password mismatch")


def mta(user: str | None, seconds: float, attempts: int = 1) -> LoginEvent:
    return login(user, IP, seconds / 60, ok=False, n=attempts)


def run(*events: LoginEvent) -> tuple[list[LogEvent], int]:
    out: list[LogEvent] = []
    pairer = FailurePairer(out.append)
    for event in events:
        pairer(event)
    pairer.flush()
    return out, pairer.paired


def test_postfix_line_without_user_takes_the_passdb_user() -> None:
    """The Postfix < 3.9 case: Dovecot logs first, with the user; Postfix after, without."""
    out, paired = run(passdb("alice", 0), mta(None, 1))
    assert paired == 1
    assert [(e.user, e.reason) for e in out if isinstance(e, LoginEvent)] == [("alice", "")]


def test_passdb_after_the_primary_is_absorbed() -> None:
    out, paired = run(mta("alice", 0), passdb("alice", 1))
    assert (len(out), paired) == (1, 1)


def test_login_process_line_stands_for_its_attempts() -> None:
    """imap-login logs once at disconnect: 'auth failed, 3 attempts in 16 secs'."""
    out, paired = run(passdb("bob", 0), passdb("bob", 7), passdb("bob", 14), mta("bob", 16, 3))
    assert (len(out), paired) == (1, 3)
    assert isinstance(out[0], LoginEvent) and out[0].attempts == 3


def test_lone_lines_are_kept() -> None:
    """Only Dovecot's log was given, or the lines are minutes apart: nothing is merged or lost."""
    out, paired = run(passdb("carol", 0), passdb("carol", 300), mta("dave", 600))
    assert paired == 0
    assert sorted(str(e.user) for e in out if isinstance(e, LoginEvent)) == [
        "carol", "carol", "dave"]


def test_different_users_or_addresses_do_not_pair() -> None:
    other = dataclasses.replace(mta(None, 1), client_ip="198.51.100.1")
    out, paired = run(passdb("alice", 0), mta("mallory", 1), other)
    assert paired == 0
    assert len(out) == 3


def test_waiting_passdb_failures_are_counted_before_a_success() -> None:
    """IMAP retries on one connection and then succeeds: Dovecot logs no 'auth failed' line."""
    ok = login("bob", IP, 30 / 60)
    out, paired = run(*(passdb("bob", i) for i in range(8)), ok)
    assert paired == 0
    assert [e.kind.value for e in out if isinstance(e, LoginEvent)] == ["failure"] * 8 + [
        "success"]


def test_many_addresses_stay_fast() -> None:
    import time

    events = [dataclasses.replace(passdb("u", i / 100), client_ip=f"10.0.{i // 250}.{i % 250}")
              for i in range(20_000)]
    started = time.perf_counter()
    out, _ = run(*events)
    assert len(out) == 20_000
    assert time.perf_counter() - started < 5.0
