"""**AA208 Guessable password (zxcvbn score ≤ 1).**

A password the store keeps in clear, that is neither empty, nor the username, nor a variant of
it, nor in the wordlist (those are AA203, AA201, AA202 and AA204), still scores 0 or 1 out of 4
with zxcvbn: under about a million guesses for a cracker combining dictionaries, names, keyboard
patterns, dates, repeats and the account's own words (login, local part, domain labels, GECOS
words are passed as zxcvbn's user inputs). Only cleartexts are scored: a hash is not cracked just
to score it. No finding is made when no zxcvbn backend is installed (``zxcvbn-rs-py``, else
``zxcvbn``).

Severity *medium*; ``NO_SMTP`` lowers it to *low*, ``QA_ADMIN``/``SA_ADMIN`` raise it to *high*.

Example row: ``medium  AA208  dave@example.com  Guessable password: zxcvbn score 1 of 4``.

References: D. L. Wheeler, "zxcvbn: Low-Budget Password Strength Estimation", USENIX Security
2016; NIST SP 800-63B section 5.1.1.2; CWE-521 Weak Password Requirements.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.accounts_common import password_finding, with_found_by
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, FoundBy, Severity
from authaudit.strength import password_strength, user_inputs

__all__ = ["MAX_SCORE", "AccountZxcvbn"]

MAX_SCORE = 1
"""Highest zxcvbn score reported (0 "too guessable", 1 "very guessable")."""


class AccountZxcvbn(Check):
    """AA208: a cleartext password that zxcvbn rates 0 or 1."""

    id = "AA208"
    title = "Guessable password (zxcvbn score ≤ 1)"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    remediation = (
        "Change the password to a longer one that is not built from words, names, dates or "
        "keyboard patterns (several random words work well)."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in with_found_by(evidence, FoundBy.STORED_CLEARTEXT):
            assert result.password is not None
            strength = password_strength(result.password.value, user_inputs(result.account))
            if strength.score is None or strength.score > MAX_SCORE:
                continue
            yield password_finding(
                self,
                result,
                f"Guessable password: zxcvbn score {strength.score} of 4",
                ("zxcvbn_score", str(strength.score)),
                ("zxcvbn_guesses_log10", f"{strength.guesses_log10}"),
                ("zxcvbn_backend", strength.backend or ""),
            )
