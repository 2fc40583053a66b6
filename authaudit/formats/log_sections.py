"""The incident and per-account activity tables of the human-readable formats.

The incident table comes first in a report: rank, severity, account, what happened in one
sentence, and the numbers a customer asks about. Each incident then gets a detail table with its
evidence lines (log lines, capture exchanges, the store's record) and what to do.
"""

from __future__ import annotations

from datetime import datetime

from authaudit.formats.rows import iso
from authaudit.model import Incident, Report
from authaudit.redact import Redactor

__all__ = [
    "ACTIVITY_HEADERS",
    "INCIDENT_HEADERS",
    "activity_rows",
    "cell_time",
    "detailed",
    "incident_detail",
    "incident_rows",
    "shorten",
]

INCIDENT_HEADERS = ("#", "severity", "kind", "account", "what happened", "ips", "msgs",
                    "foreign domains", "first seen (UTC)", "last seen (UTC)")
ACTIVITY_HEADERS = ("account", "logins", "failures", "ips", "networks", "max ips/day", "msgs",
                    "rcpts", "foreign domains", "deferred", "bounced", "first seen (UTC)",
                    "last seen (UTC)")
_SUMMARY = 110
"""Width of "what happened" in the ranked list; the detail table has it whole."""
_DETAILED = 10
"""Incidents that get a detail table (the rest are in the ranked list only)."""


def cell_time(ts: datetime | None) -> str:
    """A time in a table cell: ISO 8601 with a space for the ``T`` ("" for None)."""
    return (iso(ts) or "").replace("T", " ")


def shorten(text: str | None, limit: int) -> str:
    """``text`` in a table cell of at most ``limit`` characters, cut with "…" ("" for None)."""
    if not text:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def incident_rows(report: Report) -> tuple[tuple[str, ...], ...]:
    """One row per incident, in rank order."""
    return tuple(
        (
            str(i.rank),
            str(i.severity),
            i.kind,
            i.subject,
            shorten(i.summary, _SUMMARY),
            str(i.ip_count),
            str(i.messages),
            str(i.foreign_domains),
            cell_time(i.first_seen),
            cell_time(i.last_seen),
        )
        for i in report.incidents
    )


def incident_detail(
    incident: Incident, redactor: Redactor
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Title and (field, value) rows of one incident's detail table."""
    rows: list[tuple[str, str]] = [
        ("severity", str(incident.severity)),
        ("checks", ", ".join(incident.check_ids)),
        ("sources", ", ".join(incident.sources)),
        ("what happened", incident.summary),
    ]
    if incident.secret is not None:
        rows.append(("password", redactor.text(incident.secret)))
    if incident.last_auth_ip:
        rows.append(("last auth ip", incident.last_auth_ip))
    if incident.ips:
        more = incident.ip_count - len(incident.ips)
        rows.append(("ips", ", ".join(incident.ips) + (f" (+{more} more)" if more else "")))
    if incident.messages:
        rows.append(("mail", f"{incident.messages} messages, {incident.recipients} recipients, "
                             f"{incident.foreign_domains} foreign domains"))
    rows += [("evidence", line) for line in incident.evidence]
    rows += [("what to do", text) for text in incident.remediation]
    return f"Incident {incident.rank}: {incident.subject}", tuple(rows)


def detailed(report: Report) -> tuple[Incident, ...]:
    """The incidents that get a detail table."""
    return report.incidents[:_DETAILED]


def activity_rows(report: Report) -> tuple[tuple[str, ...], ...]:
    """One row per identity the logs saw, busiest first."""
    return tuple(
        (
            a.account,
            str(a.logins),
            str(a.failures),
            str(len(a.login_ips)),
            str(a.networks),
            str(a.max_ips_per_day),
            str(a.messages),
            str(a.recipients),
            str(a.foreign_domains),
            str(a.deferred),
            str(a.bounced),
            cell_time(a.first_seen),
            cell_time(a.last_seen),
        )
        for a in report.activity
    )
