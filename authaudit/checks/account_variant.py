"""**AA202 Password is a simple variant of the username.**

The password is a trivial change of the login or of the account's real name (GECOS words, home
directory name): reversed (``tset``), doubled (``testtest``), reflected, with a common suffix
(``test1``, ``test123``, ``Test!``) or a year from the last ten up to the current one (``test2025``,
``test25``), in leet spelling (``7357``, ``t3$t``), or a first-name/last-name pair (``jsmith``,
``JohnSmith``). These are the rules of John the Ripper's "single crack" mode, which tries them
within seconds for every account. A password stored in clear is matched case-insensitively.

Severity *high*; ``NO_SMTP`` lowers it to *medium*, ``QA_ADMIN``/``SA_ADMIN`` raise it to
*critical*. An account whose password is the username itself is AA201, not AA202.

Example row: ``high  AA202  alice@example.com  Password is a simple variant of the login or the
real name; last login from 203.0.113.7``.

References: NIST SP 800-63B section 5.1.1.2 ("the username, and derivatives thereof"); CWE-521
Weak Password Requirements; John the Ripper doc/MODES and the ``[List.Rules:Single]`` section of
john.conf.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.accounts_common import password_finding, with_found_by
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, FoundBy, Severity

__all__ = ["AccountVariant"]


class AccountVariant(Check):
    """AA202: the password is a simple variant of the login or the real name."""

    id = "AA202"
    title = "Password is a simple variant of the username"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    remediation = (
        "Change the password to a long random one (several random words); make the password "
        "service reject passwords built from the login or the user's name."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in with_found_by(evidence, FoundBy.VARIANT):
            yield password_finding(
                self, result, "Password is a simple variant of the login or the real name"
            )
