"""**AA206 Weak password hash scheme.**

The stored hash uses a scheme that costs an attacker almost nothing per guess or that is
password-equivalent: traditional DES crypt (only the first 8 characters count), BSDi and bigcrypt,
MD5-crypt, Sun MD5 and sha1crypt (all of which crypt(5) says not to use, and which Dovecot 2.4
refuses by default), unsalted or single salted digests (``{PLAIN-MD5}``, ``{SHA}``, ``{SSHA256}``,
NTLM, LANMAN ...: billions of guesses per second on one GPU), CRAM-MD5/HMAC-MD5 contexts and
DIGEST-MD5 hashes (a stolen value logs in through that mechanism without cracking), and OTP/S/KEY
state. The reason is given per scheme in the evidence. Cleartext storage is AA205, not AA206.

Severity *medium*: it matters once the store leaks, and then for every account at once. Whether
this account's password was recovered is shown by AA201-AA204 and the ``found_by`` evidence.

Example row: ``medium  AA206  bob@example.com  Weak password hash scheme MD5-CRYPT``.

References: OWASP Password Storage Cheat Sheet; CWE-916 Use of Password Hash With Insufficient
Computational Effort; CWE-759 Use of a One-Way Hash without a Salt; crypt(5) (libxcrypt);
Dovecot 2.4 documentation, ``auth_allow_weak_schemes``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.accounts.schemes import SchemeInfo
from authaudit.checks.accounts_common import account_evidence, scheme_info
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, Severity

__all__ = ["AccountWeakScheme"]


class AccountWeakScheme(Check):
    """AA206: the password hash scheme is weak."""

    id = "AA206"
    title = "Weak password hash scheme"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    remediation = (
        "Re-hash at next login with a slow salted scheme (Dovecot: ARGON2ID, or BLF-CRYPT with "
        "cost 10 or more; vpopmail 5.6: SHA-512 crypt) and make accounts that do not log in soon "
        "change their password."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in evidence.accounts:
            info = scheme_info(result.account)
            if not isinstance(info, SchemeInfo) or info.weak is None:
                continue
            yield self.finding(
                subject=result.account.address,
                account=result.account.address.lower(),
                message=f"Weak password hash scheme {info.name}",
                evidence=account_evidence(result, ("weakness", info.weak)),
                time=result.account.last_auth_at,
                secret=result.password,
            )
