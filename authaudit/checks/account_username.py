"""**AA201 Password equals the username or its local part (any case).**

The account's password is its own login: the address as typed (``test@victim.org``), its local
part (``test``), its domain (``victim.org``) or a domain label (``victim``), in any letter case.
This is the first guess of every mail-relay spammer and every cracker (John the Ripper's "single
crack" mode starts there), and it is what the classic ``test:test`` relay-spam incidents are made
of. Found by verifying the four case forms (as written, lower, upper, capitalised) against the
stored hash, or, when the store keeps the password in clear, by a case-insensitive comparison.

Severity *critical*. ``NO_SMTP`` lowers it to *high* (the login cannot relay through SMTP AUTH,
but POP/IMAP still read the mailbox); ``QA_ADMIN``/``SA_ADMIN`` keep it critical even with
``NO_SMTP``. The evidence gives the last login's IP and time the store recorded: a login from an
unknown address means the account is probably already abused.

Example row:
``critical  AA201  test@victim.org  Password equals the local part of the login; last login from
82.128.32.42``.

References: NIST SP 800-63B section 5.1.1.2 (reject "context-specific words, such as ... the
username, and derivatives thereof"); CWE-521 Weak Password Requirements; MITRE ATT&CK T1110.001
Password Guessing; John the Ripper doc/MODES ("Single crack" mode).
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.accounts_common import password_finding, with_found_by
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Account, Confidence, Finding, FoundBy, Severity

__all__ = ["AccountUsername"]


def _what(password: str, account: Account) -> str:
    """Which part of the login ``password`` is, for the message."""
    folded = password.casefold()
    for label, value in (
        ("the login", account.address),
        ("the local part of the login", account.username),
        ("the domain name", account.domain or ""),
    ):
        if value and folded == value.casefold():
            return label if password == value else f"{label} in another letter case"
    return "a label of the domain name"


class AccountUsername(Check):
    """AA201: the password is the login, its local part or the domain, in any letter case."""

    id = "AA201"
    title = "Password equals the username or its local part (any case)"
    severity = Severity.CRITICAL
    confidence = Confidence.HIGH
    remediation = (
        "Change the password now to a long random one and check the account's recent logins and "
        "sent mail; make the password service reject passwords derived from the login "
        "(NIST SP 800-63B 5.1.1.2)."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in with_found_by(evidence, FoundBy.USERNAME):
            assert result.password is not None
            message = f"Password equals {_what(result.password.value, result.account)}"
            yield password_finding(self, result, message)
