"""users/assign lines, alias-domain grouping and re-rooting of server paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.accounts.vpopmail_layout import (
    AssignLine,
    Domain,
    Rerooter,
    group_domains,
    guess_home,
    parse_assign_line,
)

LOCAL = Path("/backup/vp")


def test_domain_line() -> None:
    line = "+Example.COM-:example.com:89:89:/home/vpopmail/domains/example.com:-::"
    assert parse_assign_line(line, 4) == AssignLine(
        name="example.com", real="example.com", dir="/home/vpopmail/domains/example.com", lineno=4
    )


@pytest.mark.parametrize("line", ["=vpopmail:vpopmail:89:89:/home/vpopmail:::", ".", "", "# x"])
def test_other_lines_are_not_domains(line: str) -> None:
    assert parse_assign_line(line) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("+example.com-:example.com:89:89", "4 fields, vpopmail assign lines have at least 5"),
        ("+example.com:example.com:89:89:/d:-::", "key is not of the form"),
        ("+-:x:89:89:/d:-::", "key is not of the form"),
        ("+a.b-::89:89:/d:-::", "empty domain or directory field"),
        ("+a.b-:a.b:89:89::-::", "empty domain or directory field"),
    ],
)
def test_bad_plus_lines(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_assign_line(line)


def assign(*specs: tuple[str, str, str]) -> list[AssignLine]:
    return [AssignLine(name, real, d, n) for n, (name, real, d) in enumerate(specs, 1)]


def test_explicit_and_shared_directory_aliases() -> None:
    lines = assign(
        ("alias.example", "example.com", "/home/vpopmail/domains/example.com"),
        ("example.com", "example.com", "/home/vpopmail/domains/example.com"),
        ("www.example.org", "www.example.org", "/home/vpopmail/domains/example.org"),
        ("example.org", "example.org", "/home/vpopmail/domains/example.org"),
        ("example.net", "example.net", "/home/vpopmail/domains/0/example.net/"),
        ("example.com", "example.com", "/home/vpopmail/domains/example.com"),
    )
    rerooter = Rerooter(LOCAL, "/home/vpopmail")
    assert group_domains(lines, rerooter, "A") == [
        Domain(
            "example.com",
            LOCAL / "domains/example.com",
            "/home/vpopmail/domains/example.com",
            "A:2",
            ["alias.example"],
        ),
        Domain(
            "example.org",
            LOCAL / "domains/example.org",
            "/home/vpopmail/domains/example.org",
            "A:4",
            ["www.example.org"],
        ),
        Domain(
            "example.net",
            LOCAL / "domains/0/example.net",
            "/home/vpopmail/domains/0/example.net/",
            "A:5",
            [],
        ),
    ]


def test_shared_directory_not_named_after_either_keeps_the_first() -> None:
    lines = assign(
        ("b.test", "b.test", "/v/domains/shared"), ("a.test", "a.test", "/v/domains/shared")
    )
    (domain,) = group_domains(lines, Rerooter(LOCAL, "/v"), "A")
    assert (domain.name, domain.aliases) == ("b.test", ["a.test"])


def test_alias_of_a_domain_without_its_own_line() -> None:
    lines = assign(("alias.test", "real.test", "/v/domains/real.test"))
    (domain,) = group_domains(lines, Rerooter(LOCAL, "/v"), "A")
    assert (domain.name, domain.local_dir, domain.aliases) == (
        "real.test",
        LOCAL / "domains/real.test",
        ["alias.test"],
    )


@pytest.mark.parametrize(
    ("path", "home"),
    [
        ("/home/vpopmail/domains/example.com", "/home/vpopmail"),
        ("/home/vpopmail/domains/0/example.net/A/b/erin", "/home/vpopmail"),
        ("/srv/domains/vpopmail/domains/example.com", "/srv/domains/vpopmail"),
        ("/var/vpopmail/users/ivan", "/var/vpopmail"),
        ("/domains/example.com", "/"),
        ("/var/mail/example.com", None),
    ],
)
def test_guess_home(path: str, home: str | None) -> None:
    assert guess_home(path) == home


@pytest.mark.parametrize(
    ("original", "path", "local"),
    [
        ("/home/vpopmail", "/home/vpopmail/domains/example.com", "/backup/vp/domains/example.com"),
        ("/home/vpopmail/", "/home/vpopmail//domains/x/", "/backup/vp/domains/x"),
        ("/home/vpopmail", "/home/vpopmail", "/backup/vp"),
        ("/home/vpopmail", "/opt/vpop/domains/x/u", "/backup/vp/domains/x/u"),  # guessed
        ("/home/vpopmail", "/var/mail/u", "/var/mail/u"),  # outside any home: as written
        ("/home/vpopmail", "/home/vpopmail/../../etc", "/etc"),  # climbs out: not re-rooted
        (None, "/home/vpopmail/users/ivan", "/backup/vp/users/ivan"),
        (None, "domains/example.com", "/backup/vp/domains/example.com"),
        (None, "../etc", None),
        (None, "a/../../etc", None),
    ],
)
def test_reroot(original: str | None, path: str, local: str | None) -> None:
    mapped = Rerooter(LOCAL, original).map(path)
    assert mapped == (Path(local) if local is not None else None)


def test_reroot_disabled() -> None:
    rerooter = Rerooter(LOCAL, "/home/vpopmail", enabled=False)
    assert rerooter.map("/home/vpopmail/domains/x") == Path("/home/vpopmail/domains/x")
    assert rerooter.map("domains/x") == LOCAL / "domains/x"
    assert rerooter.map_under("/home/vpopmail/domains/x/u", "/home/vpopmail/domains/x", LOCAL) == (
        Path("/home/vpopmail/domains/x/u")
    )


def test_user_dirs_follow_their_domain_dir() -> None:
    rerooter = Rerooter(LOCAL, "/home/vpopmail")
    moved = Path("/mnt/elsewhere/example.com")
    assert (
        rerooter.map_under("/data/example.com/0/bob", "/data/example.com", moved) == moved / "0/bob"
    )
    assert rerooter.map_under("/data/example.com", "/data/example.com", moved) == moved
    assert rerooter.map_under("/home/vpopmail/users/x", "/data/example.com", moved) == (
        LOCAL / "users/x"
    )


@given(st.text(max_size=200))
def test_arbitrary_assign_lines(line: str) -> None:
    try:
        parsed = parse_assign_line(line)
    except ValueError:
        assert line.startswith("+")
        return
    if parsed is not None:
        assert parsed.name and parsed.real and parsed.dir
        group_domains([parsed], Rerooter(LOCAL, guess_home(parsed.dir)), "A")


@given(st.text(max_size=100), st.one_of(st.none(), st.text(max_size=30)))
def test_arbitrary_paths_map_or_refuse(path: str, original: str | None) -> None:
    mapped = Rerooter(LOCAL, original or None).map(path)
    if not path.startswith("/"):
        assert mapped is None or LOCAL in (mapped, *mapped.parents)
