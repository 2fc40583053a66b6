"""Human-readable outputs built from titled sections: terminal table, Markdown and HTML.

The three share one layout (summary, findings, AUTH attempts, TLS sessions, skipped input); they
differ only in how a section title and a table are written, which tabulate does for us.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import PurePath

from tabulate import tabulate

from authaudit.formats.interface import Format
from authaudit.formats.log_sections import (
    ACTIVITY_HEADERS,
    INCIDENT_HEADERS,
    activity_rows,
    cell_time,
    detailed,
    incident_detail,
    incident_rows,
    shorten,
)
from authaudit.model import Report
from authaudit.redact import Redactor

__all__ = ["HtmlFormat", "MarkdownFormat", "Section", "TableFormat", "sections"]


@dataclass(frozen=True, slots=True)
class Section:
    """One titled table of the report."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _base(path: str) -> str:
    return shorten(PurePath(path).name, 40)


def summary_lines(report: Report) -> list[str]:
    """One line per statistic, then one per severity with findings."""
    lines = [f"{name.replace('_', ' ')}: {value}" for name, value in report.stats]
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[str(f.severity)] = counts.get(str(f.severity), 0) + 1
    if counts:
        lines.append("findings: " + ", ".join(f"{n} {sev}" for sev, n in sorted(counts.items())))
    else:
        lines.append("findings: none")
    return lines


_ACTIVITY_LISTED = 200


def _log_sections(report: Report, redactor: Redactor) -> list[Section]:
    """Ranked incidents, their details, then per-account log activity."""
    out: list[Section] = []
    if report.incidents:
        out.append(Section("Incidents, most urgent first", INCIDENT_HEADERS,
                           incident_rows(report)))
        for incident in detailed(report):
            title, fields = incident_detail(incident, redactor)
            out.append(Section(title, ("field", "value"), fields))
    if report.activity:
        rows = activity_rows(report)
        title = "Activity per account (mail logs)"
        if len(rows) > _ACTIVITY_LISTED:
            title = f"Activity of the {_ACTIVITY_LISTED} busiest of {len(rows)} accounts"
            rows = rows[:_ACTIVITY_LISTED]
        out.append(Section(title, ACTIVITY_HEADERS, rows))
    return out


def sections(report: Report, redactor: Redactor) -> list[Section]:
    """The report's tables in reading order; empty sections are left out."""
    out: list[Section] = _log_sections(report, redactor)
    findings = sorted(report.findings, key=lambda f: (-f.severity.rank, f.check_id, f.subject))
    if findings:
        out.append(
            Section(
                "Findings",
                ("severity", "check", "subject", "message", "secret"),
                tuple(
                    (
                        str(f.severity),
                        f.check_id,
                        shorten(f.subject, 40),
                        f.message,
                        redactor.text(f.secret),
                    )
                    for f in findings
                ),
            )
        )
    several = (
        len({a.capture for a in report.attempts} | {t.capture for t in report.tls_sessions}) > 1
    )
    lead: tuple[str, ...] = ("capture",) if several else ()
    if report.attempts:
        out.append(
            Section(
                "SMTP AUTH attempts",
                (
                    *lead,
                    "time (UTC)",
                    "client",
                    "server",
                    "mech",
                    "username",
                    "secret",
                    "cracked",
                    "outcome",
                    "reply",
                ),
                tuple(
                    (
                        *((_base(a.capture),) if several else ()),
                        cell_time(a.time),
                        a.flow.client,
                        a.flow.server,
                        a.mechanism + (" (tls)" if a.tls else ""),
                        shorten(a.username, 40),
                        redactor.text(a.secret),
                        redactor.text(a.cracked),
                        str(a.outcome),
                        shorten(f"{a.reply_code or ''} {a.reply_text}".strip(), 40),
                    )
                    for a in report.attempts
                ),
            )
        )
    if report.tls_sessions:
        out.append(
            Section(
                "Encrypted sessions (credentials hidden by TLS)",
                (*lead, "time (UTC)", "client", "server", "kind", "sni", "reply"),
                tuple(
                    (
                        *((_base(t.capture),) if several else ()),
                        cell_time(t.time),
                        t.flow.client,
                        t.flow.server,
                        str(t.kind) + (" (cleartext follows)" if t.cleartext_after else ""),
                        t.sni or "",
                        shorten(f"{t.reply_code or ''} {t.reply_text}".strip(), 40),
                    )
                    for t in report.tls_sessions
                ),
            )
        )
    if report.accounts:
        out.append(_accounts_section(report, redactor))
    if report.skipped:
        out.append(
            Section(
                "Skipped input",
                ("source", "where", "reason", "count"),
                tuple(
                    (s.source, shorten(s.where, 40), s.reason, str(s.count)) for s in report.skipped
                ),
            )
        )
    return out


