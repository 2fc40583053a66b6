"""The contract every output format implements."""

from __future__ import annotations

import abc
from collections.abc import Iterator

from authaudit.model import Report
from authaudit.redact import Redactor

__all__ = ["Format"]


class Format(abc.ABC):
    """A way of writing a finished report as text (a table, JSON, CSV ...)."""

    name: str
    """The ``--format`` value that selects this format."""
    extension: str = "txt"
    """File name extension for one report in this format (``--by-domain -o DIR``)."""

    @abc.abstractmethod
    def render(self, report: Report, redactor: Redactor) -> str:
        """The whole report as text, secrets passed through ``redactor``."""

    def chunks(self, report: Report, redactor: Redactor) -> Iterator[str]:
        """The same text in pieces, so that a large report is written without being held whole.

        Formats that can stream override this; the default yields :meth:`render` at once."""
        yield self.render(report, redactor)
