"""The contract every check implements, and the evidence checks look at."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from authaudit.model import AccountResult, AuthAttempt, Confidence, Finding, Severity, TlsSession

if TYPE_CHECKING:
    from authaudit.correlate.evidence import LogEvidence

__all__ = ["Check", "Evidence"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """Everything the sources produced in one run, as the checks see it."""

    attempts: tuple[AuthAttempt, ...] = ()
    tls_sessions: tuple[TlsSession, ...] = ()
    accounts: tuple[AccountResult, ...] = ()
    logs: LogEvidence | None = None
    """The mail logs' tallies, when logs were read."""
    findings: tuple[Finding, ...] = ()
    """Findings of the checks with lower IDs (the AA3xx checks join them with the logs)."""


class Check(abc.ABC):
    """One rule with a stable ID that turns evidence into findings.

    The module docstring of each check is its user documentation (docs/checks.md).
    """

    id: str
    """Stable identifier ``AA`` + three digits; never reused for another rule."""
    title: str
    severity: Severity
    """Default severity; a check may raise or lower it per finding and says so in its docs."""
    confidence: Confidence
    remediation: str
    """What the user should do about a finding, in one or two sentences."""

    @abc.abstractmethod
    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """The findings this check makes on ``evidence``."""

    def finding(self, **fields: object) -> Finding:
        """A finding of this check with its id, title and defaults filled in."""
        base: dict[str, object] = {
            "check_id": self.id,
            "title": self.title,
            "severity": self.severity,
            "confidence": self.confidence,
            "remediation": self.remediation,
        }
        base.update(fields)
        return Finding(**base)  # type: ignore[arg-type]
