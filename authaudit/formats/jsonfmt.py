"""JSON output: one versioned document; JSON Lines output: one record per line with a ``kind``."""

from __future__ import annotations

import json
from collections.abc import Iterator

from authaudit.formats.interface import Format
from authaudit.formats.rows import (
    account_row,
    activity_row,
    attempt_row,
    finding_row,
    incident_row,
    input_row,
    iso,
    iter_rows,
    skipped_row,
    tls_row,
)
from authaudit.model import Report
from authaudit.redact import Redactor

__all__ = ["JsonFormat", "JsonLinesFormat"]

_LINE = json.JSONEncoder(ensure_ascii=False)
"""The encoder of one JSON Lines record (what ``json.dumps(obj, ensure_ascii=False)`` uses)."""


def _strip_kind(row: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in row.items() if k != "kind"}


class JsonFormat(Format):
    """One JSON document: ``{schema_version, tool_version, generated_at, inputs, ...}``."""

    name = "json"
    extension = "json"

    def render(self, report: Report, redactor: Redactor) -> str:
        """See `Format.render`."""
        doc = {
            "schema_version": report.schema_version,
            "tool_version": report.tool_version,
            "generated_at": iso(report.generated_at),
            "command": report.command,
            "inputs": [_strip_kind(input_row(i)) for i in report.inputs],
            "stats": dict(report.stats),
            "incidents": [_strip_kind(incident_row(n, redactor)) for n in report.incidents],
            "auth_attempts": [_strip_kind(attempt_row(a, redactor)) for a in report.attempts],
            "tls_sessions": [_strip_kind(tls_row(t)) for t in report.tls_sessions],
            "accounts": [_strip_kind(account_row(r, redactor)) for r in report.accounts],
            "activity": [_strip_kind(activity_row(a)) for a in report.activity],
            "findings": [_strip_kind(finding_row(f, redactor)) for f in report.findings],
            "skipped": [_strip_kind(skipped_row(s)) for s in report.skipped],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


class JsonLinesFormat(Format):
    """JSON Lines: a ``report`` header line, then one object per record, each with a ``kind``."""

    name = "jsonl"
    extension = "jsonl"

    def render(self, report: Report, redactor: Redactor) -> str:
        """See `Format.render`."""
        return "".join(self.chunks(report, redactor))

    def chunks(self, report: Report, redactor: Redactor) -> Iterator[str]:
        """See `Format.chunks`: one line at a time."""
        header = {
            "kind": "report",
            "schema_version": report.schema_version,
            "tool_version": report.tool_version,
            "generated_at": iso(report.generated_at),
            "command": report.command,
            "stats": dict(report.stats),
        }
        encode = _LINE.encode  # json.dumps(..., ensure_ascii=False) builds an encoder per call
        yield encode(header) + "\n"
        for row in iter_rows(report, redactor):
            yield encode(row) + "\n"
