"""Streaming per-identity, per-IP and per-uid tallies of log events, in bounded memory.

The scanner hands every :class:`LoginEvent` and :class:`RelayedMessage` to
:meth:`ActivityCollector.add` as it reads; nothing is kept per event, only counters, capped sets
and a few evidence lines, so a multi-GB log costs the same memory as a small one with the same
number of accounts and addresses. :meth:`ActivityCollector.activity` turns the tallies into
:class:`AccountActivity` records for the report and the AA3xx checks.
"""

from __future__ import annotations

import ipaddress
from collections import Counter

from authaudit.correlate.identity import IdentityResolver, domain_of
from authaudit.correlate.queue_join import QueueJoin
from authaudit.correlate.tallies import (
    CAP,
    EVIDENCE,
    IdentityTally,
    IpTally,
    Journal,
    LocalTally,
    put,
)
from authaudit.correlate.thresholds import Thresholds
from authaudit.logs.interface import LogEvent
from authaudit.model import AccountActivity, LoginEvent, LoginKind, RelayedMessage, RelayVia

__all__ = ["ActivityCollector", "IpTally", "LocalTally", "network_of"]

_LOCAL_RELAYS = ("local", "lmtp", "private/", "virtual", "dovecot", "maildrop", "procmail")
_OUTCOMES = frozenset({"sent", "deferred", "bounced"})


