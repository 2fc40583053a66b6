"""**AA303 Password spray from one source.**

One client address failed to log in to many different accounts that it then did not get into:
5 distinct accounts is *medium* (crowdsec ``exim-user-bf``), 20 or more *high*. Accounts the
address failed on and also logged in to are set apart: people behind one webmail host or NAT
address mistype and then log in, a spray mostly fails. When the spray did get into some of the
accounts it failed on, the finding is *high*: it found a password.

An address whose failures name no user at all (Postfix before 3.9 without Dovecot's
``auth_verbose``) is reported when it failed 20 times or more: *medium*.

Example row: ``high  AA303  203.0.113.9  failed on 14 accounts and then logged in as test``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.checks.logs_common import ip_list, seen_evidence
from authaudit.correlate.activity import IpTally
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
            lost = tally.failed_accounts - tally.ok_accounts
            won = sorted(tally.failed_accounts & tally.ok_accounts)
            n = len(lost)
            if n < t.spray_accounts:
                if not tally.failed_accounts and tally.failures >= t.failures_in_window_high:
                    yield self._unnamed(ip, tally)
                continue
            severity = Severity.HIGH if n >= t.spray_accounts_high or won else self.severity
            message = f"failed on {n} accounts ({tally.failures} failures)"
            if won:
                message += f" and then logged in as {ip_list(won, 3)}"
            yield self.finding(
                subject=ip,
                severity=severity,
                message=message,
                evidence=(
                    ("accounts", ip_list(sorted(lost))),
                    ("logged_in_as", ", ".join(won)),
                    *seen_evidence(tally.first, tally.last),
                    *(("line", line) for line in tally.evidence[:2]),
                ),
                time=tally.first,
                last_time=tally.last,
            )

    def _unnamed(self, ip: str, tally: IpTally) -> Finding:
        """A finding for an address whose failed logins the log does not attribute to a user."""
        return self.finding(
            subject=ip,
            message=f"{tally.failures} failed logins (the log names no user)",
            evidence=(
                *seen_evidence(tally.first, tally.last),
                *(("line", line) for line in tally.evidence[:2]),
            ),
            time=tally.first,
            last_time=tally.last,
        )
