"""Checks: rules with stable IDs that turn records into findings (documented in docs/checks.md)."""

from __future__ import annotations

from authaudit.checks.accepted_in_clear import AcceptedInClear
from authaudit.checks.challenge_cracked import ChallengeCracked
from authaudit.checks.cleartext_auth import CleartextAuth
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Finding

__all__ = ["CHECKS", "Check", "Evidence", "run_checks"]

CHECKS: dict[str, Check] = {
    c.id: c for c in (CleartextAuth(), AcceptedInClear(), ChallengeCracked())
}
"""Every check by its ID, in ID order."""


def run_checks(evidence: Evidence) -> tuple[Finding, ...]:
    """Every check's findings on ``evidence``, in check ID order."""
    return tuple(f for check in CHECKS.values() for f in check.run(evidence))
