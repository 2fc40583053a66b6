"""Splitting a report per customer domain, for hosting providers that send each customer theirs.

Everything about a mailbox goes to its domain's report: incidents, log activity, findings,
accounts and the capture's AUTH attempts for that login. What belongs to no domain (an attacking
IP's spray, a local uid, a bare login no store knows) goes to a report named ``_server``, which
also keeps the skipped-input records; every part lists all inputs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from authaudit.correlate.identity import IdentityResolver, domain_of
from authaudit.model import AccountActivity, AccountResult, AuthAttempt, Finding, Incident, Report

__all__ = ["SERVER_PART", "split_by_domain"]

SERVER_PART = "_server"


@dataclass(slots=True)
class _Part:
    incidents: list[Incident] = field(default_factory=list)
    activity: list[AccountActivity] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    accounts: list[AccountResult] = field(default_factory=list)
    attempts: list[AuthAttempt] = field(default_factory=list)


def split_by_domain(report: Report) -> dict[str, Report]:
    """One report per domain (sorted, ``_server`` last when present).

    Logins are resolved as the run resolved them (a bare ``test`` is ``test@victim.org`` when
    that is the only store mailbox with that local part), so a capture's attempts and findings
    go to the customer whose account they concern.
    """
    stored = [r.account.address for r in report.accounts]
    resolver = IdentityResolver(stored or [a.account for a in report.activity if "@" in a.account])

    def _domain(name: str | None) -> str:
        if not name:
            return SERVER_PART
        return domain_of(resolver.resolve(name)) or SERVER_PART

    parts: dict[str, _Part] = {}

    def part(domain: str) -> _Part:
        found = parts.get(domain)
        if found is None:
            found = parts[domain] = _Part()
        return found

    for incident in report.incidents:
        part(incident.domain or SERVER_PART).incidents.append(incident)
    for activity in report.activity:
        part(_domain(activity.account)).activity.append(activity)
    for finding in report.findings:
        part(_domain(finding.account)).findings.append(finding)
    for result in report.accounts:
        domain = (result.account.domain or "").lower() or _domain(result.account.address)
        part(domain).accounts.append(result)
    for attempt in report.attempts:
        part(_domain(attempt.username)).attempts.append(attempt)
    if report.skipped or report.tls_sessions:
        part(SERVER_PART)
    out: dict[str, Report] = {}
    for domain in sorted(parts, key=lambda d: (d == SERVER_PART, d)):
        p = parts[domain]
        server = domain == SERVER_PART
        out[domain] = dataclasses.replace(
            report,
            incidents=tuple(
                dataclasses.replace(n, rank=r) for r, n in enumerate(p.incidents, 1)
            ),
            activity=tuple(p.activity),
            findings=tuple(p.findings),
            accounts=tuple(p.accounts),
            attempts=tuple(p.attempts),
            tls_sessions=report.tls_sessions if server else (),
            skipped=report.skipped if server else (),
        )
    return out
