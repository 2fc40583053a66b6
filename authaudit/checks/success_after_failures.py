"""**AA304 Login success after failures.**

An account logged in successfully after failed attempts in the 24 hours before, from an address
that took part in the failures or that it had not used before (the owner's routine login from
their usual address after a brute force by others is not this): at least 5
failures is *medium*, 20 or more (or a login name bots try first, such as ``test``, ``admin``,
``info``) *high*. This is the moment a guessed password starts to be used (the ``test``/``test``
case).

Example row: ``high  AA304  info@shop.example  logged in from 91.92.241.118 after 23 failures
in the previous 24 h``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.checks.logs_common import WEAK_NAMES, ip_list
from authaudit.model import Confidence, Finding, Severity

__all__ = ["SuccessAfterFailures"]


class SuccessAfterFailures(Check):
    """AA304: a success that follows a run of failures."""

    id = "AA304"
    title = "Login success after failures"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    remediation = (
        "Assume the password was guessed: change it, review the logins and mail since the first "
        "success, and rate-limit AUTH failures."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        logs = evidence.logs
        if logs is None:
            return
        t = logs.thresholds
        for a in logs.activity:
            n = a.failures_before_success
            if n < t.failures_before_success or not a.logins:
                continue
            weak_name = a.account.split("@", 1)[0] in WEAK_NAMES
            high = n >= t.failures_before_success_high or weak_name
            yield self.finding(
                subject=a.account,
                account=a.account,
                severity=Severity.HIGH if high else self.severity,
                confidence=Confidence.HIGH if high else self.confidence,
                message=(f"logged in from {a.guessed_from or 'an unknown address'} after {n} "
                         "failures in the previous 24 h"),
                evidence=(
                    ("login_ips", ip_list(a.login_ips)),
                    ("failure_ips", ip_list(a.failure_ips)),
                    *(("line", line) for line in a.evidence[:3]),
                ),
                time=a.first_seen,
            )
