"""CSV output: every record in one sheet, a ``kind`` column first, the union of fields after it."""

from __future__ import annotations

import csv
import io
import json

from authaudit.formats.interface import Format
from authaudit.formats.rows import iter_rows
from authaudit.model import Report
from authaudit.redact import Redactor

__all__ = ["CsvFormat"]


class CsvFormat(Format):
    """Comma-separated values for spreadsheets; lists and mappings are JSON in their cell."""

    name = "csv"
    extension = "csv"

    def render(self, report: Report, redactor: Redactor) -> str:
        """See `Format.render`."""
        rows = list(iter_rows(report, redactor))
        fields: dict[str, None] = {"kind": None}
        for row in rows:
            fields.update(dict.fromkeys(row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
        return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return ""
    return value
