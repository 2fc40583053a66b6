"""The fused per-line loop (one file) gives what LogSource and the record loop give together.

The reference is the path a set of several files takes: every line parsed by ``parse_line`` into
a LogRecord by :class:`LogSource` and handed to the record loop. The fused loop must give the same
events, in the same order, and the same counts, on every public sample and on lines made to hit
its edges (slow-path lines between fast ones, month changes, impossible dates, CRLF, no final
newline, odd tags).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authaudit.logs.interface import LogEvent, LogParser
from authaudit.logs.merge import LogSource
from authaudit.logs.parsers import default_parsers
from authaudit.logs.routing import Router
from authaudit.logs.scan import LogScanStats, ScanOptions, _loop, end_of_input, scan_logs
from authaudit.model import Skipped
from tests.logs.samples import SHARED, needs_shared

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "logs"


def _reference(path: Path, parsers: Sequence[LogParser], options: ScanOptions,
               ) -> tuple[list[LogEvent], LogScanStats, int]:
    """LogSource and the record loop, with scan_logs' ending."""
    events: list[LogEvent] = []
    stats = LogScanStats()
    router = Router(parsers)
    source = LogSource(str(path), year=options.year, tz=options.tz)
    _loop(iter(source), router, stats, events.append, None)
    end_of_input(router, parsers, stats, events.append)
    for parser in parsers:
        stats.skipped.extend(parser.skipped())
    stats.skipped.extend(source.skipped)
    return events, stats, source.unparsed


def _same(path: Path, options: ScanOptions | None = None) -> None:
    opts = options or ScanOptions()
    want, ref, _ = _reference(path, default_parsers(), opts)
    got: list[LogEvent] = []
    stats = scan_logs([path], default_parsers(), got.append, opts)
    assert got == want
    for name in ("lines", "events", "by_parser", "unknown", "unclaimed", "unknown_samples",
                 "first", "last"):
        assert getattr(stats, name) == getattr(ref, name), name
    assert stats.skipped[: len(ref.skipped)] == ref.skipped  # then the per-program counts


def _samples() -> list[Path]:
    if not SHARED.is_dir():
        return []
    return sorted(p for p in SHARED.rglob("*") if p.is_file() and p.name != "README.md")


@needs_shared
@pytest.mark.parametrize("path", _samples(), ids=lambda p: str(p.relative_to(SHARED)))
def test_every_public_sample_reads_the_same(path: Path) -> None:
    _same(path)
    _same(path, ScanOptions(year=2021, tz=ZoneInfo("Europe/Berlin")))


@pytest.mark.parametrize("rel", ["maillog", "postfix/mail.log", "qmail-send/current",
                                 "qmail-smtpd/current"])
def test_demo_logs_read_the_same(rel: str) -> None:
    _same(DEMO / rel, ScanOptions(year=2026))


