"""The contract every output format implements."""

from __future__ import annotations

import abc

from authaudit.model import Report
from authaudit.redact import Redactor

__all__ = ["Format"]


class Format(abc.ABC):
    """A way of writing a finished report as text (a table, JSON, CSV ...)."""

    name: str
    """The ``--format`` value that selects this format."""

    @abc.abstractmethod
    def render(self, report: Report, redactor: Redactor) -> str:
        """The whole report as text, secrets passed through ``redactor``."""
