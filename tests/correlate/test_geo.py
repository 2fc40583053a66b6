"""Login countries from a MaxMind database built for the test (MaxMind's own may not be shipped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from authaudit.checks import Evidence, run_checks
from authaudit.correlate.activity import ActivityCollector
from authaudit.correlate.evidence import LogEvidence
from authaudit.correlate.geo import CountryLookup, with_countries
from authaudit.correlate.identity import IdentityResolver
from authaudit.errors import SourceError
from tests.correlate.scenario import login, message

_NETWORKS = {"82.128.0.0/16": "NG", "10.0.0.0/8": "RU", "11.0.0.0/8": "BR", "12.0.0.0/8": "CN",
             "13.0.0.0/8": "VN", "14.0.0.0/8": "IN", "15.0.0.0/8": "US"}


@pytest.fixture(scope="module")
def mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-Country", ipv4_compatible=True)
    for net, code in _NETWORKS.items():
        writer.insert_network(IPSet([net]), {"country": {"iso_code": code}})
    writer.insert_network(IPSet(["2001:db8::/32"]), {"registered_country": {"iso_code": "DE"}})
    path = tmp_path_factory.mktemp("geo") / "country.mmdb"
    writer.to_db_file(str(path))
    return path


def test_lookup_by_country_and_registered_country(mmdb: Path) -> None:
    lookup = CountryLookup(mmdb)
    assert lookup.country("82.128.32.42") == "NG"
    assert lookup.country("2001:db8::5") == "DE"
    assert lookup.country("192.0.2.1") is None
    assert lookup.country("not an address") is None
    assert lookup.countries(["10.1.1.1", "10.2.2.2", "82.128.1.1", "192.0.2.1"]) == ("RU", "NG")
    lookup.close()


def test_not_a_database_is_a_source_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.mmdb"
    bogus.write_bytes(b"not a database")
    with pytest.raises(SourceError, match="not a MaxMind database"):
        CountryLookup(bogus)


def test_countries_become_an_aa301_signal(mmdb: Path) -> None:
    resolver = IdentityResolver(["test@victim.org"])
    collector = ActivityCollector(resolver)
    ips = ["82.128.32.42", "10.0.0.1", "11.0.0.1", "12.0.0.1", "13.0.0.1", "14.0.0.1", "15.0.0.1"]
    for i, ip in enumerate(ips):
        collector.add(login("test", ip, i))
        collector.add(message("test", ip, i, [f"r{i}@d{i}.example"], sender="test@victim.org"))
    lookup = CountryLookup(mmdb)
    activity = with_countries(collector.activity(), lookup)
    assert activity[0].countries == ("BR", "CN", "IN", "NG", "RU", "US", "VN")
    logs = LogEvidence(activity=activity, ips=collector.ips, resolver=resolver)
    (aa301,) = [f for f in run_checks(Evidence(logs=logs)) if f.check_id == "AA301"]
    assert "logins from 7 countries" in dict(aa301.evidence)["signals"]
    assert str(aa301.severity) == "high"  # more than 5 countries is a high signal
