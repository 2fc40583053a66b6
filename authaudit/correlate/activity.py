"""Streaming per-identity, per-IP and per-uid tallies of log events, in bounded memory.

The scanner hands every :class:`LoginEvent` and :class:`RelayedMessage` to
:meth:`ActivityCollector.add` as it reads; nothing is kept per event, only counters, capped sets
and a few evidence lines, so a multi-GB log costs the same memory as a small one with the same
number of accounts and addresses. :meth:`ActivityCollector.activity` turns the tallies into
:class:`AccountActivity` records for the report and the AA3xx checks.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from authaudit.correlate.identity import IdentityResolver, domain_of
from authaudit.correlate.thresholds import Thresholds
from authaudit.logs.interface import LogEvent
from authaudit.model import AccountActivity, LoginEvent, LoginKind, RelayedMessage, RelayVia

__all__ = ["ActivityCollector", "IpTally", "LocalTally", "network_of"]

_CAP = 10_000
"""Most distinct values kept in one set or counter (more are counted, not stored)."""
_EVIDENCE = 4
_DAY = timedelta(days=1)
_LOCAL_RELAYS = ("local", "lmtp", "private/", "virtual", "dovecot", "maildrop", "procmail")


def network_of(ip: str) -> str:
    """The /16 (IPv4) or /48 (IPv6) network of ``ip``: how far apart two sources are."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 16 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _put(counter: Counter[str], key: str, n: int = 1) -> None:
    if key in counter or len(counter) < _CAP:
        counter[key] += n


def _cite(event: LogEvent) -> str:
    text = event.line if isinstance(event, LoginEvent) else (event.lines[0] if event.lines else "")
    return f"{event.source}:{event.lineno}: {text}"


@dataclass(slots=True)
class _Identity:
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
    recent_failures: deque[datetime] = field(default_factory=deque)
    day_failures: deque[tuple[datetime, str | None]] = field(default_factory=deque)
    max_failures_in_window: int = 0
    day_failures_count: Counter[date] = field(default_factory=Counter)
    failures_before_success: int = 0
    guessed_from: str | None = None
    first: datetime | None = None
    last: datetime | None = None
    evidence: list[str] = field(default_factory=list)
    relay_evidence: list[str] = field(default_factory=list)

    def seen(self, time: datetime | None) -> None:
        if time is None:
            return
        if self.first is None or time < self.first:
            self.first = time
        if self.last is None or time > self.last:
            self.last = time

    def used_from(self, ip: str | None, time: datetime | None) -> None:
        if ip is None:
            return
        _put(self.login_ips, ip)
        if time is not None:
            ips = self.day_ips.setdefault(time.date(), set())
            if len(ips) < _CAP:
                ips.add(ip)


@dataclass(slots=True)
class IpTally:
    """What one client address did: which accounts it failed and succeeded on."""

    failures: int = 0
    failed_accounts: set[str] = field(default_factory=set)
    logins: int = 0
    ok_accounts: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    evidence: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LocalTally:
    """Mail one local uid or user injected without SMTP AUTH."""

    messages: int = 0
    recipients: int = 0
    foreign_recipients: int = 0
    foreign_domains: set[str] = field(default_factory=set)
    daemon: str = ""
    queued_only: bool = True
    """True when every message came from a log that does not say how it entered the queue
    (qmail-send): the busiest such uid is then qmaild's, i.e. SMTP, not a script."""
    first: datetime | None = None
    last: datetime | None = None
    evidence: list[str] = field(default_factory=list)


