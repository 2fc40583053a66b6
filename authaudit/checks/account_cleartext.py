"""**AA205 Password stored in cleartext.**

The store keeps the password itself, not a hash: vpopmail's eighth ``vpasswd`` field /
``pw_clear_passwd`` column (written by ``--enable-clear-passwd``, the default up to 5.4.33), a
Dovecot ``{PLAIN}``, ``{CLEAR}``, ``{CLEARTEXT}`` or ``{PLAIN-TRUNC}`` value, or one of them
base64/hex encoded (``{PLAIN.b64}``), which is the same thing. Anyone who reads a backup or a copy
of the store, or an SQL injection on the mail panel, gets every password at once, and people reuse
passwords. Severity *medium*: the exposure needs read access to the store, and the same cleartext
is also checked by AA201-AA204 and AA208, which rate how guessable it is.

Sites that offer CRAM-MD5 or APOP need the cleartext (vchkpw verifies those with
``pw_clear_passwd``): drop those mechanisms (TLS + PLAIN is safer) before removing it.

Example row: ``medium  AA205  bob@example.com  Password stored in cleartext (vpasswd field 8
(pw_clear_passwd))``.

References: CWE-256 Plaintext Storage of a Password; OWASP Password Storage Cheat Sheet; vpopmail
ChangeLog 5.6.0 ("Disable clear password option by default"); Dovecot documentation, password
schemes.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.accounts_common import account_evidence, stored_cleartext
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Confidence, Finding, Severity

__all__ = ["AccountCleartext"]


class AccountCleartext(Check):
    """AA205: the store keeps the password in clear (or reversibly encoded)."""

    id = "AA205"
    title = "Password stored in cleartext"
    severity = Severity.MEDIUM
    confidence = Confidence.HIGH
    remediation = (
        "Stop storing cleartext: build vpopmail with --disable-clear-passwd and empty the field, "
        "or re-hash Dovecot {PLAIN} values (doveadm pw -s ARGON2ID or BLF-CRYPT -r 10); disable "
        "CRAM-MD5/APOP first, they need the cleartext."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        for result in evidence.accounts:
            stored = stored_cleartext(result.account)
            if stored is None:
                continue
            secret, where = stored
            yield self.finding(
                subject=result.account.address,
                account=result.account.address.lower(),
                message=f"Password stored in cleartext ({where})",
                evidence=account_evidence(result, ("stored_as", where)),
                time=result.account.last_auth_at,
                secret=secret,
            )
