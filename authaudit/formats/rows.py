"""Flat, already redacted rows of a report: the one place that turns records into output fields.

Every format renders these rows, so all formats carry the same fields with the same names (the
output contract in docs/output-schema.md) and no format can leak a secret the redactor withheld.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from authaudit.model import (
    AccountActivity,
    AccountResult,
    AuthAttempt,
    Finding,
    Incident,
    InputFile,
    Report,
    Skipped,
    TlsSession,
)
from authaudit.redact import Redactor

__all__ = [
    "Row",
    "account_row",
    "activity_row",
    "attempt_row",
    "finding_row",
    "incident_row",
    "input_row",
    "iso",
    "iter_rows",
    "skipped_row",
    "tls_row",
]

Row = dict[str, Any]
"""One record as an ordered mapping of output field names to JSON-compatible values."""


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` suffix and microseconds only when present."""
    if ts is None:
        return None
    text = ts.isoformat()
    return text.replace("+00:00", "Z")


def attempt_row(a: AuthAttempt, redactor: Redactor) -> Row:
    """Fields of an ``auth_attempt`` record."""
    return {
        "kind": "auth_attempt",
        "capture": a.capture,
        "time": iso(a.time),
        "client_ip": a.flow.client_ip,
        "client_port": a.flow.client_port,
        "server_ip": a.flow.server_ip,
        "server_port": a.flow.server_port,
        "mechanism": a.mechanism,
        "username": a.username,
        "authzid": a.authzid,
        "secret": redactor.text(a.secret) if a.secret is not None else None,
        "secret_kind": str(a.secret.kind) if a.secret is not None else None,
        "cracked": redactor.text(a.cracked) if a.cracked is not None else None,
        "outcome": str(a.outcome),
        "reply_code": a.reply_code,
        "reply_text": a.reply_text,
        "tls": a.tls,
        "flags": list(a.flags),
    }


def tls_row(t: TlsSession) -> Row:
    """Fields of a ``tls_session`` record."""
    return {
        "kind": "tls_session",
        "capture": t.capture,
        "time": iso(t.time),
        "client_ip": t.flow.client_ip,
        "client_port": t.flow.client_port,
        "server_ip": t.flow.server_ip,
        "server_port": t.flow.server_port,
        "tls_kind": str(t.kind),
        "reply_code": t.reply_code,
        "reply_text": t.reply_text,
        "sni": t.sni,
        "cleartext_after": t.cleartext_after,
    }


def finding_row(f: Finding, redactor: Redactor) -> Row:
    """Fields of a ``finding`` record."""
    return {
        "kind": "finding",
        "check_id": f.check_id,
        "title": f.title,
        "severity": str(f.severity),
        "confidence": str(f.confidence),
        "subject": f.subject,
        "account": f.account,
        "time": iso(f.time),
        "message": f.message,
        "secret": redactor.text(f.secret) if f.secret is not None else None,
        "evidence": dict(f.evidence),
        "remediation": f.remediation,
    }


def account_row(r: AccountResult, redactor: Redactor) -> Row:
    """Fields of an ``account`` record: the stored account and what guessing found."""
    a = r.account
    return {
        "kind": "account",
        "source": a.source,
        "store": a.store,
        "location": a.location,
        "address": a.address,
        "username": a.username,
        "domain": a.domain,
        "scheme": a.scheme,
        "hash": redactor.text(a.password_hash) if a.password_hash is not None else None,
        "password": redactor.text(r.password) if r.password is not None else None,
        "found_by": str(r.found_by) if r.found_by is not None else None,
        "candidates_tried": r.candidates_tried,
        "complete": r.complete,
        "problem": r.problem,
        "gecos": a.gecos,
        "flags": list(a.flags),
        "last_auth_ip": a.last_auth_ip,
        "last_auth_at": iso(a.last_auth_at),
        "last_auth_service": a.last_auth_service,
    }


def incident_row(i: Incident, redactor: Redactor) -> Row:
    """Fields of an ``incident`` record."""
    return {
        "kind": "incident",
        "rank": i.rank,
        "severity": str(i.severity),
        "incident_kind": i.kind,
        "account": i.subject,
        "domain": i.domain,
        "summary": i.summary,
        "check_ids": list(i.check_ids),
        "sources": list(i.sources),
        "first_seen": iso(i.first_seen),
        "last_seen": iso(i.last_seen),
        "ips": list(i.ips),
        "ip_count": i.ip_count,
        "messages": i.messages,
        "recipients": i.recipients,
        "foreign_domains": i.foreign_domains,
        "last_auth_ip": i.last_auth_ip,
        "secret": redactor.text(i.secret) if i.secret is not None else None,
        "evidence": list(i.evidence),
        "remediation": list(i.remediation),
    }


def activity_row(a: AccountActivity) -> Row:
    """Fields of an ``activity`` record: what the logs say one identity did."""
    return {
        "kind": "activity",
        "account": a.account,
        "logins": a.logins,
        "failures": a.failures,
        "login_ips": list(a.login_ips),
        "failure_ips": list(a.failure_ips),
        "relay_ips": list(a.relay_ips),
        "networks": a.networks,
        "countries": list(a.countries),
        "max_ips_per_day": a.max_ips_per_day,
        "messages": a.messages,
        "recipients": a.recipients,
        "foreign_recipients": a.foreign_recipients,
        "foreign_domains": a.foreign_domains,
        "max_recipients_per_hour": a.max_recipients_per_hour,
        "max_messages_per_day": a.max_messages_per_day,
        "max_foreign_domains_per_day": a.max_foreign_domains_per_day,
        "deferred": a.deferred,
        "bounced": a.bounced,
        "senders": list(a.senders),
        "services": list(a.services),
        "max_failures_in_window": a.max_failures_in_window,
        "max_failures_per_day": a.max_failures_per_day,
        "stranger_failures": a.stranger_failures,
        "failures_before_success": a.failures_before_success,
        "guessed_from": a.guessed_from,
        "first_seen": iso(a.first_seen),
        "last_seen": iso(a.last_seen),
        "evidence": list(a.evidence),
    }


def skipped_row(s: Skipped) -> Row:
    """Fields of a ``skipped`` record."""
    return {
        "kind": "skipped",
        "source": s.source,
        "where": s.where,
        "reason": s.reason,
        "count": s.count,
    }


def input_row(i: InputFile) -> Row:
    """Fields of an ``input`` record."""
    return {
        "kind": "input",
        "path": i.path,
        "input_kind": i.kind,
        "sha256": i.sha256,
        "size": i.size,
    }


def iter_rows(report: Report, redactor: Redactor) -> Iterator[Row]:
    """Every record of the report, in the order the streaming formats write them."""
    for i in report.inputs:
        yield input_row(i)
    for n in report.incidents:
        yield incident_row(n, redactor)
    for a in report.attempts:
        yield attempt_row(a, redactor)
    for t in report.tls_sessions:
        yield tls_row(t)
    for r in report.accounts:
        yield account_row(r, redactor)
    for act in report.activity:
        yield activity_row(act)
    for f in report.findings:
        yield finding_row(f, redactor)
    for s in report.skipped:
        yield skipped_row(s)
