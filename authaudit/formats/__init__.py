"""Output formats, selected by ``--format``."""

from __future__ import annotations

from authaudit.formats.csvfmt import CsvFormat
from authaudit.formats.interface import Format
from authaudit.formats.jsonfmt import JsonFormat, JsonLinesFormat
from authaudit.formats.tables import HtmlFormat, MarkdownFormat, TableFormat

__all__ = ["FORMATS", "Format"]

FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        TableFormat(),
        JsonFormat(),
        JsonLinesFormat(),
        CsvFormat(),
        MarkdownFormat(),
        HtmlFormat(),
    )
}
"""Every output format by its ``--format`` name."""
