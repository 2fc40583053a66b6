"""Tallies of a log read in parts, merged, equal the tallies of one sequential read.

The merge replays what depends on the order of logins (failure windows, failures before a
success, familiar addresses, evidence) and takes back foreign recipients in domains an earlier
part showed to be local; so for every place to cut an event stream the merged tallies must be
the same as one collector's. End to end, ``audit_logs`` with ``jobs=2`` on the benchmark's small
mode gives the same activity as ``jobs=1`` except for the documented choice of cited messages
and the order of equally frequent senders.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from authaudit.audit import AuditOptions
from authaudit.audit_report import LogOptions, audit_logs
from authaudit.correlate.activity import ActivityCollector
from authaudit.correlate.identity import IdentityResolver
from authaudit.logs import parallel
from authaudit.logs.interface import LogEvent
from authaudit.model import Delivery, LoginEvent, LoginKind, RelayedMessage, RelayVia
from bench import logsynth

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _login(n: int, seconds: int, user: str, ip: str, kind: LoginKind, attempts: int = 1
           ) -> LoginEvent:
    return LoginEvent(source="mail.log", lineno=n, time=T0 + timedelta(seconds=seconds),
                      daemon="postfix", service="smtp", kind=kind, user=user, client_ip=ip,
                      attempts=attempts, line=f"line {n}")


def _message(n: int, seconds: int, user: str, ip: str, recipients: list[str],
             sender: str = "") -> RelayedMessage:
    when = T0 + timedelta(seconds=seconds)
    return RelayedMessage(
        source="mail.log", lineno=n, time=when, daemon="postfix", queue_id=f"Q{n}",
        via=RelayVia.AUTH, user=user, client_ip=ip, sender=sender or user,
        deliveries=tuple(Delivery(recipient=r, status="sent", time=when, relay="mx[192.0.2.9]")
                         for r in recipients),
        lines=(f"message {n}",))


def _stream() -> list[LogEvent]:
    ok, bad = LoginKind.SUCCESS, LoginKind.FAILURE
    events: list[LogEvent] = [
        _login(1, 0, "u@victim.org", "192.0.2.10", ok),  # the owner's usual address
        _message(2, 5, "u@victim.org", "192.0.2.10", ["a@remote.example", "b@other.example"]),
        _message(3, 30, "w@victim.org", "192.0.2.11", ["c@partner.example"]),  # before partner
    ]
    seconds = 60
    for n in range(4, 30):  # a brute force over ten minutes
        events.append(_login(n, seconds, "u@victim.org", f"203.0.113.{n}", bad,
                             attempts=1 + n % 3))
        seconds += 25
    events += [
        _login(30, seconds, "x@partner.example", "198.51.100.5", ok),  # partner.example is local
        _login(31, seconds + 10, "u@victim.org", "192.0.2.10", ok),  # familiar: not the guess
        _login(32, seconds + 20, "u@victim.org", "203.0.113.7", ok),  # the guess succeeds
        _message(33, seconds + 30, "u@victim.org", "203.0.113.7",
                 ["d@partner.example", "e@far.example", "f@far.example"], "spoof@x.example"),
        _login(34, seconds + 40, "v@victim.org", "203.0.113.7", bad, attempts=3),
        _message(35, seconds + 50, "w@victim.org", "192.0.2.11", ["c@partner.example"]),
        _login(36, seconds + 86_500, "u@victim.org", "203.0.113.99", ok),  # a day later
        _login(37, seconds + 86_510, "u@victim.org", "203.0.113.98", bad),
    ]
    return events


def _collect(events: list[LogEvent], resolver: IdentityResolver,
             later: bool = False) -> ActivityCollector:
    collector = ActivityCollector(resolver, later_part=later)
    for event in events:
        collector.add(event)
    return collector


@pytest.mark.parametrize("cuts", [[n] for n in range(0, 39, 3)] + [[5, 20], [10, 31, 33]])
def test_merged_parts_equal_one_pass(cuts: list[int]) -> None:
    events = _stream()
    initial = IdentityResolver(local_domains=["victim.org"])
    whole = _collect(events, copy.deepcopy(initial))
    bounds = [0, *cuts, len(events)]
    merged = _collect(events[: bounds[1]], copy.deepcopy(initial))
    for start, end in itertools.pairwise(bounds[1:]):
        merged.merge(_collect(events[start:end], copy.deepcopy(initial), later=True))
    assert merged.activity() == whole.activity()
    assert merged.ips == whole.ips
    assert merged.local == whole.local
    assert (merged.logins, merged.failures, merged.messages) == (
        whole.logins, whole.failures, whole.messages)
    assert merged.resolver.local_domains == whole.resolver.local_domains
    assert merged.resolver.known == whole.resolver.known


def test_the_stream_exercises_the_replay() -> None:
    whole = _collect(_stream(), IdentityResolver(local_domains=["victim.org"]))
    u = next(a for a in whole.activity() if a.account == "u@victim.org")
    assert u.failures_before_success > 20 and u.guessed_from == "203.0.113.7"
    assert u.max_failures_in_window > 10
    assert u.foreign_domains == 3  # remote, other, far; partner.example became local


def test_report_in_two_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mail.log"
    logsynth.generate(path, logsynth.LogSynthConfig(lines=5000, seed=3))
    monkeypatch.setattr(parallel, "MIN_PART_BYTES", path.stat().st_size // 3)
    options = AuditOptions(now=T0)
    one = audit_logs([path], LogOptions(jobs=1), options)
    two = audit_logs([path], LogOptions(jobs=2), options)
    assert one.stats == two.stats and one.skipped == two.skipped
    assert [a.account for a in one.activity] == [a.account for a in two.activity]
    for a, b in zip(one.activity, two.activity, strict=True):
        # joined messages are tallied after the parts: which messages are cited as evidence and
        # the order of equally frequent senders may differ
        assert sorted(a.senders) == sorted(b.senders)
        assert sorted(a.relay_ips) == sorted(b.relay_ips)
        assert dataclasses.replace(a, evidence=(), senders=(), relay_ips=()) == dataclasses.replace(
            b, evidence=(), senders=(), relay_ips=())
    assert [(i.subject, i.kind, i.severity, i.summary) for i in one.incidents] == [
        (i.subject, i.kind, i.severity, i.summary) for i in two.incidents]
    assert one.findings == two.findings
