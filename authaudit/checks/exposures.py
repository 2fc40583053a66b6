"""Grouping of AUTH attempts into credential exposures: one per server, user and secret.

A capture of a brute force or of a busy submission port holds thousands of attempts with the same
credential; the wire checks report each exposed credential once, with counts and first/last times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from authaudit.model import AuthAttempt, Outcome
from authaudit.redact import SecretKind

__all__ = ["CLEARTEXT_KINDS", "Exposure", "group_exposures"]

CLEARTEXT_KINDS = frozenset({SecretKind.CLEARTEXT, SecretKind.BEARER_TOKEN})
"""Secret kinds that reveal a usable credential to anyone who reads the wire."""

_MAX_LISTED = 5


@dataclass(slots=True)
class Exposure:
    """All attempts that sent one credential (user + secret) to one server."""

    first: AuthAttempt
    attempts: list[AuthAttempt] = field(default_factory=list)

    @property
    def server(self) -> str:
        """``ip:port`` of the server (IPv6 in brackets)."""
        return self.first.flow.server

    @property
    def subject(self) -> str:
        """The account and where it was used: ``user on server``."""
        return f"{self.first.username or '(no username)'} on {self.server}"

    @property
    def last_time(self) -> datetime:
        """Time of the latest attempt."""
        return max(a.time for a in self.attempts)

    def succeeded(self) -> bool:
        """True when the server accepted the credential at least once."""
        return any(a.outcome is Outcome.SUCCESS for a in self.attempts)

    def evidence(self) -> tuple[tuple[str, str], ...]:
        """Counts, clients, outcomes and times as (label, value) pairs."""
        clients: dict[str, None] = dict.fromkeys(a.flow.client_ip for a in self.attempts)
        listed = list(clients)[:_MAX_LISTED]
        more = len(clients) - len(listed)
        by_outcome: dict[Outcome, int] = {}
        for a in self.attempts:
            by_outcome[a.outcome] = by_outcome.get(a.outcome, 0) + 1
        outcomes = {str(k): n for k, n in by_outcome.items()}  # str() of an enum: once per kind
        return (
            ("server", self.server),
            ("mechanism", self.first.mechanism),
            ("attempts", str(len(self.attempts))),
            ("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))),
            ("clients", ", ".join(listed) + (f" (+{more} more)" if more else "")),
            ("first_seen", self.first.time.isoformat()),
            ("last_seen", self.last_time.isoformat()),
            ("capture", self.first.capture),
        )


def group_exposures(
    attempts: Iterable[AuthAttempt], keep: Callable[[AuthAttempt], bool]
) -> list[Exposure]:
    """Exposures of the attempts ``keep`` selects, in order of first appearance."""
    groups: dict[tuple[str, int, str | None, str, str], Exposure] = {}
    for a in attempts:
        if a.secret is None or not keep(a):
            continue
        key = (a.flow.server_ip, a.flow.server_port, a.username, a.mechanism, a.secret.value)
        exp = groups.get(key)
        if exp is None:
            exp = groups[key] = Exposure(first=a)
        exp.attempts.append(a)
    return list(groups.values())
