"""**AA303 Password spray from one source.**

One client address failed to log in to many different accounts: 5 distinct accounts is
*medium* (crowdsec ``exim-user-bf``), 20 or more *high*. When the same address also logged in
successfully to any account, the finding is *high* whatever the count: the spray found a password.

Example row: ``high  AA303  203.0.113.9  failed on 14 accounts and then logged in as test``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.checks.logs_common import ip_list
from authaudit.model import Confidence, Finding, Severity

__all__ = ["PasswordSpray"]


class PasswordSpray(Check):
    """AA303: one IP trying many accounts."""

    id = "AA303"
    title = "Password spray from one source"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    remediation = (
        "Block the address, check every account it logged in to, and rate-limit AUTH failures "
        "per client IP."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        logs = evidence.logs
        if logs is None:
            return
        t = logs.thresholds
        for ip, tally in sorted(logs.ips.items()):
            n = len(tally.failed_accounts)
            if n < t.spray_accounts:
                continue
            won = sorted(tally.ok_accounts)
            severity = Severity.HIGH if n >= t.spray_accounts_high or won else self.severity
            message = f"failed on {n} accounts ({tally.failures} failures)"
            if won:
                message += f" and logged in as {ip_list(won, 3)}"
            yield self.finding(
                subject=ip,
                severity=severity,
                message=message,
                evidence=(
                    ("accounts", ip_list(sorted(tally.failed_accounts))),
                    ("logged_in_as", ", ".join(won)),
                    ("first_seen", tally.first.isoformat() if tally.first else ""),
                    ("last_seen", tally.last.isoformat() if tally.last else ""),
                    *(("line", line) for line in tally.evidence[:2]),
                ),
                time=tally.first,
            )
