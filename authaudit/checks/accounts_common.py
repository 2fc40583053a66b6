"""What the account checks (AA201-AA208) share: evidence rows, severity adjustment by account
flags, the scheme of an account, and where a cleartext password is stored.

**Precedence.** Guessing stops at the first candidate that verifies, in the order empty password,
username forms, variants, wordlist (a stored cleartext is classed in that same order), so every
account has at most one ``found_by`` and at most one of AA203, AA201, AA202, AA204, strongest
first. AA208 (zxcvbn) only looks at cleartexts none of those four explain. AA205, AA206 and AA207
describe how the store keeps the password and apply alongside any of them.

**Account flags.** vpopmail's ``NO_SMTP`` (SMTP AUTH refused for the account) lowers the severity
of a guessable password by one step: the account cannot be used to relay through SMTP AUTH, but
POP/IMAP/webmail logins still read its mail. ``QA_ADMIN`` (qmailadmin administrator) and
``SA_ADMIN`` (system administrator) raise it by one step, up to critical, and win over
``NO_SMTP``: such a login administers the whole domain.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.accounts.schemes import SchemeInfo, UnknownScheme
from authaudit.accounts.vpasswd import NEVER_LOGGED_IN_IP
from authaudit.checks.interface import Check, Evidence
from authaudit.guess_worker import identify_account
from authaudit.model import Account, AccountResult, Finding, FoundBy, Severity
from authaudit.redact import Secret

__all__ = [
    "ADMIN_FLAGS",
    "LOWERING_FLAGS",
    "account_evidence",
    "account_severity",
    "password_finding",
    "scheme_info",
    "stored_cleartext",
    "with_found_by",
]

ADMIN_FLAGS = ("QA_ADMIN", "SA_ADMIN")
"""Flags that raise a guessable password's severity by one step."""
LOWERING_FLAGS = ("NO_SMTP",)
"""Flags that lower it by one step (unless an admin flag is set too)."""

_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
_CLEAR_FIELD = {
    "vpopmail": "vpasswd field 8 (pw_clear_passwd)",
    "vpopmail-cdb": "vpasswd.cdb field 8 (pw_clear_passwd)",
    "vpopmail-sql": "pw_clear_passwd column",
    "vuserinfo": "vuserinfo 'clear passwd' line",
}


def account_severity(base: Severity, account: Account) -> Severity:
    """``base`` raised one step for an admin account, else lowered one step for NO_SMTP."""
    step = 0
    if any(flag in account.flags for flag in ADMIN_FLAGS):
        step = 1
    elif any(flag in account.flags for flag in LOWERING_FLAGS):
        step = -1
    index = min(max(base.rank + step, 0), len(_ORDER) - 1)
    return _ORDER[index]


def account_evidence(result: AccountResult, *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """The rows every account finding shows, then ``extra``; never a secret."""
    a = result.account
    rows = [
        ("source", a.source),
        ("store", a.store),
        ("location", a.location),
        ("scheme", a.scheme or "unknown"),
        ("last_auth_ip", a.last_auth_ip or "unknown"),
        ("last_auth_at", a.last_auth_at.isoformat() if a.last_auth_at else "unknown"),
        ("found_by", str(result.found_by) if result.found_by else "not found"),
        ("candidates_tried", str(result.candidates_tried)),
    ]
    if a.flags:
        rows.append(("flags", ", ".join(a.flags)))
    rows.extend(extra)
    return tuple(rows)


def scheme_info(account: Account) -> SchemeInfo | UnknownScheme | None:
    """The identified scheme of the account's stored value (None: nothing stored).

    Uses ``account.scheme`` (filled in by the guessing) as the default for a value without
    prefix, else the store's default.
    """
    return identify_account(account)


def stored_cleartext(account: Account) -> tuple[Secret, str] | None:
    """The password the store keeps in clear and where it is kept, or None."""
    if account.cleartext is not None:
        return account.cleartext, _CLEAR_FIELD.get(account.store, "cleartext password field")
    info = scheme_info(account)
    if isinstance(info, SchemeInfo) and info.cleartext is not None:
        prefix = info.declared or info.name
        where = f"{{{prefix}.{info.encoding}}}" if info.encoding else f"{{{prefix}}}"
        return info.cleartext, f"{where} password value"
    return None


def password_finding(
    check: Check, result: AccountResult, message: str, *extra: tuple[str, str]
) -> Finding:
    """The finding of a guessable-password check (AA201-AA204, AA208) on ``result``: severity
    adjusted by the account's flags, the last login's IP appended to ``message``, the password as
    the secret, the last login as the time."""
    account = result.account
    ip = account.last_auth_ip
    if ip and ip != NEVER_LOGGED_IN_IP:
        message = f"{message}; last login from {ip}"
    return check.finding(
        severity=account_severity(check.severity, account),
        subject=account.address,
        account=account.address.lower(),
        message=message,
        evidence=account_evidence(result, *extra),
        time=account.last_auth_at,
        secret=result.password,
    )


def with_found_by(evidence: Evidence, found_by: FoundBy) -> Iterator[AccountResult]:
    """The results whose password is known and was found as ``found_by``."""
    for result in evidence.accounts:
        if result.found_by is found_by and result.password is not None:
            yield result
