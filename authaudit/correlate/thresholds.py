"""The numbers that turn log activity into findings, with where each default comes from.

Defaults follow the published anchors collected in ``reference/logs.md`` §4 (fail2ban, the Exim
wiki's SMTP-AUTH abuse detector, policyd-rate-limit, cPanel, crowdsec, Zimbra); every value can be
changed from the command line (``--threshold NAME=VALUE``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

__all__ = ["Thresholds", "parse_threshold"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Warn (medium) and high levels per signal; one identity is judged over the whole input."""

    ips_per_day: int = 10
    """Distinct client IPs of one identity in one day: 10 (Exim wiki detector default)."""
    ips_per_day_high: int = 20
    countries: int = 3
    """Distinct login countries (needs ``--geoip``): 3, high above 5 (postfwd geoip plugin)."""
    countries_high: int = 6
    recipients_per_hour: int = 100
    """Foreign recipients per hour: 100 (Exim ratelimit ACL idiom, Courier ratefilter)."""
    recipients_per_hour_high: int = 500
    messages_per_day: int = 150
    """Messages per day: 150 (policyd-rate-limit default)."""
    foreign_domains_per_day: int = 50
    """Distinct foreign recipient domains per day (derived; no published number)."""
    foreign_domains_per_day_high: int = 200
    bad_delivery_share: float = 0.5
    """Deferred + bounced share of an identity's deliveries: 50 % of at least 5 (cPanel)."""
    bad_delivery_min: int = 5
    bad_delivery_share_high: float = 0.8
    bad_delivery_min_high: int = 20
    foreign_senders_high: int = 3
    """Distinct envelope senders not owned by the identity above which it is high."""
    failures_in_window: int = 5
    """Failures on one account within ``failure_window``: 5 in 10 minutes (fail2ban maxretry)."""
    failures_in_window_high: int = 20
    failure_window: timedelta = timedelta(minutes=10)
    stranger_failures: int = 20
    """Failures on one account from addresses that never logged in as it, however slowly they
    came (slow brute force: crowdsec's dovecot-slow-bf exists because 3 an hour passes fail2ban
    unseen); 20 as the high level of the burst rule."""
    spray_accounts: int = 5
    """Distinct accounts one IP failed on: 5 (crowdsec exim-user-bf)."""
    spray_accounts_high: int = 20
    failures_before_success: int = 5
    """Failures in the 24 h before a success: 5 (fail2ban), 20 high (Zimbra)."""
    failures_before_success_high: int = 20
    local_recipients: int = 20
    """Remote recipients of mail injected by one local uid before it is reported."""
    local_recipients_high: int = 100
    active_ips_weak: int = 2
    """AA307: a weak credential used from at least this many IPs (or with a capture) is "in use"."""


_DURATIONS = {"failure_window"}


def parse_threshold(base: Thresholds, setting: str) -> Thresholds:
    """``base`` with one ``NAME=VALUE`` setting applied; ValueError on a bad name or value."""
    name, sep, value = setting.partition("=")
    name = name.strip().replace("-", "_")
    fields = {f.name: f for f in dataclasses.fields(Thresholds)}
    if not sep or name not in fields:
        known = ", ".join(sorted(fields))
        raise ValueError(f"unknown threshold {name!r} (known: {known})")
    current = getattr(base, name)
    parsed: object
    try:
        if name in _DURATIONS:
            parsed = timedelta(seconds=float(value))
        elif isinstance(current, float):
            parsed = float(value)
        else:
            parsed = int(value)
    except ValueError:
        raise ValueError(f"threshold {name}: {value!r} is not a number") from None
    changes: dict[str, Any] = {name: parsed}
    return dataclasses.replace(base, **changes)
