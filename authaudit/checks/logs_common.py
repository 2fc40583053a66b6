"""Helpers shared by the log and correlation checks (AA3xx)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from authaudit.checks.interface import Evidence
from authaudit.correlate.identity import IdentityResolver
from authaudit.model import Severity

__all__ = ["WEAK_NAMES", "ip_list", "ladder", "resolver_of", "seen_evidence"]

WEAK_NAMES = frozenset(
    {"test", "admin", "info", "user", "guest", "office", "mail", "postmaster", "webmaster",
     "sales", "support", "contact", "root", "demo", "temp", "backup", "noreply", "scanner"}
)
"""Logins bots try first (brute-force fixtures and the target case); a success after failures
on one of them is treated as a likely guess."""

_MAX_IPS = 8


def resolver_of(evidence: Evidence) -> IdentityResolver:
    """The logs' identity resolver, or one built from the accounts when no logs were read."""
    if evidence.logs is not None:
        return evidence.logs.resolver
    return IdentityResolver(r.account.address for r in evidence.accounts)


def ladder(mediums: int, highs: int) -> Severity | None:
    """Severity from signal counts: 1 medium → low, 2 → medium, 3 or a high → high, 2 highs →
    critical; None without any signal."""
    if highs >= 2:
        return Severity.CRITICAL
    if highs or mediums >= 3:
        return Severity.HIGH
    if mediums == 2:
        return Severity.MEDIUM
    if mediums == 1:
        return Severity.LOW
    return None


def ip_list(ips: Sequence[str] | Iterable[str], limit: int = _MAX_IPS) -> str:
    """``a, b, c (+N more)``."""
    items = list(ips)
    shown = items[:limit]
    more = len(items) - len(shown)
    return ", ".join(shown) + (f" (+{more} more)" if more else "")


def seen_evidence(first: datetime | None, last: datetime | None
                  ) -> tuple[tuple[str, str], tuple[str, str]]:
    """A finding's ``first_seen`` and ``last_seen`` evidence ("" for an unknown time)."""
    return (("first_seen", first.isoformat() if first else ""),
            ("last_seen", last.isoformat() if last else ""))
