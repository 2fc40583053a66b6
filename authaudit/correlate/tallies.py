"""The running tallies :class:`~authaudit.correlate.activity.ActivityCollector` keeps, and how
the tallies of two consecutive parts of a log are merged into those of the whole.

A tally holds counters, capped sets and a few evidence lines. Merging the tallies of part B (read
after part A) into A's is exact for counts, sums, sets (below their caps), first and last times,
and the order of first appearance that ties in ``most_common`` follow. What depends on the order
of logins across the cut (failure windows, failures before a success, whether a success came from
a familiar address, which lines are evidence) cannot be summed: a collector reading a later part
therefore records those logins in a :class:`Journal` instead, and :meth:`IdentityTally.merge`
replays it on top of A's state, with the same code the sequential collector runs.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

__all__ = ["CAP", "EVIDENCE", "IdentityTally", "IpTally", "Journal", "LocalTally", "Span", "put"]

CAP = 10_000
"""Most distinct values kept in one set or counter (more are counted, not stored)."""
EVIDENCE = 4
_DAY = timedelta(days=1)
_MAX_RECENT = 1000
_MAX_DAY_FAILURES = 10_000

K = TypeVar("K")


def put(counter: Counter[str], key: str, n: int = 1) -> None:
    """Count ``key`` unless the counter is full of other keys."""
    if key in counter or len(counter) < CAP:
        counter[key] += n


def _merge_counter(into: Counter[K], other: Counter[K], capped: bool) -> None:
    for key, n in other.items():
        if not capped or key in into or len(into) < CAP:
            into[key] += n


def _merge_set(into: set[str], other: set[str]) -> None:
    for value in other:
        if len(into) >= CAP:
            break
        into.add(value)


def _merge_days(into: dict[date, set[str]], other: dict[date, set[str]]) -> None:
    for day, values in other.items():
        mine = into.get(day)
        if mine is None:
            into[day] = set(values)
        else:
            _merge_set(mine, values)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b < a) else a


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


@dataclass(slots=True)
class Span:
    """When a tallied identity, address or sender was first and last active."""

    first: datetime | None = None
    last: datetime | None = None

    def seen(self, time: datetime | None) -> None:
        """It was active at ``time`` (None: an unknown time, ignored)."""
        if time is None:
            return
        if self.first is None or time < self.first:
            self.first = time
        if self.last is None or time > self.last:
            self.last = time

    def widen(self, later: Span) -> None:
        """Take in the span of the same tally from the next part of the log."""
        self.first = _earliest(self.first, later.first)
        self.last = _latest(self.last, later.last)


Login = tuple[bool, datetime | None, str | None, int, bool, str]
"""A journal entry: (success, time, client address, attempts, familiar within the part, the
evidence citation)."""


@dataclass(slots=True)
class Journal:
    """What a collector reading a later part of a log keeps for the merge (see the module
    docstring): per identity, its logins in order, and its foreign recipients per domain and
    hour (a domain that an earlier part's logins showed to be local was not foreign after all)."""

    logins: list[Login] = field(default_factory=list)
    foreign: Counter[tuple[str, datetime | None]] = field(default_factory=Counter)


@dataclass(slots=True)
class IdentityTally(Span):
    """Running tallies of one identity."""

    logins: int = 0
    failures: int = 0
    login_ips: Counter[str] = field(default_factory=Counter)
    failure_ips: Counter[str] = field(default_factory=Counter)
    day_ips: dict[date, set[str]] = field(default_factory=dict)
    services: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    recipients: int = 0
    foreign_recipients: int = 0
    foreign_domains: set[str] = field(default_factory=set)
    day_domains: dict[date, set[str]] = field(default_factory=dict)
    hour_recipients: Counter[datetime] = field(default_factory=Counter)
    day_messages: Counter[date] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    senders: Counter[str] = field(default_factory=Counter)
    relay_ips: Counter[str] = field(default_factory=Counter)
    """Addresses that submitted mail as this identity (a subset of ``login_ips``)."""
    recent_failures: deque[datetime] = field(default_factory=deque)
    day_failures: deque[tuple[datetime, str | None]] = field(default_factory=deque)
    max_failures_in_window: int = 0
    day_failures_count: Counter[date] = field(default_factory=Counter)
    failures_before_success: int = 0
    guessed_from: str | None = None
    evidence: list[str] = field(default_factory=list)
    relay_evidence: list[str] = field(default_factory=list)
    journal: Journal | None = None
    """Set when the collector reads a later part of a log (see the module docstring)."""

    def used_from(self, ip: str | None, time: datetime | None) -> None:
        """The identity logged in or sent from ``ip``."""
        if ip is None:
            return
        put(self.login_ips, ip)
        if time is not None:
            ips = self.day_ips.setdefault(time.date(), set())
            if len(ips) < CAP:
                ips.add(ip)

    # -- what depends on the order of logins ------------------------------------------------------

    def succeeded(self, time: datetime | None, ip: str | None, familiar: bool, cite: str) -> None:
        """A successful login, after ``used_from``; ``familiar``: ``ip`` had been used before.

        A success from an address the account used before the failures is its owner's routine
        login, not the guess succeeding. The failures a success is credited with are not credited
        again to a later success (the botnet logging in after the guess).
        """
        day_failures = self.day_failures
        if time is not None and day_failures:
            horizon = time - _DAY
            while day_failures and day_failures[0][0] < horizon:
                day_failures.popleft()
            failing = any(f_ip == ip for _, f_ip in day_failures)
            before = len(day_failures) if failing or not familiar else 0
            if before > self.failures_before_success:
                self.failures_before_success = before
                self.guessed_from = ip
                if len(self.evidence) < 2 * EVIDENCE:
                    self.evidence.append(cite)
            if before:
                day_failures.clear()  # these failures led to this success, not to later ones
        elif len(self.evidence) < EVIDENCE:
            self.evidence.append(cite)

    def failed(self, time: datetime | None, ip: str | None, attempts: int, cite: str,
               window: timedelta) -> None:
        """A failed login of ``attempts`` tries."""
        if len(self.evidence) < EVIDENCE:
            self.evidence.append(cite)
        if time is None:
            return
        recent = self.recent_failures
        for _ in range(min(attempts, _MAX_RECENT)):
            recent.append(time)
            self.day_failures.append((time, ip))
        while recent and recent[0] < time - window:
            recent.popleft()
        while len(recent) > _MAX_RECENT:
            recent.popleft()
        while len(self.day_failures) > _MAX_DAY_FAILURES:
            self.day_failures.popleft()
        self.max_failures_in_window = max(self.max_failures_in_window, len(recent))

    # -- merging ----------------------------------------------------------------------------------

    def merge(self, later: IdentityTally, window: timedelta, local: set[str]) -> None:
        """Add the tallies of the same identity from the next part of the log; ``local``: the
        domains this part's logins showed to be local that the next part did not know of."""
        journal = later.journal
        if journal is not None:
            for success, time, ip, attempts, familiar, cite in journal.logins:
                if success:
                    self.succeeded(time, ip, familiar or (ip is not None and ip in self.login_ips),
                                   cite)
                else:
                    self.failed(time, ip, attempts, cite, window)
            _unforeign(later, journal, local)
        self.logins += later.logins
        self.failures += later.failures
        _merge_counter(self.login_ips, later.login_ips, True)
        _merge_counter(self.failure_ips, later.failure_ips, True)
        _merge_days(self.day_ips, later.day_ips)
        _merge_counter(self.services, later.services, True)
        self.messages += later.messages
        self.recipients += later.recipients
        self.foreign_recipients += later.foreign_recipients
        _merge_set(self.foreign_domains, later.foreign_domains)
        _merge_days(self.day_domains, later.day_domains)
        _merge_counter(self.hour_recipients, later.hour_recipients, False)
        _merge_counter(self.day_messages, later.day_messages, False)
        _merge_counter(self.statuses, later.statuses, False)
        _merge_counter(self.senders, later.senders, True)
        _merge_counter(self.relay_ips, later.relay_ips, True)
        _merge_counter(self.day_failures_count, later.day_failures_count, False)
        self.widen(later)
        for line in later.relay_evidence:
            if len(self.relay_evidence) >= EVIDENCE:
                break
            self.relay_evidence.append(line)


def _unforeign(tally: IdentityTally, journal: Journal, local: set[str]) -> None:
    """Take back the foreign recipients of ``tally`` in domains known to be local after all."""
    if not local:
        return
    for (domain, hour), n in journal.foreign.items():
        if domain not in local:
            continue
        tally.foreign_recipients -= n
        tally.foreign_domains.discard(domain)
        if hour is not None:
            left = tally.hour_recipients[hour] - n
            if left > 0:
                tally.hour_recipients[hour] = left
            else:
                del tally.hour_recipients[hour]
            day = tally.day_domains.get(hour.date())
            if day is not None:
                day.discard(domain)


@dataclass(slots=True)
class IpTally(Span):
    """What one client address did: which accounts it failed and succeeded on."""

    failures: int = 0
    failed_accounts: set[str] = field(default_factory=set)
    logins: int = 0
    ok_accounts: set[str] = field(default_factory=set)
    evidence: list[str] = field(default_factory=list)

    def merge(self, later: IpTally) -> None:
        """Add the tallies of the same address from the next part of the log."""
        self.failures += later.failures
        _merge_set(self.failed_accounts, later.failed_accounts)
        self.logins += later.logins
        _merge_set(self.ok_accounts, later.ok_accounts)
        self.widen(later)
        self.evidence.extend(later.evidence[: EVIDENCE - len(self.evidence)])


@dataclass(slots=True)
class LocalTally(Span):
    """Mail one local uid or user injected without SMTP AUTH."""

    messages: int = 0
    recipients: int = 0
    foreign_recipients: int = 0
    foreign_domains: set[str] = field(default_factory=set)
    daemon: str = ""
    queued_only: bool = True
    """True when every message came from a log that does not say how it entered the queue
    (qmail-send): the busiest such uid is then qmaild's, i.e. SMTP, not a script."""
    evidence: list[str] = field(default_factory=list)
    foreign_seen: Counter[str] | None = None
    """Foreign recipients per domain, kept by a collector reading a later part of a log."""

    def merge(self, later: LocalTally, local: set[str]) -> None:
        """Add the tallies of the same sender from the next part of the log (see
        :meth:`IdentityTally.merge` for ``local``)."""
        if later.foreign_seen is not None:
            for domain, n in later.foreign_seen.items():
                if domain in local:
                    later.foreign_recipients -= n
                    later.foreign_domains.discard(domain)
        self.messages += later.messages
        self.recipients += later.recipients
        self.foreign_recipients += later.foreign_recipients
        _merge_set(self.foreign_domains, later.foreign_domains)
        self.queued_only = self.queued_only and later.queued_only
        self.widen(later)
        self.evidence.extend(later.evidence[: EVIDENCE - len(self.evidence)])
