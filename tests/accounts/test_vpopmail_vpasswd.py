"""vpasswd lines, gid flag bits, lastauth files and the Account they make."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.accounts.vpasswd import (
    GID_FLAGS,
    UNKNOWN_LASTAUTH,
    LastAuth,
    VpasswdEntry,
    gid_flag_names,
    parse_vpasswd_line,
    read_lastauth,
    vpasswd_account,
)
from authaudit.model import Account
from authaudit.redact import Secret, SecretKind

CAROL = (
    "carol:AbiaWJmXaz/Eg:1:2049:carol:/home/vpopmail/domains/example.com/0/carol:50000000S,1000C"
)


def test_eight_fields_cleartext_keeps_colons() -> None:
    assert parse_vpasswd_line(CAROL + ":sum:mer:") == VpasswdEntry(
        name="carol",
        crypted="AbiaWJmXaz/Eg",
        uid="1",
        gid=2049,
        gid_numeric=True,
        gecos="carol",
        dir="/home/vpopmail/domains/example.com/0/carol",
        quota="50000000S,1000C",
        clear="sum:mer:",
    )


def test_seven_fields_has_no_cleartext() -> None:
    assert parse_vpasswd_line(CAROL).clear is None


def test_empty_eighth_field_is_an_empty_cleartext() -> None:
    assert parse_vpasswd_line(CAROL + ":").clear == ""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "0 ':' separators, vpasswd lines have at least 6"),
        ("a:b:c:d:e:f", "5 ':' separators, vpasswd lines have at least 6"),
        (":x:1:0:g:/d:NOQUOTA", "empty user name"),
    ],
)
def test_not_a_vpasswd_line(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_vpasswd_line(line)


@pytest.mark.parametrize(
    ("gid", "value", "numeric"),
    [("0", 0, True), ("6144", 6144, True), ("12abc", 12, False), ("", 0, False),
     (" 8", 8, False), ("-1", 0, False), ("99999999999", 0, False)],
)  # fmt: skip
def test_gid_is_read_like_atoi(gid: str, value: int, numeric: bool) -> None:
    entry = parse_vpasswd_line(f"u:x:1:{gid}:g:/d:NOQUOTA")
    assert (entry.gid, entry.gid_numeric) == (value, numeric)


def test_gid_flag_names() -> None:
    assert gid_flag_names(0) == ()
    assert gid_flag_names(0x800 | 0x1000) == ("NO_SMTP", "QA_ADMIN")
    assert gid_flag_names(0x801) == ("NO_PASSWD_CHNG", "NO_SMTP")
    assert gid_flag_names(0x7FFFF) == tuple(name for _, name in GID_FLAGS)
    assert gid_flag_names(0x80000) == ()  # no such bit
    assert dict(GID_FLAGS) == {
        0x01: "NO_PASSWD_CHNG", 0x02: "NO_POP", 0x04: "NO_WEBMAIL", 0x08: "NO_IMAP",
        0x10: "BOUNCE_MAIL", 0x20: "NO_RELAY", 0x40: "NO_DIALUP", 0x80: "V_USER0",
        0x100: "V_USER1", 0x200: "V_USER2", 0x400: "V_USER3", 0x800: "NO_SMTP",
        0x1000: "QA_ADMIN", 0x2000: "V_OVERRIDE", 0x4000: "NO_SPAMASSASSIN",
        0x8000: "DELETE_SPAM", 0x10000: "SA_ADMIN", 0x20000: "SA_EXPERT", 0x40000: "NO_MAILDROP",
    }  # fmt: skip


WHEN = datetime(2026, 11, 2, 10, 20, 30, tzinfo=UTC)


def write_lastauth(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "lastauth"
    path.write_bytes(content)
    os.utime(path, (WHEN.timestamp(), WHEN.timestamp()))
    return tmp_path


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"82.128.32.42", LastAuth(ip="82.128.32.42", at=WHEN)),
        (b"82.128.32.42\n", LastAuth(ip="82.128.32.42", at=WHEN)),
        (b" 82.128.32.42 \r\nsecond line\n", LastAuth(ip="82.128.32.42", at=WHEN)),
        (b"2001:DB8::1", LastAuth(ip="2001:db8::1", at=WHEN)),
        (b"0.0.0.0", LastAuth(ip=None, at=None, never=True)),
        (b"0.0.0.0\n", LastAuth(ip=None, at=None, never=True)),
        (b"", LastAuth(ip=None, at=WHEN)),
        (b"mail_host", LastAuth(ip="mail_host", at=WHEN, odd_ip=True)),
        (b"\xff\xfe", LastAuth(ip="\\xff\\xfe", at=WHEN, odd_ip=True)),
    ],
)
def test_read_lastauth(tmp_path: Path, content: bytes, expected: LastAuth) -> None:
    assert read_lastauth(write_lastauth(tmp_path, content)) == expected


def test_missing_lastauth_is_unknown(tmp_path: Path) -> None:
    assert read_lastauth(tmp_path) == UNKNOWN_LASTAUTH
    assert read_lastauth(tmp_path / "no-such-user") == UNKNOWN_LASTAUTH
    (tmp_path / "file").write_text("")
    assert read_lastauth(tmp_path / "file") == UNKNOWN_LASTAUTH  # a file where the dir should be


def test_unreadable_lastauth_raises_oserror(tmp_path: Path) -> None:
    (tmp_path / "lastauth").mkdir()
    with pytest.raises(IsADirectoryError):
        read_lastauth(tmp_path)


def test_account_from_entry() -> None:
    entry = parse_vpasswd_line(
        "test:$1$Qx7.Lm2z$lTNR/7KPadgr4iJ6l/uRz0:1:6144:Tester:/h/test:NOQUOTA:te:st"
    )
    account = vpasswd_account(
        entry,
        source="/backup/vpopmail",
        store="vpopmail",
        location="/backup/vpopmail/domains/example.com/vpasswd:3",
        domain="example.com",
        lastauth=LastAuth(ip="82.128.32.42", at=WHEN),
        extra_flags=("alias:example.net",),
    )
    assert account == Account(
        source="/backup/vpopmail",
        store="vpopmail",
        location="/backup/vpopmail/domains/example.com/vpasswd:3",
        address="test@example.com",
        username="test",
        domain="example.com",
        password_hash=Secret("$1$Qx7.Lm2z$lTNR/7KPadgr4iJ6l/uRz0", SecretKind.HASH),
        cleartext=Secret("te:st", SecretKind.CLEARTEXT),
        gecos="Tester",
        flags=("NO_SMTP", "QA_ADMIN", "alias:example.net"),
        home="/h/test",
        quota="NOQUOTA",
        last_auth_ip="82.128.32.42",
        last_auth_at=WHEN,
    )


def test_account_notes() -> None:
    entry = parse_vpasswd_line("u::1:x:g:::")
    account = vpasswd_account(
        entry,
        source="s",
        store="vpopmail",
        location="l",
        domain=None,
        lastauth=LastAuth(ip="h", at=WHEN, odd_ip=True),
    )
    assert account.address == "u"
    assert account.domain is None
    assert (account.password_hash, account.cleartext, account.home, account.quota) == (
        None,
        None,
        None,
        None,
    )
    assert account.flags == ("empty-password", "gid-not-numeric", "lastauth-not-an-ip")
    never = vpasswd_account(
        entry,
        source="s",
        store="vpopmail",
        location="l",
        domain="d",
        lastauth=LastAuth(ip=None, at=None, never=True),
    )
    assert never.flags[-1] == "never-logged-in"


def test_invalid_utf8_stays_exact_in_secrets_and_printable_elsewhere() -> None:
    line = b"j\xe9r\xf4me:h\xff:1:0:J\xe9r\xf4me:/d:NOQUOTA:p\xe4ss".decode(
        "utf-8", "surrogateescape"
    )
    account = vpasswd_account(
        parse_vpasswd_line(line), source="s", store="vpopmail", location="l", domain="d"
    )
    assert account.username == "j\\xe9r\\xf4me"
    assert account.gecos == "J\\xe9r\\xf4me"
    assert account.cleartext is not None
    assert account.cleartext.value.encode("utf-8", "surrogateescape") == b"p\xe4ss"
    account.address.encode("utf-8")  # printable: no lone surrogates


@given(st.text(max_size=300))
def test_arbitrary_text_gives_entry_or_value_error(line: str) -> None:
    try:
        entry = parse_vpasswd_line(line)
    except ValueError:
        assert line.count(":") < 6 or line.startswith(":")
        return
    account = vpasswd_account(entry, source="s", store="vpopmail", location="l", domain="d")
    assert account.username
    assert account.address.endswith("@d")
    if entry.clear is not None:
        assert ":".join(
            [entry.name, entry.crypted, entry.uid, line.split(":")[3], entry.gecos, entry.dir,
             entry.quota, entry.clear]
        ) == line  # fmt: skip
