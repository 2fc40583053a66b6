"""**AA207 Low cost parameter of the password hash.**

The scheme is sound but its work factor was set too low, so each guess is cheap: bcrypt
(BLF-CRYPT) cost below 10 (Dovecot's own default is 5), SHA256/SHA512-CRYPT rounds explicitly
lowered below 5000, PBKDF2 or SCRAM iterations below 10 000 (Dovecot's defaults, 5000 and 4096,
are below), argon2 memory or passes below OWASP's weakest recommended setting, yescrypt/scrypt
memory below 16 MiB. The thresholds and their sources are listed in
``authaudit/accounts/schemes_policy.py``; the evidence gives the parameters read from the hash.

Severity *low*: a higher cost slows an attacker with a copy of the store by a constant factor;
it does not make a guessable password safe (AA201-AA204 say whether it is).

Example row: ``low  AA207  carol@example.org  Low cost BLF-CRYPT hash: bcrypt cost 5 is below 10``.

References: OWASP Password Storage Cheat Sheet (bcrypt work factor 10 or more, PBKDF2 and argon2
parameters); NIST SP 800-63B section 5.1.1.2 (at least 10 000 iterations); CWE-916 Use of
Password Hash With Insufficient Computational Effort.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.accounts.schemes import SchemeInfo
from authaudit.checks.accounts_common import account_evidence, scheme_info
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, Severity

__all__ = ["AccountLowCost"]


class AccountLowCost(Check):
    """AA207: the hash's work factor is below the recommended minimum."""

    id = "AA207"
    title = "Low cost parameter of the password hash"
    severity = Severity.LOW
    confidence = Confidence.HIGH
    remediation = (
        "Raise the work factor for new hashes (doveadm pw -s BLF-CRYPT -r 10 or more, or "
        "ARGON2ID) and re-hash each password at its next login."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in evidence.accounts:
            info = scheme_info(result.account)
            if not isinstance(info, SchemeInfo) or info.low_cost is None:
                continue
            yield self.finding(
                subject=result.account.address,
                account=result.account.address.lower(),
                message=f"Low cost {info.name} hash: {info.low_cost}",
                evidence=account_evidence(result, *info.cost.as_pairs()),
                time=result.account.last_auth_at,
                secret=result.password,
            )
