"""Mail-log layer: opening (compressed) log files, the syslog envelope, timestamps, merging.

Per-MTA parsers (Postfix, Dovecot, Exim, ...) build on :func:`parse_line`, which splits off the
header once so that they can dispatch on the program and read only the message.
"""

from authaudit.logs.merge import LogRecord, LogSource, merge_sources, rotation_order
from authaudit.logs.openers import LogFile, sniff_compression
from authaudit.logs.syslog import Envelope, parse_line
from authaudit.logs.timestamps import (
    YearInference,
    Yearless,
    tai64n_to_datetime,
    year_reference_from_name,
)

__all__ = [
    "Envelope",
    "LogFile",
    "LogRecord",
    "LogSource",
    "YearInference",
    "Yearless",
    "merge_sources",
    "parse_line",
    "rotation_order",
    "sniff_compression",
    "tai64n_to_datetime",
    "year_reference_from_name",
]
