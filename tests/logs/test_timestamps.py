"""TAI64N labels, ISO offsets, and the year of yearless stamps."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from authaudit.logs.timestamps import (
    YearInference,
    Yearless,
    parse_offset,
    tai64n_to_datetime,
    year_reference_from_name,
)


def _label(unix: int, nanos: int = 0) -> str:
    """The daemontools label of a unix time: 2**62 + 10 + seconds, then nanoseconds."""
    return f"@{(1 << 62) + 10 + unix:016x}{nanos:08x}"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("@400000000000000a00000000", datetime(1970, 1, 1, tzinfo=UTC)),
        ("400000000000000a00000000", datetime(1970, 1, 1, tzinfo=UTC)),
        ("@400000006597d32a075bcd15", datetime(2024, 1, 5, 10, 0, 0, 123456, tzinfo=UTC)),
        # fail2ban's dovecot sample; its oracle (07:51:00 CEST) ignores the 10 s TAI offset
        ("@400000004c91b044077a9e94", datetime(2010, 9, 16, 5, 50, 50, 125476, tzinfo=UTC)),
        ("@400000004C91B044077A9E94", datetime(2010, 9, 16, 5, 50, 50, 125476, tzinfo=UTC)),
    ],
)
def test_tai64n_vectors(label: str, expected: datetime) -> None:
    assert tai64n_to_datetime(label) == expected


def test_tai64n_round_trip() -> None:
    unix = int(datetime(2026, 11, 23, 14, 0, 1, tzinfo=UTC).timestamp())
    assert _label(unix, 999_999_999) == "@400000006b0446eb3b9ac9ff"
    assert tai64n_to_datetime(_label(unix, 999_999_999)) == datetime(
        2026, 11, 23, 14, 0, 1, 999999, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "label", ["", "@", "@4000", "@400000006597d32a3b9aca00", "@zz0000006597d32a00000000",
              "@ffffffffffffffff00000000", "@000000000000000000000000"]
)
def test_tai64n_rejects(label: str) -> None:
    assert tai64n_to_datetime(label) is None


def test_offsets() -> None:
    assert parse_offset("Z") is UTC
    assert parse_offset("+00:00") is UTC
    assert parse_offset("+0100") == timezone(timedelta(hours=1))
    assert parse_offset("-05:30") == timezone(-timedelta(hours=5, minutes=30))
    assert parse_offset("+24:00") is None


def test_year_from_file_name() -> None:
    assert year_reference_from_name("/var/log/maillog-20250101.gz") == datetime(2025, 1, 2)
    assert year_reference_from_name("mail.log.1") is None
    assert year_reference_from_name("maillog-20251301") is None
    assert year_reference_from_name("maillog-2025010199") is None


def _stamps(*texts: str) -> list[Yearless]:
    months = {"Dec": 12, "Jan": 1, "Feb": 2, "Nov": 11, "Jun": 6}
    out = []
    for text in texts:
        mon, day = text.split()
        out.append(Yearless(months[mon], int(day), 12, 0, 0))
    return out


def _years(inference: YearInference, *texts: str) -> list[int]:
    years = []
    for stamp in _stamps(*texts):
        resolved = inference.resolve(stamp)
        assert resolved is not None
        years.append(resolved.year)
    return years


def test_override_is_the_year_of_the_first_line_and_dec_jan_advances() -> None:
    inference = YearInference(year=2020)
    assert _years(inference, "Dec 27", "Dec 31", "Jan 1", "Jan 3", "Feb 1") == [
        2020, 2020, 2021, 2021, 2021
    ]
    assert inference.source == "--year"


def test_small_steps_back_do_not_advance() -> None:
    inference = YearInference(year=2020)
    assert _years(inference, "Feb 1", "Jan 31", "Feb 2", "Jun 1", "Feb 3") == [2020] * 5


def test_reference_rolls_back_a_future_first_line() -> None:
    reference = datetime(2021, 1, 3, 18, 0)
    inference = YearInference(reference=reference)
    assert _years(inference, "Dec 27", "Jan 3") == [2020, 2021]
    # a line up to a day after the reference stays in the reference year
    assert _years(YearInference(reference=reference), "Jan 4") == [2021]
    assert _years(YearInference(reference=reference), "Jan 5") == [2020]


def test_for_file_prefers_override_then_name_then_mtime(tmp_path: Path) -> None:
    named = tmp_path / "maillog-20250101"
    named.write_bytes(b"")
    assert YearInference.for_file(named, year=2019).source == "--year"
    by_name = YearInference.for_file(named)
    assert (by_name.source, by_name.reference) == ("file name", datetime(2025, 1, 2))
    plain = tmp_path / "maillog"
    plain.write_bytes(b"")
    when = datetime(2021, 1, 3, 12, 0, tzinfo=UTC).timestamp()
    os.utime(plain, (when, when))
    by_mtime = YearInference.for_file(plain, tz=UTC)
    assert (by_mtime.source, by_mtime.reference) == ("mtime", datetime(2021, 1, 3, 12, 0))
    assert _years(by_mtime, "Dec 31", "Jan 2") == [2020, 2021]
    assert YearInference.for_file(tmp_path / "missing").source == "now"


def test_feb_29_only_in_leap_years() -> None:
    stamp = Yearless(2, 29, 0, 0, 0)
    assert YearInference(year=2024).resolve(stamp) == datetime(2024, 2, 29)
    assert YearInference(year=2023).resolve(stamp) is None


def test_zone_is_attached() -> None:
    resolved = YearInference(year=2024, tz=UTC).resolve(Yearless(6, 1, 1, 2, 3, 4))
    assert resolved == datetime(2024, 6, 1, 1, 2, 3, 4, tzinfo=UTC)
