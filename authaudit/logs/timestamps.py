"""Log timestamps: TAI64N labels, ISO 8601 stamps and the year of yearless RFC 3164 stamps.

RFC 3164 (``Jan  3 06:22:09``) carries neither a year nor a time zone. :class:`YearInference`
supplies the year, fed lines in file order; the zone is the caller's ``tz`` (default: naive).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "MONTHS",
    "YearInference",
    "Yearless",
    "parse_offset",
    "tai64n_to_datetime",
    "year_reference_from_name",
]

MONTHS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
"""English three-letter month abbreviation → month number, as syslog writes them."""

_TAI64_BASE = 1 << 62
"""TAI64 labels count seconds from 2**62 (the external TAI64 format)."""
_TAI64_UNIX_OFFSET = 10
"""daemontools/libtai write ``2**62 + 10 + unix time`` (TAI-UTC was 10 s in 1970); tai64nlocal
subtracts the same 10 s, and so do we."""


def tai64n_to_datetime(label: str) -> datetime | None:
    """UTC time of a 24-hex-digit TAI64N label (with or without the leading ``@``).

    Returns None when the label is not 24 hex digits or lies outside datetime's range.
    """
    digits = label.removeprefix("@")
    if len(digits) != 24:
        return None
    try:
        seconds = int(digits[:16], 16)
        nanos = int(digits[16:], 16)
    except ValueError:
        return None
    if nanos >= 1_000_000_000:
        return None
    unix = seconds - _TAI64_BASE - _TAI64_UNIX_OFFSET
    try:
        return datetime.fromtimestamp(unix, UTC).replace(microsecond=nanos // 1000)
    except (OverflowError, OSError, ValueError):
        return None


_OFFSETS: dict[str, tzinfo] = {"Z": UTC, "z": UTC}


def parse_offset(text: str) -> tzinfo | None:
    """The fixed zone of ``Z``, ``+01:00`` or ``+0100`` (cached); None if out of range."""
    cached = _OFFSETS.get(text)
    if cached is not None:
        return cached
    sign = -1 if text[0] == "-" else 1
    hours = int(text[1:3])
    minutes = int(text[-2:])
    if hours > 23 or minutes > 59:
        return None
    zone: tzinfo = UTC if hours == minutes == 0 else timezone(
        sign * timedelta(hours=hours, minutes=minutes)
    )
    _OFFSETS[text] = zone
    return zone


class Yearless(NamedTuple):
    """A timestamp without a year, as RFC 3164 headers write it (month 1-12, day 1-31)."""

    month: int
    day: int
    hour: int
    minute: int
    second: int
    microsecond: int = 0

    def with_year(self, year: int, tz: tzinfo | None = None) -> datetime | None:
        """The datetime in ``year`` (None if the day does not exist that year, e.g. Feb 29)."""
        try:
            return datetime(
                year, self.month, self.day, self.hour, self.minute, self.second,
                self.microsecond, tzinfo=tz,
            )
        except ValueError:
            return None


_NAME_DATE = re.compile(r"(?<!\d)(20\d\d|19\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")


def year_reference_from_name(path: str | Path) -> datetime | None:
    """The end of the day a logrotate ``dateext`` name gives (``maillog-20250101.gz``), or None.

    logrotate stamps the file with the day it was rotated, so every line is before the end of it.
    """
    match = _NAME_DATE.search(Path(path).name)
    if match is None:
        return None
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day) + timedelta(days=1)


def _year_crossings(path: str | Path) -> int:
    """How many times the lines of ``path`` that start with a month name go from late in a year
    to early in the next (0 for files without such lines or that cannot be read).

    One regex per month finds the next line that starts with another month, so that a file read
    takes one pass in C rather than a Python step per line.
    """
    from authaudit.errors import SourceError
    from authaudit.logs.openers import LogFile

    crossings = 0
    last = 0
    try:
        with LogFile(path) as log:
            for block in log.text_blocks():
                text = "\n" + block
                found = _OTHER_MONTH[last].search(text)
                while found is not None:
                    month = MONTHS[text[found.end() : found.end() + 3]]
                    if last - month >= _BACKWARDS_MONTHS:
                        crossings += 1
                    last = month
                    found = _OTHER_MONTH[last].search(text, found.end())
    except (SourceError, OSError):
        return 0
    return crossings


_OTHER_MONTH = {
    number: re.compile(r"\n" + (rf"(?!{name})" if name else "") + "(?=" + "|".join(MONTHS) + ")")
    for number, name in ((0, ""), *((n, m) for m, n in MONTHS.items()))
}
"""A newline before a line that starts with a month name other than month ``number``'s."""


