"""Countries of client addresses from a user-supplied MaxMind database (``--geoip FILE.mmdb``).

Optional: authaudit ships no GeoIP data (its licence forbids redistribution) and works without it,
judging address diversity by /16 and /48 networks instead. With a GeoLite2/GeoIP2 Country or City
database, each identity's login addresses are also counted by country (AA301: 3 or more countries
raise a signal, more than 5 a high one, after the postfwd anti-geoip-spam plugin). The reader is
the ``maxminddb`` module (MaxMind's own, maintained; C extension when available), installed with
``pip install 'authaudit[geoip]'``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from authaudit.errors import SourceError
from authaudit.model import AccountActivity

__all__ = ["CountryLookup", "with_countries"]


class CountryLookup:
    """ISO country codes of IP addresses, read from one ``.mmdb`` file (read-only, mmap)."""

    def __init__(self, path: Path) -> None:
        try:
            maxminddb: Any = importlib.import_module("maxminddb")
        except ImportError:
            raise SourceError(str(path), "--geoip needs the 'maxminddb' module "
                                         "(pip install 'authaudit[geoip]')") from None
        invalid = getattr(maxminddb, "InvalidDatabaseError", ValueError)
        try:
            self._reader: Any = maxminddb.open_database(str(path))
        except (OSError, ValueError, invalid) as exc:
            raise SourceError(str(path), f"not a MaxMind database: {exc}") from None
        self.country = functools.lru_cache(maxsize=65536)(self._country)

    def _country(self, ip: str) -> str | None:
        try:
            record = self._reader.get(ip)
        except (ValueError, TypeError):
            return None
        if not isinstance(record, dict):
            return None
        for key in ("country", "registered_country"):
            entry = record.get(key)
            if isinstance(entry, dict) and isinstance(entry.get("iso_code"), str):
                return str(entry["iso_code"])
        return None

    def countries(self, ips: Iterable[str]) -> tuple[str, ...]:
        """The distinct countries of ``ips``, most addresses first (unknown ones left out)."""
        counts: dict[str, int] = {}
        for ip in ips:
            code = self.country(ip)
            if code is not None:
                counts[code] = counts.get(code, 0) + 1
        return tuple(sorted(counts, key=lambda c: (-counts[c], c)))

    def close(self) -> None:
        """Release the database."""
        self._reader.close()


def with_countries(
    activity: Iterable[AccountActivity], lookup: CountryLookup
) -> tuple[AccountActivity, ...]:
    """``activity`` with each record's ``countries`` filled from its login addresses."""
    return tuple(
        dataclasses.replace(a, countries=lookup.countries(a.login_ips)) if a.login_ips else a
        for a in activity
    )