_LIST_ALL_ACCOUNTS = 50


def _accounts_section(report: Report, redactor: Redactor) -> Section:
    """Accounts with what guessing found; in a large store only those with a finding or problem."""
    results = report.accounts
    flagged = {f.subject for f in report.findings}
    shown = [
        r
        for r in results
        if len(results) <= _LIST_ALL_ACCOUNTS or r.account.address in flagged or r.problem
    ]
    title = "Accounts"
    if len(shown) < len(results):
        title = f"Accounts with findings or problems, of {len(results)}"
    return Section(
        title,
        ("account", "scheme", "password", "found by", "last auth ip", "last auth (UTC)", "notes"),
        tuple(
            (
                shorten(r.account.address, 40),
                r.account.scheme or "",
                redactor.text(r.password),
                str(r.found_by or ""),
                r.account.last_auth_ip or "",
                cell_time(r.account.last_auth_at),
                shorten(
                    "; ".join(
                        [
                            *r.account.flags,
                            *([r.problem] if r.problem else []),
                            *([] if r.complete else ["budget exhausted"]),
                        ]
                    ),
                    50,
                ),
            )
            for r in shown
        ),
    )


class TableFormat(Format):
    """Plain-text tables for a terminal."""

    name = "table"

    def render(self, report: Report, redactor: Redactor) -> str:
        """See `Format.render`."""
        parts = ["\n".join(summary_lines(report))]
        for sec in sections(report, redactor):
            table = tabulate(
                sec.rows, headers=sec.headers, tablefmt="simple", disable_numparse=True
            )
            parts.append(f"{sec.title} ({len(sec.rows)})\n{table}")
        return "\n\n".join(parts) + "\n"


class MarkdownFormat(Format):
    """GitHub-flavoured Markdown, for tickets and customer reports."""

    name = "markdown"
    extension = "md"

    def render(self, report: Report, redactor: Redactor) -> str:
        """See `Format.render`."""
        parts = [
            f"# authaudit {report.command} report",
            "",
            *(f"- {line}" for line in summary_lines(report)),
        ]
        for sec in sections(report, redactor):
            rows = [tuple(c.replace("|", "\\|") for c in row) for row in sec.rows]
            table = tabulate(rows, headers=sec.headers, tablefmt="github", disable_numparse=True)
            parts += ["", f"## {sec.title} ({len(sec.rows)})", "", table]
        return "\n".join(parts) + "\n"


class HtmlFormat(Format):
    """A standalone HTML page (tables escaped by tabulate)."""

    name = "html"
    extension = "html"

    def render(self, report: Report, redactor: Redactor) -> str:
        """See `Format.render`."""
        title = html.escape(f"authaudit {report.command} report")
        body = [f"<h1>{title}</h1>", "<ul>"]
        body += [f"<li>{html.escape(line)}</li>" for line in summary_lines(report)]
        body.append("</ul>")
        for sec in sections(report, redactor):
            body.append(f"<h2>{html.escape(sec.title)} ({len(sec.rows)})</h2>")
            body.append(
                tabulate(sec.rows, headers=sec.headers, tablefmt="html", disable_numparse=True)
            )
        return (
            '<!doctype html>\n<html><head><meta charset="utf-8">'
            f"<title>{title}</title></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
        )