_SLACK = timedelta(days=1)
"""A line may be this far in the future of the reference (time zones, clock skew)."""
_BACKWARDS_MONTHS = 6
"""The month must go back at least this far between two lines to count as a new year."""


class YearInference:
    """Gives yearless stamps a year; fed the lines of one file in order.

    The first stamp is placed in the year of the reference time (the ``--year`` override, the
    date in the file name, the file's mtime, or now), one year earlier if that would put it more
    than a day after the reference. ``year`` instead fixes the year of the first stamp. Later
    stamps keep that year until the month goes backwards by six months or more (Dec → Jan),
    which advances it by one.
    """

    def __init__(
        self,
        *,
        year: int | None = None,
        reference: datetime | None = None,
        tz: tzinfo | None = None,
        source: str = "now",
    ) -> None:
        self._tz = tz
        self._year = year
        self._last_month = 0
        now = datetime.now(tz).replace(tzinfo=None)
        self.reference: datetime = reference if reference is not None else now
        """Naive local time no line should be (much) later than."""
        self.source: str = "--year" if year is not None else source
        """Where the year came from: ``--year``, ``file name``, ``mtime`` or ``now``."""

    @classmethod
    def for_file(
        cls, path: str | Path, *, year: int | None = None, tz: tzinfo | None = None
    ) -> YearInference:
        """The inference for one file: override, then a date in its name, then its mtime.

        ``year`` is the year of the file's *newest* stamps: a file that crosses Dec to Jan once
        starts in the year before, so every file of a rotated set (and ``mail.log`` next to
        ``mail.warn.4.gz``) gets consistent years from one ``--year``. Finding the crossings
        costs one quick read of the stamps' month names.
        """
        if year is not None:
            return cls(year=year - _year_crossings(path), tz=tz)
        named = year_reference_from_name(path)
        if named is not None:
            return cls(reference=named, tz=tz, source="file name")
        try:
            mtime = Path(path).stat().st_mtime
        except OSError:
            return cls(tz=tz)
        local = datetime.fromtimestamp(mtime, tz).replace(tzinfo=None)
        return cls(reference=local, tz=tz, source="mtime")

    @property
    def last_month(self) -> int:
        """The month of the last stamp resolved (0 before the first)."""
        return self._last_month

    @property
    def year(self) -> int | None:
        """The year the next stamp in the same month range gets (None before the first stamp)."""
        return self._year

    def describe(self) -> str | None:
        """``2025 (file mtime)``: the year of the last stamps and where it came from (None before
        the first stamp), as the scan statistics name it."""
        return None if self._year is None else f"{self._year} ({self.source})"

    def resolve(self, stamp: Yearless) -> datetime | None:
        """The full time of the next stamp in file order (None if that day does not exist)."""
        if self._year is None:
            year = self.reference.year
            first = stamp.with_year(year)
            if first is None or first > self.reference + _SLACK:
                year -= 1
            self._year = year
        elif self._last_month - stamp.month >= _BACKWARDS_MONTHS:
            self._year += 1
        self._last_month = stamp.month
        return stamp.with_year(self._year, self._tz)
