"""Checks: rules with stable IDs that turn records into findings (documented in docs/checks.md)."""

from __future__ import annotations

import dataclasses

from authaudit.checks.accepted_in_clear import AcceptedInClear
from authaudit.checks.account_cleartext import AccountCleartext
from authaudit.checks.account_empty import AccountEmpty
from authaudit.checks.account_low_cost import AccountLowCost
from authaudit.checks.account_username import AccountUsername
from authaudit.checks.account_variant import AccountVariant
from authaudit.checks.account_weak_scheme import AccountWeakScheme
from authaudit.checks.account_wordlist import AccountWordlist
from authaudit.checks.account_zxcvbn import AccountZxcvbn
from authaudit.checks.brute_force import BruteForce
from authaudit.checks.challenge_cracked import ChallengeCracked
from authaudit.checks.cleartext_auth import CleartextAuth
from authaudit.checks.interface import Check, Evidence
from authaudit.checks.lastauth_abuse import LastAuthAbuse
from authaudit.checks.local_injection import LocalInjection
from authaudit.checks.password_spray import PasswordSpray
from authaudit.checks.relay_abuse import RelayAbuse
from authaudit.checks.success_after_failures import SuccessAfterFailures
from authaudit.checks.weak_in_use import WeakInUse
from authaudit.model import Finding

__all__ = ["CHECKS", "Check", "Evidence", "run_checks"]

CHECKS: dict[str, Check] = {
    c.id: c
    for c in (
        CleartextAuth(),
        AcceptedInClear(),
        ChallengeCracked(),
        AccountUsername(),
        AccountVariant(),
        AccountEmpty(),
        AccountWordlist(),
        AccountCleartext(),
        AccountWeakScheme(),
        AccountLowCost(),
        AccountZxcvbn(),
        RelayAbuse(),
        BruteForce(),
        PasswordSpray(),
        SuccessAfterFailures(),
        LocalInjection(),
        LastAuthAbuse(),
        WeakInUse(),
    )
}
"""Every check by its ID, in ID order."""


def run_checks(evidence: Evidence) -> tuple[Finding, ...]:
    """Every check's findings on ``evidence``, in check ID order.

    Each check sees the findings of the checks before it in ``evidence.findings``.
    """
    found: list[Finding] = list(evidence.findings)
    for check in CHECKS.values():
        seen = dataclasses.replace(evidence, findings=tuple(found))
        found.extend(check.run(seen))
    return tuple(found[len(evidence.findings) :])