def network_of(ip: str) -> str:
    """The /16 (IPv4) or /48 (IPv6) network of ``ip``: how far apart two sources are."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 16 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _cite(event: LogEvent) -> str:
    text = event.line if isinstance(event, LoginEvent) else (event.lines[0] if event.lines else "")
    return f"{event.source}:{event.lineno}: {text}"


MAX_FAILURE_ONLY_IDENTITIES = 20_000
"""Identities tallied before new logins that only ever fail (each a login name an attacker
chose) are counted per address only; about 5 KB each, so this bounds them near 100 MB."""


class ActivityCollector:
    """The event sink of a log scan: tallies per identity, per client IP and per local sender."""

    def __init__(self, resolver: IdentityResolver, thresholds: Thresholds | None = None, *,
                 later_part: bool = False) -> None:
        """``later_part``: the collector reads a part of a log after the first, to be merged into
        the collector of the parts before it (:meth:`merge`)."""
        self.resolver = resolver
        self.thresholds = thresholds or Thresholds()
        self.later_part = later_part
        self.initial_domains = frozenset(resolver.local_domains)
        """The local domains known before the first event (from stores and options)."""
        self.identities: dict[str, IdentityTally] = {}
        self.ips: dict[str, IpTally] = {}
        self.local: dict[str, LocalTally] = {}
        """Keyed ``uid N`` or ``user NAME``."""
        self.logins = 0
        self.failures = 0
        self.messages = 0
        self.untallied_names = 0
        """Failure-only logins not given a tally of their own because of
        ``MAX_FAILURE_ONLY_IDENTITIES`` (still counted per address)."""
        self.queue_join = QueueJoin()
        """qmail: pairs qmail-send's delivery outcomes with the AUTH sessions' recipients."""

    def add(self, event: LogEvent) -> None:
        """Tally one event (the scanner's sink)."""
        if isinstance(event, LoginEvent):
            self._login(event)
        else:
            self._message(event)

    # -- logins -------------------------------------------------------------------------------

    def _identity(self, login: str) -> tuple[str, IdentityTally]:
        key = self.resolver.resolve(login)
        tally = self.identities.get(key)
        if tally is None:
            tally = self.identities[key] = IdentityTally()
            if self.later_part:
                tally.journal = Journal()
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
        if event.user and event.kind is not LoginKind.SUCCESS and (
            len(self.identities) >= MAX_FAILURE_ONLY_IDENTITIES
            and self.resolver.resolve(event.user) not in self.identities
        ):
            # a dictionary attack on login names: per-address tallies only, bounded memory
            self.untallied_names += 1
            key = self.resolver.resolve(event.user)
        elif event.user:
            key, tally = self._identity(event.user)
            tally.seen(time)
            put(tally.services, event.service)
            if event.kind is LoginKind.SUCCESS:
                self._success(tally, event, key)
            else:
                self._failure(tally, event)
        if event.client_ip is not None:
            ip = self._ip(event.client_ip)
            ip.seen(time)
            if event.kind is LoginKind.SUCCESS:
                ip.logins += 1
                if key is not None and len(ip.ok_accounts) < CAP:
                    ip.ok_accounts.add(key)
            else:
                ip.failures += event.attempts
                if key is not None and len(ip.failed_accounts) < CAP:
                    ip.failed_accounts.add(key)
                if len(ip.evidence) < EVIDENCE:
                    ip.evidence.append(_cite(event))

    def _success(self, tally: IdentityTally, event: LoginEvent, key: str) -> None:
        tally.logins += 1
        ip = event.client_ip
        familiar = ip is not None and ip in tally.login_ips
        tally.used_from(ip, event.time)
        domain = domain_of(key)
        if domain:
            self.resolver.local_domains.add(domain)
        if tally.journal is not None:
            tally.journal.logins.append((True, event.time, ip, 1, familiar, _cite(event)))
        elif event.time is not None and tally.day_failures:
            cite = _cite(event) if len(tally.evidence) < 2 * EVIDENCE else ""
            tally.succeeded(event.time, ip, familiar, cite)
        elif len(tally.evidence) < EVIDENCE:
            tally.evidence.append(_cite(event))

    def _failure(self, tally: IdentityTally, event: LoginEvent) -> None:
        tally.failures += event.attempts
        if event.client_ip is not None:
            put(tally.failure_ips, event.client_ip, event.attempts)
        time = event.time
        if time is not None:
            tally.day_failures_count[time.date()] += event.attempts
        if tally.journal is not None:
            tally.journal.logins.append(
                (False, time, event.client_ip, event.attempts, False, _cite(event)))
        elif len(tally.evidence) < EVIDENCE:
            tally.failed(time, event.client_ip, event.attempts, _cite(event),
                         self.thresholds.failure_window)
        elif time is not None:
            tally.failed(time, event.client_ip, event.attempts, "",
                         self.thresholds.failure_window)

    # -- messages -----------------------------------------------------------------------------

    def _foreign(self, recipient: str, relay: str) -> str | None:
        """The recipient's domain when the mail left the server, else None."""
        if relay.startswith(_LOCAL_RELAYS) or "[/" in relay or "[private/" in relay:
            return None  # local delivery, also LMTP over a unix socket (host[/path/lmtp])
        domain = domain_of(recipient.lower())
        if not domain or self.resolver.is_local(domain):
            return None
        return domain

    def _message(self, message: RelayedMessage) -> None:
        self.messages += 1
        if message.via is RelayVia.AUTH and message.user:
            self._auth_message(message)
        elif message.via in (RelayVia.LOCAL, RelayVia.QUEUED):
            if message.via is RelayVia.QUEUED and message.daemon == "qmail" and message.sender:
                self._qmail_outcomes(message)
            self._local_message(message)

    def _qmail_outcomes(self, message: RelayedMessage) -> None:
        """qmail-send's outcomes replace ``accepted`` for the AUTH sessions they pair with."""
        join = self.queue_join
        for delivery in message.deliveries:
            if delivery.status not in _OUTCOMES:
                continue
            account = join.delivered(message.sender, delivery.recipient, delivery.status,
                                     message.time)
            tally = self._paired_outcome(account, delivery.status) if account else None
            if tally is not None and len(tally.relay_evidence) < EVIDENCE and message.lines:
                tally.relay_evidence.append(_cite(message))

    def _paired_outcome(self, account: str, status: str) -> IdentityTally | None:
        """One of ``account``'s ``accepted`` recipients turns out to be ``status``; the account's
        tally when it was changed."""
        tally = self.identities.get(account)
        if tally is None or tally.statuses["accepted"] <= 0:
            return None
        tally.statuses["accepted"] -= 1
        tally.statuses[status] += 1
        return tally

    def _auth_message(self, message: RelayedMessage) -> None:
        assert message.user is not None
        key, tally = self._identity(message.user)
        time = message.time
        tally.seen(time)
        tally.messages += 1
        tally.used_from(message.client_ip, time)
        if message.client_ip is not None:
            put(tally.relay_ips, message.client_ip)
        if time is not None:
            tally.day_messages[time.date()] += 1
        sender = message.sender.lower()
        if sender and sender != key:
            put(tally.senders, sender)
        day = tally.day_domains.setdefault(time.date(), set()) if time is not None else None
        foreign = 0
        journal = tally.journal
        hour = time.replace(minute=0, second=0, microsecond=0) if time is not None else None
        qmail = message.daemon == "qmail"
        for delivery in message.deliveries:
            tally.recipients += 1
            status = delivery.status
            if qmail and status == "accepted":
                status = self.queue_join.accepted(key, message.sender, delivery.recipient,
                                                  delivery.time or time) or status
            tally.statuses[status] += 1
            domain = self._foreign(delivery.recipient, delivery.relay)
            if domain is None:
                continue
            foreign += 1
            if journal is not None:
                journal.foreign[(domain, hour)] += 1
            if len(tally.foreign_domains) < CAP:
                tally.foreign_domains.add(domain)
            if day is not None and len(day) < CAP:
                day.add(domain)
        tally.foreign_recipients += foreign
        if hour is not None and foreign:
            tally.hour_recipients[hour] += foreign
        if len(tally.relay_evidence) < EVIDENCE and message.lines:
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
            if self.later_part:
                tally.foreign_seen = Counter()
        if message.via is RelayVia.LOCAL:
            tally.queued_only = False
        tally.messages += 1
        time = message.time
        tally.seen(time)
        for delivery in message.deliveries:
            tally.recipients += 1
            domain = self._foreign(delivery.recipient, delivery.relay)
            if domain is None:
                continue
            tally.foreign_recipients += 1
            if len(tally.foreign_domains) < CAP:
                tally.foreign_domains.add(domain)
            if tally.foreign_seen is not None:
                tally.foreign_seen[domain] += 1
        if len(tally.evidence) < EVIDENCE and message.lines:
            tally.evidence.append(_cite(message))

    # -- merging ----------------------------------------------------------------------------

    def merge(self, later: ActivityCollector) -> None:
        """Add the tallies of a collector that read the next part of the same log (made with
        ``later_part=True`` and a copy of this collector's resolver as it was at the start); see
        :mod:`authaudit.correlate.tallies` for what the merge replays. Parts must be merged in
        log order."""
        learned = self.resolver.local_domains - later.initial_domains
        window = self.thresholds.failure_window
        for key, tally in later.identities.items():
            mine = self.identities.get(key)
            if mine is None:
                mine = self.identities[key] = IdentityTally()
            mine.merge(tally, window, learned)
        for ip, ip_tally in later.ips.items():
            mine_ip = self.ips.get(ip)
            if mine_ip is None:
                self.ips[ip] = ip_tally
            else:
                mine_ip.merge(ip_tally)
        for key, local in later.local.items():
            mine_local = self.local.get(key)
            if mine_local is None:
                mine_local = self.local[key] = LocalTally(daemon=local.daemon)
            mine_local.merge(local, learned)
        for account, status in self.queue_join.absorb(later.queue_join):
            self._paired_outcome(account, status)
        self.logins += later.logins
        self.failures += later.failures
        self.messages += later.messages
        for mailbox in later.resolver.known - self.resolver.known:
            self.resolver.add_mailbox(mailbox)
        self.resolver.local_domains |= later.resolver.local_domains

    # -- results ------------------------------------------------------------------------------

    def activity(self) -> list[AccountActivity]:
        """One record per identity, busiest first."""
        out = [self._record(key, tally) for key, tally in self.identities.items()]
        out.sort(key=lambda a: (-(a.messages + a.logins + a.failures), a.account))
        return out

    def _record(self, key: str, t: IdentityTally) -> AccountActivity:
        ips = [ip for ip, _ in t.login_ips.most_common()]
        return AccountActivity(
            account=key,
            logins=t.logins,
            failures=t.failures,
            login_ips=tuple(ips),
            relay_ips=tuple(ip for ip, _ in t.relay_ips.most_common()),
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
            evidence=tuple(t.evidence[:EVIDENCE] + t.relay_evidence[:EVIDENCE]),
        )