def _file(tmp_path: Path, text: str, name: str = "maillog") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    stamp = datetime(2025, 1, 20, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    return path


EDGES = (
    "Dec 31 23:59:58 h postfix/smtpd[1]: connect from a[192.0.2.1]\n"
    "Dec 31 23:59:59 h postfix/smtpd[1]: 1A2B3C4D5E: client=a[192.0.2.1], sasl_method=PLAIN, "
    "sasl_username=u@example.org\n"
    "2024-12-31T23:59:59.5+00:00 h postfix/qmgr[2]: 1A2B3C4D5E: from=<u@example.org>, size=1, "
    "nrcpt=1 (queue active)\n"
    "Jan  1 00:00:01 h postfix/smtp[3]: 1A2B3C4D5E: to=<r@example.net>, relay=mx[198.51.100.1]:25,"
    " status=sent (250 ok)\n"
    "Jan  1 00:00:01 <mail.info> h postfix/qmgr[2]: 1A2B3C4D5E: removed\n"
    "Jan  1 00:00:02 h postfix/smtpd[1]: disconnect from a[192.0.2.1]\r\n"
    "Jan 01 00:00:03 h dovecot: imap-login: Login: user=<v@example.org>, method=PLAIN, "
    "rip=192.0.2.9, lip=192.0.2.1\n"
    "Jan  1 00:00:04 h a]b[12]: odd tag\n"
    "Jan  1 00:00:05 h x[١٢]: arabic digits\n"
    "Jan 39 00:00:06 h postfix/smtpd[1]: connect from b[192.0.2.2]\n"
    "Feb 29 10:00:00 h postfix/smtpd[1]: connect from c[192.0.2.3]\n"
    "Feb 29 10:00:01 h postfix/smtpd[1]: warning: c[192.0.2.3]: SASL LOGIN authentication "
    "failed: UGFzc3dvcmQ6\n"
    "Jun 23 15:04:05 Info: imap-login: Login: user=<w@example.org>, method=PLAIN, rip=192.0.2.5\n"
    "Jun 23 15:04:06 h exim[5]: 2025-06-23 15:04:06 1VxPit-000MMd-U4 <= a@b H=x [192.0.2.6]\n"
    "Jun 23 15:04:07 h opendkim[7]: 1A2B3C4D5F: DKIM-Signature field added\n"
    "Jun 23 15:04:08 h postfix/postscreen[8]: CONNECT from [192.0.2.7]:1 to [192.0.2.1]:25\n"
    "\n"
    "not a log line\n"
    "Jun 23 15:04:09 h postfix/smtpd[1]: lost connection after AUTH from d[192.0.2.8]"
)


def test_edge_lines_read_the_same(tmp_path: Path) -> None:
    path = _file(tmp_path, EDGES)
    _same(path)
    _same(path, ScanOptions(year=2024))
    _same(path, ScanOptions(tz=timezone(timedelta(hours=-5))))
    _same(path, ScanOptions(tz=ZoneInfo("America/New_York")))


def test_unparsed_lines_are_one_skipped_record(tmp_path: Path) -> None:
    path = _file(tmp_path, EDGES)
    stats = scan_logs([path], default_parsers(), lambda event: None, ScanOptions())
    _, _, unparsed = _reference(path, default_parsers(), ScanOptions())
    # the odd tag, the non-ASCII pid, "Jan 39", the empty line and "not a log line"
    assert unparsed == 5
    assert Skipped(source=str(path), where="lines 1-19", reason="no known log header",
                   count=5) in stats.skipped


def test_a_cut_in_a_multibyte_character_is_kept_as_surrogates(tmp_path: Path) -> None:
    path = tmp_path / "maillog"
    line = "Jan  1 00:00:01 h postfix/smtpd[1]: connect from é[192.0.2.1]\n".encode()
    path.write_bytes(line[:52] + b"\xff\xfe" + line[52:] + line * 3)
    _same(path)


_HEADS = st.sampled_from(["Jan  1 00:00:0", "Jan 01 00:00:0", "Dec 31 23:59:5", "Feb 29 12:00:0",
                          "Jan 32 00:00:0", "2025-01-01T00:00:0", "@4000000065a1b2c3000000", ""])
_TAGS = st.sampled_from(["postfix/smtpd[1]", "postfix/qmgr[2]", "postfix/postscreen[3]",
                         "postfix/smtp", "dovecot", "dovecot[4]", "opendkim[5]", "x[", "a]b[1]",
                         "Info", "exim[6]", "imap-login", "auth(u,192.0.2.1)<s>"])
_MESSAGES = st.sampled_from([
    "connect from a[192.0.2.1]", "disconnect from a[192.0.2.1]", "CONNECT from [192.0.2.1]:1",
    "1A2B3C4D5E: client=a[192.0.2.1], sasl_method=PLAIN, sasl_username=u",
    "1A2B3C4D5E: from=<s@example.org>, size=1, nrcpt=1 (queue active)",
    "1A2B3C4D5E: to=<r@example.net>, relay=x[198.51.100.1]:25, status=deferred (x)",
    "1A2B3C4D5E: removed", "1A2B3C4D5E: message-id=<x@y>",
    "warning: a[192.0.2.1]: SASL LOGIN authentication failed: x",
    "imap-login: Login: user=<u>, method=PLAIN, rip=192.0.2.1", "", "Anonymous TLS connection",
])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_HEADS, st.integers(0, 9),
                          st.sampled_from([" h ", " ", "  h ", " h\t", " <h ", " h: ", " é "]),
                          _TAGS, st.sampled_from([": ", ":", " "]), _MESSAGES,
                          st.sampled_from(["\n", "\r\n"])), max_size=25))
def test_fuzz_random_lines_read_the_same(
    tmp_path: Path, lines: list[tuple[str, int, str, str, str, str, str]]
) -> None:
    text = "".join(f"{head}{digit}{host}{tag}{sep}{msg}{end}"
                   for head, digit, host, tag, sep, msg, end in lines)
    _same(_file(tmp_path, text))
