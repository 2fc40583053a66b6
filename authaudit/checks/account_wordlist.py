"""**AA204 Password found in a wordlist.**

The password is in the candidate wordlist: by default John the Ripper's ``password.lst`` and
zxcvbn's 30 000 most common passwords (``wordlists/``), or the ``--wordlist`` files. Any
attacker tries these lists first, online against SMTP AUTH and offline against a copied store.
For slow hash schemes only the top of the list is tried by default (see ``--thorough``).

Severity *high*; ``NO_SMTP`` lowers it to *medium*, ``QA_ADMIN``/``SA_ADMIN`` raise it to
*critical*. An account already reported as AA203 (empty), AA201 (username) or AA202 (variant) is
not reported again here, even if the password is also in the list: the stronger finding applies.

Example row: ``high  AA204  bob@example.com  Password is in the wordlist``.

References: NIST SP 800-63B section 5.1.1.2 (compare new passwords against "passwords obtained
from previous breach corpuses" and "dictionary words"); CWE-521 Weak Password Requirements;
OWASP Authentication Cheat Sheet ("Implement Proper Password Strength Controls").
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.accounts_common import password_finding, with_found_by
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, FoundBy, Severity

__all__ = ["AccountWordlist"]


class AccountWordlist(Check):
    """AA204: the password is in the wordlist."""

    id = "AA204"
    title = "Password found in a wordlist"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    remediation = (
        "Change the password; check every new password against a blocklist of common and "
        "breached passwords (NIST SP 800-63B 5.1.1.2)."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in with_found_by(evidence, FoundBy.WORDLIST):
            yield password_finding(self, result, "Password is in the wordlist")
