"""The parsers ``authaudit logs`` and ``report`` use, in the order they are asked to claim a
program (the first that claims it gets its lines)."""

from __future__ import annotations

from authaudit.logs.courier import CourierParser
from authaudit.logs.dovecot import DovecotParser
from authaudit.logs.exim import EximParser
from authaudit.logs.interface import LogParser
from authaudit.logs.postfix import PostfixParser
from authaudit.logs.qmail import QmailParser
from authaudit.logs.sendmail import SendmailParser

__all__ = ["default_parsers"]


def default_parsers() -> list[LogParser]:
    """A fresh instance of every parser (parsers keep per-run state)."""
    return [
        PostfixParser(),
        DovecotParser(),
        EximParser(),
        SendmailParser(),
        QmailParser(),
        CourierParser(),
    ]
