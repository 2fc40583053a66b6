"""Saved vuserinfo dumps (tests/accounts/data/vpopmail/vuserinfo)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.accounts.vuserinfo import (
    VuserinfoSource,
    domain_from_dir,
    parse_asctime,
    parse_vuserinfo,
)
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind

DUMPS = Path(__file__).parent / "data" / "vpopmail" / "vuserinfo"


def read(name: str, **kwargs: object) -> list[Account | Skipped]:
    return list(VuserinfoSource(DUMPS / name, **kwargs).collect())  # type: ignore[arg-type]


def by_address(records: list[Account | Skipped]) -> dict[str, Account]:
    return {r.address: r for r in records if isinstance(r, Account)}


def test_whole_domain_dump() -> None:
    records = read("example.com-all.txt")
    assert [r.address for r in records if isinstance(r, Account)] == [
        "alice@example.com",
        "bob@example.com",
        "dave@example.com",
        "test@example.com",
    ]
    assert [r for r in records if isinstance(r, Skipped)] == []


def test_target_case() -> None:
    path = DUMPS / "example.com-all.txt"
    test = by_address(read("example.com-all.txt"))["test@example.com"]
    assert test == Account(
        source=str(path),
        store="vuserinfo",
        location=f"{path}:48",
        address="test@example.com",
        username="test",
        domain="example.com",
        password_hash=Secret("$1$Qx7.Lm2z$lTNR/7KPadgr4iJ6l/uRz0", SecretKind.HASH),
        cleartext=Secret("test", SecretKind.CLEARTEXT),
        gecos="test",
        flags=("NO_SMTP",),  # from "flags:" (2048, a domain-wide limit), not "gid:" (0)
        home="/home/vpopmail/domains/example.com/test",
        quota="NOQUOTA",
        last_auth_ip="82.128.32.42",
        last_auth_at=datetime(2026, 11, 2, 10, 20, 30, tzinfo=UTC),
    )


def test_fields_of_each_user() -> None:
    found = by_address(read("example.com-all.txt"))
    alice, bob, dave = (
        found["alice@example.com"],
        found["bob@example.com"],
        found["dave@example.com"],
    )
    assert alice.cleartext is None  # "clear passwd: " printed empty
    assert alice.gecos == "Alice Liddell"
    assert alice.last_auth_at == datetime(2026, 10, 1, 8, 0, 0, tzinfo=UTC)  # "Oct  1": padded day
    assert alice.last_auth_ip == "203.0.113.7"
    assert bob.cleartext == Secret("sum:mer", SecretKind.CLEARTEXT)
    assert bob.flags == ("NO_SMTP", "QA_ADMIN", "never-logged-in")
    assert (bob.last_auth_ip, bob.last_auth_at) == (None, None)
    assert bob.quota == "50000000S,1000C"
    assert dave.password_hash is None
    assert dave.flags == ("empty-password", "never-logged-in")


def test_single_user_dump_in_server_time_zone() -> None:
    (test,) = read("test-rome.txt", tz=ZoneInfo("Europe/Rome"))
    assert isinstance(test, Account)
    assert test.address == "test@example.net"  # from dir, hash dir 0/ skipped
    assert test.last_auth_at == datetime(2026, 11, 2, 10, 20, 30, tzinfo=UTC)


def test_given_domain_wins() -> None:
    (test,) = read("test-rome.txt", domain="Example.ORG")
    assert isinstance(test, Account)
    assert (test.address, test.domain) == ("test@example.org", "example.org")
    assert test.last_auth_at == datetime(2026, 11, 2, 11, 20, 30, tzinfo=UTC)  # default tz: UTC


def test_odd_dump() -> None:
    path = DUMPS / "odd.txt"
    records = read("odd.txt")
    summary = [
        f"skipped {r.where} | {r.reason}" if isinstance(r, Skipped) else f"account {r.address}"
        for r in records
    ]
    assert [line.replace(f"{path}:", "") for line in summary] == [
        "skipped 2 | user record without a name",
        "skipped 6 | second 'passwd:' in one user record",
        "skipped 12 | not a vuserinfo field line",
        "skipped 13 | not a vuserinfo field line",
        "account carol@example.org",
        "skipped 17 | last auth time not understood",
        "account frank",
    ]
    found = by_address(records)
    carol = found["carol@example.org"]
    assert carol.password_hash is not None
    assert carol.password_hash.value.startswith("$6$Zq8Lm2Pa$")
    assert carol.cleartext == Secret(
        " two leading spaces and a trailing one ", SecretKind.CLEARTEXT
    )
    assert carol.flags == ("gid-not-numeric",)
    assert carol.last_auth_ip == "2001:db8::25"
    assert carol.location == f"{path}:4"
    frank = found["frank"]
    assert frank.flags == ("lastauth-not-an-ip",)
    assert (frank.last_auth_ip, frank.last_auth_at) == ("somewhere", None)


def test_missing_dump_raises(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        list(VuserinfoSource(tmp_path / "none.txt").collect())
    with pytest.raises(SourceError, match="cannot open"):
        list(VuserinfoSource(tmp_path).collect())


def test_long_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    path.write_bytes(b"name:   a\n" + b"x" * 70000 + b"\npasswd: h\n")
    records = list(VuserinfoSource(path, domain="d").collect())
    assert records[0] == Account(
        source=str(path),
        store="vuserinfo",
        location=f"{path}:1",
        address="a@d",
        username="a",
        domain="d",
        password_hash=Secret("h", SecretKind.HASH),
    )
    assert records[1] == Skipped(
        source=str(path), where=f"{path}:2", reason="line of 70001 bytes is too long"
    )


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("Mon Nov  2 10:20:30 2026", UTC, datetime(2026, 11, 2, 10, 20, 30, tzinfo=UTC)),
        ("Thu Feb 29 23:59:59 2024", UTC, datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        (
            "Mon Nov  2 10:20:30 2026",
            timezone(timedelta(hours=-5)),
            datetime(2026, 11, 2, 15, 20, 30, tzinfo=UTC),
        ),
    ],
)
def test_parse_asctime(text: str, tz: timezone, expected: datetime) -> None:
    assert parse_asctime(text, tz) == expected


@pytest.mark.parametrize(
    "text", ["Never logged in", "Mon Foo  2 10:20:30 2026", "Mon Feb 30 10:20:30 2026", ""]
)
def test_parse_asctime_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_asctime(text)


@pytest.mark.parametrize(
    ("path", "domain"),
    [
        ("/home/vpopmail/domains/example.com/alice", "example.com"),
        ("/home/vpopmail/domains/0/Example.NET/A/b/erin", "example.net"),
        ("/home/vpopmail/domains/example.com", None),  # no user part after it
        ("/home/vpopmail/users/ivan", None),
        ("", None),
    ],
)
def test_domain_from_dir(path: str, domain: str | None) -> None:
    assert domain_from_dir(path) == domain


@given(st.lists(st.text(max_size=80), max_size=40))
def test_arbitrary_lines_give_records(lines: list[str]) -> None:
    numbered = list(enumerate(lines, 1))
    for record in parse_vuserinfo(numbered, source="s", path="p"):
        assert isinstance(record, Account | Skipped)


_LABELS = st.sampled_from(
    ["name:   ", "passwd: ", "clear passwd: ", "gid:    ", "flags:  ", "dir:       ",
     "last auth: ", "last auth ip: ", "account created: ", "-" * 42, ""]
)  # fmt: skip


@given(st.lists(st.tuples(_LABELS, st.text(max_size=40)), max_size=40))
def test_arbitrary_field_values_give_records(pairs: list[tuple[str, str]]) -> None:
    numbered = [(n, label + value) for n, (label, value) in enumerate(pairs, 1)]
    for record in parse_vuserinfo(numbered, source="s", path="p"):
        assert isinstance(record, Account | Skipped)
        if isinstance(record, Account):
            record.address.encode("utf-8")
