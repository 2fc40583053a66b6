"""**AA302 Brute force against an account.**

Many failed logins on one account in a short time: at least 5 failures within 10 minutes
(fail2ban's ``maxretry``/``findtime``) is *medium*, 20 or more *high* (Zimbra's per-account
alarm). Failures are counted as the daemons log them, including Dovecot's ``auth failed,
N attempts``. A slow brute force that stays under that rate is caught by its total: 20 failures
from addresses that never logged in as the account (over the whole input) is *medium*. When
account stores were given, logins that do not exist there are left to AA303 (spray); a success
after the failures is AA304.

Example row: ``high  AA302  postmaster@victim.org  38 failed logins within 10 minutes from 3 IPs``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.checks.logs_common import ip_list, seen_evidence
from authaudit.model import Confidence, Finding, Severity

__all__ = ["BruteForce"]


class BruteForce(Check):
    """AA302: bursts of failed logins on one account."""

    id = "AA302"
    title = "Brute force against an account"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    remediation = (
        "Make sure the password is strong (see the account checks), block the sources "
        "(fail2ban or a firewall), and rate-limit AUTH failures per account and per IP."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        logs = evidence.logs
        if logs is None:
            return
        t = logs.thresholds
        resolver = logs.resolver
        seconds = int(t.failure_window.total_seconds())
        span = f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
        for a in logs.activity:
            burst = a.max_failures_in_window
            slow = a.stranger_failures >= t.stranger_failures
            if burst < t.failures_in_window and not slow:
                continue
            if resolver.stored and not a.logins and not resolver.is_stored(a.account):
                continue  # a login that does not exist here: AA303 reports the source
            if burst >= t.failures_in_window:
                message = (f"{burst} failed logins within {span} from "
                           f"{len(a.failure_ips)} IPs ({a.failures} failures in all)")
            else:
                message = (f"slow brute force: {a.stranger_failures} failed logins from "
                           f"{len(a.failure_ips)} IPs that never logged in as it, at most "
                           f"{a.max_failures_per_day} a day")
            yield self.finding(
                subject=a.account,
                account=a.account,
                severity=Severity.HIGH if burst >= t.failures_in_window_high else self.severity,
                message=message,
                evidence=(
                    ("failure_ips", ip_list(a.failure_ips)),
                    ("services", ", ".join(a.services)),
                    *seen_evidence(a.first_seen, a.last_seen),
                ),
                time=a.first_seen,
                last_time=a.last_seen,
            )
