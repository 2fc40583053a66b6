"""What the log-based checks (AA3xx) look at: the tallies of one scan and how to judge them."""

from __future__ import annotations

from dataclasses import dataclass, field

from authaudit.correlate.activity import IpTally, LocalTally
from authaudit.correlate.identity import IdentityResolver
from authaudit.correlate.thresholds import Thresholds
from authaudit.model import AccountActivity

__all__ = ["LogEvidence"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEvidence:
    """The mail logs' side of a report, already reduced to tallies."""

    activity: tuple[AccountActivity, ...] = ()
    ips: dict[str, IpTally] = field(default_factory=dict)
    local: dict[str, LocalTally] = field(default_factory=dict)
    """Local injection tallies keyed ``uid N`` or ``user NAME``."""
    resolver: IdentityResolver = field(default_factory=IdentityResolver)
    thresholds: Thresholds = field(default_factory=Thresholds)
    smtpd_uids: frozenset[int] = frozenset()
    """uids known to be the SMTP daemon's (qmaild): their queued mail is not local injection."""
