"""Dovecot passwd-file (tests/accounts/data/dovecot/passwd)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.accounts.dovecot import (
    DovecotPasswdSource,
    PasswdFileEntry,
    parse_passwd_file_line,
    passwd_file_account,
)
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind

PASSWD = Path(__file__).parent / "data" / "dovecot" / "passwd"


def records() -> list[Account | Skipped]:
    return list(DovecotPasswdSource(PASSWD).collect())


def by_address() -> dict[str, Account]:
    return {r.address: r for r in records() if isinstance(r, Account)}


def test_reads_every_line_in_order() -> None:
    lines = [
        f"account {r.address}" if isinstance(r, Account) else f"skipped {r.where} | {r.reason}"
        for r in records()
    ]
    assert [line.replace(f"{PASSWD}:", "") for line in lines] == [
        "account alice@example.com",
        "account test@example.com",
        "account carol",
        "account bob@example.com",
        "account ivan@example.com",
        "account dave@example.com",
        "account erin@example.com",
        "account frank@example.com",
        "account proxy@example.com",
        "account old@example.com",
        "skipped 14 | no user name (Dovecot ignores this line)",
        "skipped 15 | user listed again (Dovecot uses the first line)",
        "account gina@example.org",
        "account henry@example.com",
        "account crlf@example.com",
    ]


def test_source_identity() -> None:
    source = DovecotPasswdSource(PASSWD, "plain")
    assert source.default_scheme == "PLAIN"
    assert source.name == str(PASSWD)
    assert source.describe() == f"dovecot-passwd {PASSWD}"
    assert DovecotPasswdSource(PASSWD).default_scheme == "CRYPT"


def test_target_case_plain_is_stored_raw() -> None:
    test = by_address()["test@example.com"]
    assert test == Account(
        source=str(PASSWD),
        store="dovecot-passwd",
        location=f"{PASSWD}:5",
        address="test@example.com",
        username="test",
        domain="example.com",
        password_hash=Secret("{PLAIN}test", SecretKind.HASH),
    )
    assert test.cleartext is None  # {PLAIN} is left to the scheme engine
    assert test.scheme is None


def test_full_line_with_extra_field_holding_colons() -> None:
    alice = by_address()["alice@example.com"]
    assert alice.password_hash is not None
    assert alice.password_hash.value.startswith("{SHA512-CRYPT}$6$Dv5cPq2wXy7zAb3c$")
    assert alice.gecos == "Alice Liddell"
    assert alice.home == "/var/mail/example.com/alice"
    assert alice.quota == "*:storage=1G"
    assert alice.flags == ()


def test_short_lines() -> None:
    found = by_address()
    carol = found["carol"]
    assert (carol.username, carol.domain) == ("carol", None)
    assert carol.password_hash == Secret(
        "{CRAM-MD5}c0a49b541c47c13e0fed75e90df0510e8e19d265316dbafce5048e1f92c94232",
        SecretKind.HASH,
    )
    bob = found["bob@example.com"]
    assert bob.password_hash == Secret("$1$J2cKQ9EG$Oemx4dQDxyhd1dgl56y7l1", SecretKind.HASH)
    assert (bob.gecos, bob.home) == ("", "/var/mail/example.com/bob")
    frank = found["frank@example.com"]
    assert frank.password_hash is None
    assert frank.flags == ("no-password-field",)


def test_empty_passwords_and_passdb_extra_fields() -> None:
    found = by_address()
    dave = found["dave@example.com"]
    assert (dave.password_hash, dave.flags) == (None, ("empty-password",))
    erin = found["erin@example.com"]
    assert erin.password_hash == Secret("{PLAIN}", SecretKind.HASH)  # empty {PLAIN}: not flagged
    assert erin.flags == ("nopassword", "allow_nets")
    proxy = found["proxy@example.com"]
    assert proxy.flags == ("empty-password", "proxy", "host", "pass", "nologin")
    assert "ProxySecret" not in repr(proxy)


def test_old_format_mail_field_and_userdb_fields() -> None:
    found = by_address()
    old = found["old@example.com"]
    assert old.flags == ()
    assert old.home == "/home/old"
    gina = found["gina@example.org"]
    assert gina.domain == "example.org"
    assert gina.password_hash == Secret("ezuILTIg7DAGU[13]", SecretKind.HASH)  # pwdfile suffix kept
    assert gina.home == "/home/gina"  # the home field wins over userdb_home
    assert gina.flags == ("noauthenticate",)
    henry = found["henry@example.com"]
    assert henry.home == "/srv/mail/henry"  # empty home field: userdb_home
    assert henry.flags == ("NOPASSWORD",)  # not Dovecot's nopassword: names are case-sensitive


def test_crlf_line() -> None:
    crlf = by_address()["crlf@example.com"]
    assert crlf.password_hash == Secret("{PLAIN}dos", SecretKind.HASH)


def test_per_domain_file(tmp_path: Path) -> None:
    path = tmp_path / "passwd.example.net"
    path.write_bytes(b"bare:{PLAIN}x\nfull@other.test:{PLAIN}y\n")
    found = list(DovecotPasswdSource(path, domain="Example.NET").collect())
    assert [r.address for r in found if isinstance(r, Account)] == [
        "bare@example.net",
        "full@other.test",
    ]


def test_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    path.write_bytes(b"j\xe9r\xf4me@example.com:{PLAIN}p\xe4ss\n")
    (account,) = DovecotPasswdSource(path).collect()
    assert isinstance(account, Account)
    assert account.address == "j\\xe9r\\xf4me@example.com"
    assert account.password_hash is not None
    assert account.password_hash.value.encode("utf-8", "surrogateescape") == b"{PLAIN}p\xe4ss"


def test_unreadable_file_raises(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot open"):
        list(DovecotPasswdSource(tmp_path / "missing").collect())
    with pytest.raises(SourceError, match="cannot open: Is a directory"):
        list(DovecotPasswdSource(tmp_path).collect())


@pytest.mark.parametrize(
    ("line", "entry"),
    [
        ("#comment", None),
        ("", None),
        (" \t", None),
        ("u", PasswdFileEntry(user="u", password=None)),
        ("u:", PasswdFileEntry(user="u", password="")),
        ("u:p:1:2:g:/h:/s", PasswdFileEntry("u", "p", "1", "2", "g", "/h", "/s")),
        (
            "u:p:1:2:g:/h:/s:a=b:c  d",
            PasswdFileEntry("u", "p", "1", "2", "g", "/h", "/s", ("a=b:c", "d")),
        ),
        (
            "u:p:1:2:g:/h:/s::mbox:~/mail",
            PasswdFileEntry("u", "p", "1", "2", "g", "/h", "/s", ("userdb_mail=mbox:~/mail",)),
        ),
    ],
)
def test_parse_line(line: str, entry: PasswdFileEntry | None) -> None:
    assert parse_passwd_file_line(line) == entry


@given(st.text(max_size=200))
def test_arbitrary_lines_give_accounts_or_value_error(line: str) -> None:
    try:
        entry = parse_passwd_file_line(line)
    except ValueError:
        assert line.startswith(":")
        return
    if entry is not None:
        account = passwd_file_account(entry, source="s", location="l")
        assert account.username == account.address.partition("@")[0]


@given(st.binary(max_size=2000))
def test_arbitrary_files_give_records(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "passwd"
        path.write_bytes(data)
        for record in DovecotPasswdSource(path).collect():
            assert isinstance(record, Account | Skipped)
