"""Reading whole files into timed records, rotated sets, and merging by time."""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from authaudit.logs.merge import LogSource, merge_sources, rotation_order
from authaudit.model import Skipped
from tests.logs.samples import SHARED, needs_shared

LIGHTMETER = SHARED / "lightmeter" / "logs_sample"


def _write(path: Path, text: str, *, mtime: datetime | None = None) -> Path:
    data = text.encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def test_source_resolves_years_counts_garbage_and_carries_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "maillog",
        "Dec 31 23:59:59 h postfix/smtpd[1]: a\n"
        "not a log line\n"
        "host postfix/smtpd[1]: no time\n"
        "Jan  1 00:00:01 h postfix/smtpd[1]: b\n"
        "\n",
        mtime=datetime(2025, 1, 1, 12, 0, tzinfo=UTC),
    )
    source = LogSource(str(path), tz=UTC)
    records = list(source)
    assert [(r.time, r.lineno, r.envelope.message) for r in records] == [
        (datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), 1, "a"),
        (None, 3, "no time"),
        (datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC), 4, "b"),
    ]
    assert records[1].order == records[0].time
    assert source.unparsed == 2
    assert source.skipped == [
        Skipped(source=str(path), where="lines 1-5", reason="no known log header", count=2)
    ]
    assert source.inference is not None and source.inference.source == "mtime"


def test_zone_applies_to_naive_stamps_only(tmp_path: Path) -> None:
    path = _write(tmp_path / "m",
                  "Jun  1 12:00:00 h p[1]: local\n"
                  "2024-06-01T12:00:00+02:00 h p[1]: aware\n")
    plus2 = timezone(timedelta(hours=2))
    times = [r.time for r in LogSource(str(path), year=2024, tz=plus2)]
    assert times == [datetime(2024, 6, 1, 10, 0, tzinfo=UTC)] * 2


def test_merge_is_time_ordered_and_stable(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.log",
               "2024-01-01T00:00:01Z h p: a1\n2024-01-01T00:00:03Z h p: a3\n")
    b = _write(tmp_path / "b.log.gz",
               "2024-01-01T00:00:00Z h p: b0\n2024-01-01T00:00:03Z h p: b3\n"
               "2024-01-01T00:00:04Z h p: b4\n")
    merged = merge_sources([LogSource(str(a)), LogSource(str(b))])
    assert [r.envelope.message for r in merged] == ["b0", "a1", "a3", "b3", "b4"]


def test_rotation_order_oldest_first() -> None:
    names = ["/v/maillog", "/v/maillog.1", "/v/maillog.10.gz", "/v/maillog.2.gz",
             "/v/mail.warn", "/v/mail.warn.1", "/v/x/maillog-20250102.xz",
             "/v/x/maillog-20241231", "/q/current", "/q/@400000006597d32a00000000.s",
             "/q/@400000006597d30000000000.s"]
    assert [str(p) for p in rotation_order(names)] == [
        "/q/@400000006597d30000000000.s", "/q/@400000006597d32a00000000.s", "/q/current",
        "/v/mail.warn.1", "/v/mail.warn",
        "/v/maillog.10.gz", "/v/maillog.2.gz", "/v/maillog.1", "/v/maillog",
        "/v/x/maillog-20241231", "/v/x/maillog-20250102.xz",
    ]


@needs_shared
def test_lightmeter_dec_jan_crossing_with_year_override() -> None:
    # --year names the year of the newest lines: this file crosses into 2021 once
    source = LogSource(str(LIGHTMETER / "mail.warn.4.gz"), year=2021, tz=UTC)
    records = list(source)
    times = [r.time for r in records]
    assert None not in times and source.unparsed == 0 and source.skipped == []
    assert len(records) == 1221
    assert records[0].time == datetime(2020, 12, 27, 7, 5, 42, tzinfo=UTC)
    assert records[-1].time == datetime(2021, 1, 3, 6, 22, 9, tzinfo=UTC)
    assert times == sorted(times)  # type: ignore[type-var]
    years = [t.year for t in times if t is not None]
    assert years.count(2020) == 793 and years.count(2021) == 428
    # the live file of the same set, with the same --year, continues in 2021
    live = list(LogSource(str(LIGHTMETER / "mail.log"), year=2021, tz=UTC))
    assert live[0].time is not None and live[0].time.year == 2021


@needs_shared
def test_lightmeter_dec_jan_crossing_from_mtime(tmp_path: Path) -> None:
    # the sample's mtimes were not kept, so give the copy its original one (2021-01-03)
    copy = tmp_path / "mail.warn.4.gz"
    shutil.copyfile(LIGHTMETER / "mail.warn.4.gz", copy)
    when = datetime(2021, 1, 3, 6, 25, tzinfo=UTC).timestamp()
    os.utime(copy, (when, when))
    records = list(LogSource(str(copy), tz=UTC))
    assert records[0].time == datetime(2020, 12, 27, 7, 5, 42, tzinfo=UTC)
    assert records[-1].time == datetime(2021, 1, 3, 6, 22, 9, tzinfo=UTC)


@needs_shared
def test_lightmeter_rotated_set_parses_completely() -> None:
    paths = rotation_order(LIGHTMETER.iterdir())
    assert [p.name for p in paths][:5] == [
        "mail.err.4.gz", "mail.err.3.gz", "mail.err.2.gz", "mail.err.1", "mail.err"
    ]
    for path in paths:
        source = LogSource(str(path), year=2020)
        assert sum(1 for _ in source) > 0
        assert (source.unparsed, source.skipped) == (0, [])
