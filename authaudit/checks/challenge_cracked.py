"""**AA103 Password recovered from a challenge-response exchange.**

CRAM-MD5, NTLM, DIGEST-MD5 and SCRAM never send the password itself, but a captured exchange can be
tested offline against candidate passwords. authaudit tries the ``--wordlist`` files and candidates
derived from the username (the name, its local part and simple variants); a match means the
password is weak enough that anyone with the capture recovers it in seconds. Severity *high*;
*critical* when the server accepted the login (235).

Example row: ``critical  AA103  username on 127.0.0.1:25  CRAM-MD5 response cracked: password ...``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.exposures import group_exposures
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, Severity

__all__ = ["ChallengeCracked"]


class ChallengeCracked(Check):
    """AA103: a weak password recovered offline from a challenge-response exchange."""

    id = "AA103"
    title = "Password recovered from a challenge-response exchange"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    remediation = (
        "Change the password to a long random one; prefer SCRAM or TLS-protected PLAIN over "
        "CRAM-MD5/NTLM, whose captured exchanges can be cracked offline."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for exp in group_exposures(evidence.attempts, lambda a: a.cracked is not None):
            accepted = exp.succeeded()
            yield self.finding(
                severity=Severity.CRITICAL if accepted else Severity.HIGH,
                subject=exp.subject,
                account=(exp.first.username or "").lower() or None,
                message=(
                    f"{exp.first.mechanism} response cracked offline"
                    + (" and accepted by the server" if accepted else "")
                ),
                evidence=exp.evidence(),
                time=exp.first.time,
                last_time=exp.last_time,
                secret=exp.first.cracked,
            )
