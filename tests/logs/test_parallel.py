"""Reading one large log in parts on several processes gives what one sequential read gives.

Parts are forced small here (``min_bytes``) so that the benchmark's small mode and the demo logs
are cut in two or three. Compared with :func:`scan_logs` on the same file: every count (lines,
recognised, unknown, unclaimed, unparsed, first and last time, the year) and every event, as a
multiset: a Postfix message that a border cuts is joined again from its pieces. Only the order of
events differs (a part's events come after the part before it; joined messages at the end).
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Sequence
from pathlib import Path

import pytest

from authaudit.logs.interface import LogEvent, LogParser
from authaudit.logs.parallel import FilePart, plan_parts, scan_parts, start_state
from authaudit.logs.parsers import default_parsers
from authaudit.logs.scan import ScanOptions, scan_logs
from bench import logsynth

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "logs"


class Collect:
    """A worker's consumer: fresh parsers, the events in a list (picklable factory)."""

    def __init__(self) -> None:
        self.parsers: Sequence[LogParser] = default_parsers()
        self.events: list[LogEvent] = []

    def sink(self, event: LogEvent) -> None:
        self.events.append(event)

    def finish(self) -> list[LogEvent]:
        return self.events


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parallel") / "mail.log"
    logsynth.generate(path, logsynth.LogSynthConfig(lines=5000, seed=3))
    return path


def _key(event: LogEvent) -> str:
    return repr(event)


def _compare(path: Path, jobs: int, min_bytes: int, options: ScanOptions) -> list[FilePart]:
    want: list[LogEvent] = []
    ref = scan_logs([path], default_parsers(), want.append, options)
    parts = plan_parts([path], options, jobs, min_bytes=min_bytes)
    assert parts is not None and len(parts) == jobs
    got: list[LogEvent] = []
    stats, later, joined = scan_parts(parts, default_parsers(), got.append,
                                      functools.partial(Collect), options)
    for events in later:
        assert isinstance(events, list)
        got.extend(events)
    got.extend(joined)
    for name in ("files", "lines", "events", "by_parser", "unknown", "unclaimed",
                 "unknown_samples", "first", "last", "years", "skipped"):
        assert getattr(stats, name) == getattr(ref, name), name
    assert sorted(map(_key, got)) == sorted(map(_key, want))
    return parts


@pytest.mark.parametrize("jobs", [2, 3])
def test_bench_small_mode_in_parts(small: Path, jobs: int) -> None:
    parts = _compare(small, jobs, small.stat().st_size // (jobs + 1), ScanOptions())
    data = small.read_bytes()
    for part in parts:  # cut at line starts, numbered as one read numbers them
        assert part.start == 0 or data[part.start - 1 : part.start] == b"\n"
        assert start_state(part)[0] == data[: part.start].count(b"\n")


def test_demo_postfix_log_in_parts() -> None:
    _compare(DEMO / "postfix" / "mail.log", 3, 16 << 10, ScanOptions(year=2026))


def test_demo_syslog_in_parts() -> None:
    _compare(DEMO / "maillog", 2, 8 << 10, ScanOptions(year=2026))


def test_year_inference_carries_over_a_cut(tmp_path: Path) -> None:
    lines = [f"Dec 31 23:{m:02d}:00 h postfix/smtpd[1]: connect from a[192.0.2.1]\n"
             for m in range(60)]
    lines += [f"Jan  1 00:{m:02d}:00 h postfix/smtpd[1]: connect from a[192.0.2.1]\n"
              for m in range(60)]
    lines.insert(90, "2025-01-01T00:30:00+00:00 h postfix/smtpd[1]: iso stamp\n")
    lines.insert(100, "not a log line\n")
    path = tmp_path / "maillog"
    path.write_text("".join(lines))
    parts = _compare(path, 3, 2000, ScanOptions(year=2025))
    # --year names the newest lines' year: the file starts in 2024; the third part starts in
    # January, after the crossing
    states = [start_state(p)[1] for p in parts]
    assert [(state.year, state.last_month) for state in states] == [
        (2024, 0), (2024, 12), (2025, 1)]


def test_only_large_plain_single_files_are_cut(tmp_path: Path, small: Path) -> None:
    options = ScanOptions()
    size = small.stat().st_size
    assert plan_parts([small], options, 1, min_bytes=1000) is None
    assert plan_parts([small, small], options, 2, min_bytes=1000) is None
    assert plan_parts([small], options, 2, min_bytes=size) is None
    assert plan_parts([tmp_path / "missing"], options, 2, min_bytes=10) is None
    packed = tmp_path / "mail.log.gz"
    packed.write_bytes(gzip.compress(small.read_bytes()))
    assert plan_parts([packed], options, 2, min_bytes=1000) is None
    parts = plan_parts([small], options, 8, min_bytes=size // 3)
    assert parts is not None and len(parts) == 3  # no part below min_bytes
    assert [p.start for p in parts[1:]] == [p.end for p in parts[:-1]]
    assert parts[0].start == 0 and parts[-1].end == size


def test_stamps_it_cannot_follow_cheaply_keep_one_process(tmp_path: Path) -> None:
    months = ("Jan", "Jul")  # every line changes the month: each would have to be parsed
    path = tmp_path / "maillog"
    path.write_text("".join(f"{months[n % 2]}  1 00:00:00 h postfix/smtpd[1]: connect\n"
                            for n in range(60_000)))
    assert plan_parts([path], ScanOptions(), 2, min_bytes=1000) is None


def test_a_log_without_yearless_stamps_is_cut_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "mainlog"
    path.write_text("".join(f"2025-01-01 00:00:{n % 60:02d} [1] SMTP connection from "
                            f"[192.0.2.{n % 250}]:{1024 + n} (TCP/IP connection count = 1)\n"
                            for n in range(30_000)))
    _compare(path, 2, 1000, ScanOptions())
