"""**AA301 Account relays like a compromised one.**

An authenticated identity's mail in the logs looks like a spammer's rather than a person's. The
signals, per identity over the input (defaults from ``reference/logs.md`` §4, each configurable
with ``--threshold``):

* distinct client IPs in one day ≥ 10 (high ≥ 20; Exim wiki SMTP-AUTH abuse detector);
* with ``--geoip FILE.mmdb``: login countries ≥ 3 (high > 5; postfwd anti-geoip-spam plugin);
* foreign recipients in one hour > 100 (high > 500; Exim ratelimit idiom, Courier ratefilter);
* messages in one day > 150 (policyd-rate-limit);
* distinct foreign recipient domains in one day > 50 (high > 200);
* deferred + bounced share of its recipients ≥ 50 % of at least 5 (high ≥ 80 % of at least 20;
  cPanel's defer/fail limit);
* envelope senders in foreign domains (not hosted here) used by the identity (high when more
  than 3).

One medium signal gives *low*, two *medium*, three or one high signal *high*, two high signals
*critical*. Legitimate automation (one IP, a steady rate, few domains) raises no signal.

Example row: ``critical  AA301  test@victim.org  relayed 300 messages to 912 recipients in
251 foreign domains from 41 IPs``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.checks.logs_common import ip_list, ladder, seen_evidence
from authaudit.correlate.identity import domain_of
from authaudit.correlate.thresholds import Thresholds
from authaudit.model import AccountActivity, Confidence, Finding, Severity

__all__ = ["RelayAbuse", "foreign_senders"]


def foreign_senders(a: AccountActivity, local_domains: set[str]) -> list[str]:
    """Envelope senders ``a`` used in domains this server does not host."""
    out = []
    for sender in a.senders:
        domain = domain_of(sender)
        if sender == a.account or domain is None or domain in local_domains:
            continue  # a colleague's or shared mailbox on this server is not a spoofed sender
        out.append(sender)
    return out


def signals(
    a: AccountActivity, t: Thresholds, local_domains: set[str]
) -> tuple[list[str], list[str]]:
    """(medium, high) signal descriptions for one identity."""
    medium: list[str] = []
    high: list[str] = []

    def level(value: float, warn: float, hi: float | None, text: str) -> None:
        if hi is not None and value >= hi:
            high.append(text)
        elif value >= warn:
            medium.append(text)

    level(a.max_ips_per_day, t.ips_per_day, t.ips_per_day_high,
          f"{a.max_ips_per_day} client IPs in one day")
    if a.countries:
        level(len(a.countries), t.countries, t.countries_high,
              f"logins from {len(a.countries)} countries ({', '.join(a.countries[:6])})")
    level(a.max_recipients_per_hour, t.recipients_per_hour + 1, t.recipients_per_hour_high + 1,
          f"{a.max_recipients_per_hour} foreign recipients in one hour")
    level(a.max_messages_per_day, t.messages_per_day + 1, None,
          f"{a.max_messages_per_day} messages in one day")
    level(a.max_foreign_domains_per_day, t.foreign_domains_per_day + 1,
          t.foreign_domains_per_day_high + 1,
          f"{a.max_foreign_domains_per_day} foreign domains in one day")
    bad = a.deferred + a.bounced
    if a.recipients:
        share = bad / a.recipients
        text = f"{bad} of {a.recipients} recipients deferred or bounced ({share:.0%})"
        if share >= t.bad_delivery_share_high and bad >= t.bad_delivery_min_high:
            high.append(text)
        elif share >= t.bad_delivery_share and bad >= t.bad_delivery_min:
            medium.append(text)
    senders = foreign_senders(a, local_domains)
    if senders:
        text = f"{len(senders)} envelope senders in foreign domains ({ip_list(senders, 3)})"
        (high if len(senders) > t.foreign_senders_high else medium).append(text)
    return medium, high


class RelayAbuse(Check):
    """AA301: an identity whose relayed mail looks like spam from a stolen account."""

    id = "AA301"
    title = "Account relays like a compromised one"
    severity = Severity.HIGH
    confidence = Confidence.MEDIUM
    remediation = (
        "Change the account's password and end its sessions, hold or purge its mail in the queue, "
        "and check the login IPs; require TLS for AUTH and set a per-user sending limit."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        logs = evidence.logs
        if logs is None:
            return
        for a in logs.activity:
            if not a.messages:
                continue
            medium, high = signals(a, logs.thresholds, logs.resolver.local_domains)
            severity = ladder(len(medium), len(high))
            if severity is None:
                continue
            yield self.finding(
                subject=a.account,
                account=a.account,
                severity=severity,
                confidence=Confidence.HIGH if high else Confidence.MEDIUM,
                message=(
                    f"relayed {a.messages} messages to {a.recipients} recipients in "
                    f"{a.foreign_domains} foreign domains from {len(a.login_ips)} IPs"
                ),
                evidence=(
                    ("signals", "; ".join(high + medium)),
                    ("ips", ip_list(a.login_ips)),
                    ("networks", str(a.networks)),
                    *seen_evidence(a.first_seen, a.last_seen),
                ),
                time=a.first_seen,
                last_time=a.last_seen,
            )
