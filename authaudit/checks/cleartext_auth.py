"""**AA101 Credential sent over an unencrypted connection.**

An SMTP AUTH exchange ran on a connection that was not protected by TLS, so anyone on the path
could read it. LOGIN, PLAIN, XOAUTH2 and OAUTHBEARER reveal the password or token itself: severity
*high*. Challenge-response mechanisms (CRAM-MD5, NTLM, DIGEST-MD5, SCRAM) reveal a value an
attacker can attack offline with a wordlist: severity *medium*.

Example row: ``high  AA101  test on 192.0.2.25:25  Cleartext LOGIN credential sent without TLS``.

References: RFC 4954 section 4 and section 15 (security considerations); RFC 8314 (use of TLS for
mail submission).
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.exposures import CLEARTEXT_KINDS, group_exposures
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, Severity

__all__ = ["CleartextAuth"]


class CleartextAuth(Check):
    """AA101: AUTH credentials readable on the wire."""

    id = "AA101"
    title = "Credential sent over an unencrypted connection"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    remediation = (
        "Change the password; require TLS before AUTH (Postfix smtpd_tls_auth_only = yes, "
        "Dovecot disable_plaintext_auth/auth_allow_cleartext = no) and offer submission on 465/587 "
        "with TLS only."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for exp in group_exposures(evidence.attempts, lambda a: not a.tls):
            secret = exp.first.secret
            assert secret is not None
            readable = secret.kind in CLEARTEXT_KINDS
            what = "credential" if readable else "response (offline-crackable)"
            yield self.finding(
                severity=Severity.HIGH if readable else Severity.MEDIUM,
                subject=exp.subject,
                account=(exp.first.username or "").lower() or None,
                message=f"{exp.first.mechanism} {what} sent without TLS",
                evidence=exp.evidence(),
                time=exp.first.time,
                last_time=exp.last_time,
                secret=secret,
            )
