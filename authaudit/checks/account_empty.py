"""**AA203 Empty password.**

The account logs in with an empty password: the stored hash verifies the empty string, the store
keeps an empty cleartext (``{PLAIN}`` with nothing after it), or the Dovecot passdb entry has the
``nopassword`` extra field, which accepts any password at all. Severity *critical*: anyone who
knows the address gets in. ``NO_SMTP`` lowers it to *high*, ``QA_ADMIN``/``SA_ADMIN`` keep it
critical.

A vpopmail account with an empty password field (and no cleartext) is reported too, as *high* with
*low* confidence: vchkpw refuses such a login, unless vpopmail was built with
``--enable-learn-passwords``, in which case the first password anyone presents becomes the
account's password. The store does not say how vpopmail was built.

Example row: ``critical  AA203  info@example.com  The empty password logs in``.

References: CWE-258 Empty Password in Configuration File; CWE-521 Weak Password Requirements;
Dovecot documentation, passwd-file extra fields (``nopassword``); vpopmail ``vchkpw.c`` and
``configure`` (``--enable-learn-passwords``).
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.accounts_common import account_evidence, password_finding
from authaudit.checks.interface import Check, Evidence
from authaudit.model import AccountResult, Confidence, Finding, FoundBy, Severity

__all__ = ["AccountEmpty"]


def _vpopmail_empty(result: AccountResult) -> bool:
    a = result.account
    return (
        result.found_by is None
        and a.store.startswith("vpopmail")
        and "empty-password" in a.flags
        and a.password_hash is None
        and a.cleartext is None
    )


class AccountEmpty(Check):
    """AA203: the empty password (or any password) logs in."""

    id = "AA203"
    title = "Empty password"
    severity = Severity.CRITICAL
    confidence = Confidence.HIGH
    remediation = (
        "Set a long random password or disable the account; remove Dovecot's nopassword field; "
        "never build vpopmail with --enable-learn-passwords."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in evidence.accounts:
            if result.found_by is FoundBy.EMPTY and result.password is not None:
                message = (
                    "The passdb accepts any password (nopassword)"
                    if "nopassword" in result.account.flags
                    else "The empty password logs in"
                )
                yield password_finding(self, result, message)
            elif _vpopmail_empty(result):
                yield self.finding(
                    severity=Severity.HIGH,
                    confidence=Confidence.LOW,
                    subject=result.account.address,
                account=result.account.address.lower(),
                    message=(
                        "No password stored: anyone can set one at first login if vpopmail was "
                        "built with --enable-learn-passwords"
                    ),
                    evidence=account_evidence(result),
                    time=result.account.last_auth_at,
                )