class ActivityCollector:
    """The event sink of a log scan: tallies per identity, per client IP and per local sender."""

    def __init__(self, resolver: IdentityResolver, thresholds: Thresholds | None = None) -> None:
        self.resolver = resolver
        self.thresholds = thresholds or Thresholds()
        self.identities: dict[str, _Identity] = {}
        self.ips: dict[str, IpTally] = {}
        self.local: dict[str, LocalTally] = {}
        """Keyed ``uid N`` or ``user NAME``."""
        self.logins = 0
        self.failures = 0
        self.messages = 0

    def add(self, event: LogEvent) -> None:
        """Tally one event (the scanner's sink)."""
        if isinstance(event, LoginEvent):
            self._login(event)
        else:
            self._message(event)

    # -- logins -------------------------------------------------------------------------------

    def _identity(self, login: str) -> tuple[str, _Identity]:
        key = self.resolver.resolve(login)
        tally = self.identities.get(key)
        if tally is None:
            tally = self.identities[key] = _Identity()
        return key, tally

    def _ip(self, ip: str) -> IpTally:
        tally = self.ips.get(ip)
        if tally is None:
            tally = self.ips[ip] = IpTally()
        return tally

    def _login(self, event: LoginEvent) -> None:
        time = event.time
        if event.kind is LoginKind.SUCCESS:
            self.logins += 1
        else:
            self.failures += event.attempts
        key: str | None = None
        if event.user:
            key, tally = self._identity(event.user)
            tally.seen(time)
            _put(tally.services, event.service)
            if event.kind is LoginKind.SUCCESS:
                self._success(tally, event, key)
            else:
                self._failure(tally, event)
        if event.client_ip is not None:
            ip = self._ip(event.client_ip)
            if time is not None:
                ip.first = time if ip.first is None or time < ip.first else ip.first
                ip.last = time if ip.last is None or time > ip.last else ip.last
            if event.kind is LoginKind.SUCCESS:
                ip.logins += 1
                if key is not None and len(ip.ok_accounts) < _CAP:
                    ip.ok_accounts.add(key)
            else:
                ip.failures += event.attempts
                if key is not None and len(ip.failed_accounts) < _CAP:
                    ip.failed_accounts.add(key)
                if len(ip.evidence) < _EVIDENCE:
                    ip.evidence.append(_cite(event))

    def _success(self, tally: _Identity, event: LoginEvent, key: str) -> None:
        tally.logins += 1
        ip = event.client_ip
        # a success from an address the account used before the failures is its owner's
        # routine login, not the guess succeeding
        familiar = ip is not None and ip in tally.login_ips
        tally.used_from(ip, event.time)
        domain = domain_of(key)
        if domain:
            self.resolver.local_domains.add(domain)
            if key not in self.resolver.known:
                self.resolver.add_mailbox(key)  # it logged in, so the mailbox exists
        if event.time is not None and tally.day_failures:
            horizon = event.time - _DAY
            while tally.day_failures and tally.day_failures[0][0] < horizon:
                tally.day_failures.popleft()
            failing = any(f_ip == ip for _, f_ip in tally.day_failures)
            before = len(tally.day_failures) if failing or not familiar else 0
            if before > tally.failures_before_success:
                tally.failures_before_success = before
                tally.guessed_from = ip
                if len(tally.evidence) < 2 * _EVIDENCE:
                    tally.evidence.append(_cite(event))
        elif len(tally.evidence) < _EVIDENCE:
            tally.evidence.append(_cite(event))

    def _failure(self, tally: _Identity, event: LoginEvent) -> None:
        tally.failures += event.attempts
        if event.client_ip is not None:
            _put(tally.failure_ips, event.client_ip, event.attempts)
        if len(tally.evidence) < _EVIDENCE:
            tally.evidence.append(_cite(event))
        time = event.time
        if time is None:
            return
        tally.day_failures_count[time.date()] += event.attempts
        window = self.thresholds.failure_window
        recent = tally.recent_failures
        for _ in range(min(event.attempts, 1000)):
            recent.append(time)
            tally.day_failures.append((time, event.client_ip))
        while recent and recent[0] < time - window:
            recent.popleft()
        while len(recent) > 1000:
            recent.popleft()
        while len(tally.day_failures) > 10_000:
            tally.day_failures.popleft()
        tally.max_failures_in_window = max(tally.max_failures_in_window, len(recent))

    # -- messages -----------------------------------------------------------------------------

    def _foreign(self, recipient: str, relay: str) -> str | None:
        """The recipient's domain when the mail left the server, else None."""
        if relay.startswith(_LOCAL_RELAYS):
            return None
        domain = domain_of(recipient.lower())
        if not domain or self.resolver.is_local(domain):
            return None
        return domain

    def _message(self, message: RelayedMessage) -> None:
        self.messages += 1
        if message.via is RelayVia.AUTH and message.user:
            self._auth_message(message)
        elif message.via in (RelayVia.LOCAL, RelayVia.QUEUED):
            self._local_message(message)

    def _auth_message(self, message: RelayedMessage) -> None:
        assert message.user is not None
        key, tally = self._identity(message.user)
        time = message.time
        tally.seen(time)
        tally.messages += 1
        tally.used_from(message.client_ip, time)
        if time is not None:
            tally.day_messages[time.date()] += 1
        sender = message.sender.lower()
        if sender and sender != key:
            _put(tally.senders, sender)
        day = tally.day_domains.setdefault(time.date(), set()) if time is not None else None
        foreign = 0
        for delivery in message.deliveries:
            tally.recipients += 1
            tally.statuses[delivery.status] += 1
            domain = self._foreign(delivery.recipient, delivery.relay)
            if domain is None:
                continue
            foreign += 1
            if len(tally.foreign_domains) < _CAP:
                tally.foreign_domains.add(domain)
            if day is not None and len(day) < _CAP:
                day.add(domain)
        tally.foreign_recipients += foreign
        if time is not None and foreign:
            tally.hour_recipients[time.replace(minute=0, second=0, microsecond=0)] += foreign
        if len(tally.relay_evidence) < _EVIDENCE and message.lines:
            tally.relay_evidence.append(_cite(message))

    def _local_message(self, message: RelayedMessage) -> None:
        if not message.sender and message.via is RelayVia.QUEUED:
            return  # a bounce (null sender) queued by the MTA itself, not by a script
        if message.uid is not None:
            key = f"uid {message.uid}"
        elif message.user:
            key = f"user {message.user.lower()}"
        else:
            return
        tally = self.local.get(key)
        if tally is None:
            tally = self.local[key] = LocalTally(daemon=message.daemon)
        if message.via is RelayVia.LOCAL:
            tally.queued_only = False
        tally.messages += 1
        time = message.time
        if time is not None:
            tally.first = time if tally.first is None or time < tally.first else tally.first
            tally.last = time if tally.last is None or time > tally.last else tally.last
        for delivery in message.deliveries:
            tally.recipients += 1
            domain = self._foreign(delivery.recipient, delivery.relay)
            if domain is None:
                continue
            tally.foreign_recipients += 1
            if len(tally.foreign_domains) < _CAP:
                tally.foreign_domains.add(domain)
        if len(tally.evidence) < _EVIDENCE and message.lines:
            tally.evidence.append(_cite(message))

    # -- results ------------------------------------------------------------------------------

    def activity(self) -> list[AccountActivity]:
        """One record per identity, busiest first."""
        out = [self._record(key, tally) for key, tally in self.identities.items()]
        out.sort(key=lambda a: (-(a.messages + a.logins + a.failures), a.account))
        return out

    def _record(self, key: str, t: _Identity) -> AccountActivity:
        ips = [ip for ip, _ in t.login_ips.most_common()]
        return AccountActivity(
            account=key,
            logins=t.logins,
            failures=t.failures,
            login_ips=tuple(ips),
            failure_ips=tuple(ip for ip, _ in t.failure_ips.most_common()),
            networks=len({network_of(ip) for ip in ips}),
            max_ips_per_day=max((len(s) for s in t.day_ips.values()), default=0),
            messages=t.messages,
            recipients=t.recipients,
            foreign_recipients=t.foreign_recipients,
            foreign_domains=len(t.foreign_domains),
            max_recipients_per_hour=max(t.hour_recipients.values(), default=0),
            max_messages_per_day=max(t.day_messages.values(), default=0),
            max_foreign_domains_per_day=max((len(s) for s in t.day_domains.values()), default=0),
            deferred=t.statuses["deferred"],
            bounced=t.statuses["bounced"] + t.statuses["expired"],
            senders=tuple(s for s, _ in t.senders.most_common()),
            services=tuple(s for s, _ in t.services.most_common()),
            max_failures_in_window=t.max_failures_in_window,
            max_failures_per_day=max(t.day_failures_count.values(), default=0),
            stranger_failures=sum(n for ip, n in t.failure_ips.items() if ip not in t.login_ips),
            failures_before_success=t.failures_before_success,
            guessed_from=t.guessed_from,
            first_seen=t.first,
            last_seen=t.last,
            evidence=tuple(t.evidence[:_EVIDENCE] + t.relay_evidence[:_EVIDENCE]),
        )
