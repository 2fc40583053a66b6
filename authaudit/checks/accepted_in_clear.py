"""**AA102 Working credential captured in clear.**

The server answered 235 to a LOGIN, PLAIN, XOAUTH2 or OAUTHBEARER exchange that was sent without
TLS: the captured username and password (or token) are known to work. Anyone with the capture (or
on the path) can log in and relay mail as this account. Severity *critical*.

Example row:
``critical  AA102  test on 192.0.2.25:25  Server accepted a cleartext LOGIN credential``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.exposures import CLEARTEXT_KINDS, group_exposures
from authaudit.checks.interface import Check, Evidence
from authaudit.model import AuthAttempt, Confidence, Finding, Outcome, Severity

__all__ = ["AcceptedInClear"]


class AcceptedInClear(Check):
    """AA102: a credential that was accepted and travelled in clear."""

    id = "AA102"
    title = "Working credential captured in clear"
    severity = Severity.CRITICAL
    confidence = Confidence.HIGH
    remediation = (
        "Treat the account as compromised: change the password now, check the mail queue and the "
        "logs for mail relayed by this account, and require TLS before AUTH."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for exp in group_exposures(evidence.attempts, _accepted_in_clear):
            yield self.finding(
                subject=exp.subject,
                account=(exp.first.username or "").lower() or None,
                message=f"Server accepted a cleartext {exp.first.mechanism} credential",
                evidence=exp.evidence(),
                time=exp.first.time,
                last_time=exp.last_time,
                secret=exp.first.secret,
            )


def _accepted_in_clear(a: AuthAttempt) -> bool:
    return (
        not a.tls
        and a.outcome is Outcome.SUCCESS
        and a.secret is not None
        and a.secret.kind in CLEARTEXT_KINDS
    )
