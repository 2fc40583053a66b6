"""vpopmail's MySQL backend against a private MariaDB (fixtures in tests/accounts/mariadb.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from authaudit.accounts.vpopmail_sql import VpopmailSqlSource, munch_domain, recover_domain
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind
from tests.accounts.mariadb import LASTAUTH_TIME, PASSWORD_ENV, MariaDB, server_fixture

pytestmark = pytest.mark.lab

mariadb = server_fixture()

SEEN_AGAIN = "user seen again (duplicate row in the table or in lastauth)"


def source(server: MariaDB, database: str, **options: str) -> VpopmailSqlSource:
    return VpopmailSqlSource(
        server.dsn(database), password_env=PASSWORD_ENV, environ=server.environ(), **options
    )


def summary(records: list[Account | Skipped]) -> list[str]:
    lines = []
    for r in records:
        if isinstance(r, Skipped):
            lines.append(f"skipped {r.where} | {r.reason}")
        else:
            lines.append(f"{r.location} {r.address} {' '.join(r.flags)}".rstrip())
    return lines


def test_many_domains_layout(mariadb: MariaDB) -> None:
    src = source(mariadb, "vpopmail_many")
    assert src.default_scheme == "CRYPT"
    assert src.store == "vpopmail-sql"
    assert summary(list(src.collect())) == [
        "skipped vpopmail:frank | pw_domain is NULL or empty",
        "vpopmail:alice@example.com alice@example.com never-logged-in",
        "vpopmail:carol@example.com carol@example.com NO_PASSWD_CHNG NO_SMTP lastauth-not-an-ip",
        "vpopmail:test@example.com test@example.com",
        "vpopmail:dave@example.org dave@example.org QA_ADMIN empty-password lastauth-time-invalid",
        "skipped vpopmail:erin@example.org | pw_passwd is NULL",
        "vpopmail:gina@example.org gina@example.org gid-not-numeric",
    ]


def test_test_account_with_last_login(mariadb: MariaDB) -> None:
    src = source(mariadb, "vpopmail_many")
    accounts = {r.address: r for r in src.collect() if isinstance(r, Account)}
    assert accounts["test@example.com"] == Account(
        source=f"mysql://audit@localhost/vpopmail_many?unix_socket={mariadb.socket}",
        store="vpopmail-sql",
        location="vpopmail:test@example.com",
        address="test@example.com",
        username="test",
        domain="example.com",
        password_hash=Secret("$1$Qx7.Lm2z$w/fzL9xLB3W5H5QSI6fDT/", SecretKind.HASH),
        cleartext=Secret("test", SecretKind.CLEARTEXT),
        gecos="test",
        home="/home/vpopmail/domains/example.com/test",
        quota="NOQUOTA",
        last_auth_ip="82.128.32.42",
        last_auth_at=datetime(2025, 11, 18, 9, 30, tzinfo=UTC),
    )
    assert accounts["test@example.com"].last_auth_at == datetime.fromtimestamp(LASTAUTH_TIME, UTC)


def test_clear_passwords_lastauth_and_odd_values(mariadb: MariaDB) -> None:
    accounts = {
        r.address: r for r in source(mariadb, "vpopmail_many").collect() if isinstance(r, Account)
    }
    carol = accounts["carol@example.com"]
    assert carol.cleartext == Secret("sum:mer", SecretKind.CLEARTEXT)
    assert carol.password_hash == Secret("AbiaWJmXaz/Eg", SecretKind.HASH)
    assert (carol.gecos, carol.home, carol.quota) == (
        "Carol Zoë",
        "/home/vpopmail/domains/example.com/0/carol",
        "50000000S,1000C",
    )
    assert (carol.last_auth_ip, carol.last_auth_at) == (
        "not-an-ip",
        datetime(2023, 11, 14, 22, 13, 21, tzinfo=UTC),
    )
    alice = accounts["alice@example.com"]
    assert (alice.cleartext, alice.last_auth_ip, alice.last_auth_at) == (None, None, None)
    dave = accounts["dave@example.org"]
    assert (dave.password_hash, dave.cleartext, dave.last_auth_ip, dave.last_auth_at) == (
        None,
        None,
        "2001:db8::7",
        None,
    )
    gina = accounts["gina@example.org"]
    assert (gina.gecos, gina.home, gina.quota, gina.last_auth_ip) == ("", None, None, None)


def test_one_table_per_domain(mariadb: MariaDB) -> None:
    records = list(source(mariadb, "vpopmail_split").collect())
    assert summary(records) == [
        "skipped half_table | vpopmail-like table without column pw_passwd",
        "vpopmail:postmaster postmaster",
        "example_com:bob@example.com bob@example.com NO_SMTP",
        "example_com:test@example.com test@example.com",
        "my_site_net:xavier@my-site.net xavier@my-site.net",
        "skipped other_org:<NULL>@other.org | pw_name is NULL or empty",
        "other_org:yves@other.org yves@other.org gid-not-numeric domain-guessed",
        "skipped other_org:yves@other.org | " + SEEN_AGAIN,
        "skipped other_org:zoe@other.org | pw_passwd is NULL",
    ]
    accounts = {r.address: r for r in records if isinstance(r, Account)}
    test = accounts["test@example.com"]
    assert (test.last_auth_ip, test.last_auth_at, test.cleartext) == (
        "82.128.32.42",
        datetime(2025, 11, 18, 9, 30, tzinfo=UTC),
        None,
    )
    xavier = accounts["xavier@my-site.net"]
    assert (xavier.domain, xavier.last_auth_ip) == ("my-site.net", "10.1.2.3")
    assert accounts["postmaster"].domain is None


def test_table_option(mariadb: MariaDB) -> None:
    records = list(source(mariadb, "vpopmail_split", table="my_site_net").collect())
    assert summary(records) == ["my_site_net:xavier@my-site.net xavier@my-site.net"]
    with pytest.raises(SourceError) as caught:
        list(source(mariadb, "vpopmail_split", table="nope").collect())
    assert caught.value.reason == "no table nope in database vpopmail_split"
    with pytest.raises(SourceError) as caught:
        list(source(mariadb, "vpopmail_split", table="half_table").collect())
    assert caught.value.reason == "table half_table lacks column pw_passwd"


def test_lastauth_userid_column_and_service(mariadb: MariaDB) -> None:
    mariadb.create_database(
        "vpopmail_userid",
        """
        CREATE TABLE vpopmail (pw_name char(32) NOT NULL, pw_domain char(96) NOT NULL,
            pw_passwd char(40), PRIMARY KEY (pw_name, pw_domain));
        INSERT INTO vpopmail VALUES ('test', 'example.com', 'h1'), ('new', 'example.com', 'h2');
        CREATE TABLE LastAuth (userid char(32) NOT NULL, domain char(96) NOT NULL,
            remote_ip char(18) NOT NULL, timestamp bigint DEFAULT 0 NOT NULL,
            service char(10));
        INSERT INTO LastAuth VALUES ('test', 'example.com', '82.128.32.42', 1763458200, 'imap'),
            ('new', 'example.com', '0.0.0.0', 1763458000, 'smtp')
        """,
    )
    records = list(source(mariadb, "vpopmail_userid").collect())
    test = next(r for r in records if isinstance(r, Account) and r.username == "test")
    assert (test.last_auth_ip, test.last_auth_at, test.last_auth_service, test.flags) == (
        "82.128.32.42",
        datetime(2025, 11, 18, 9, 30, tzinfo=UTC),
        "imap",
        (),
    )
    new = next(r for r in records if isinstance(r, Account) and r.username == "new")
    assert (new.last_auth_ip, new.last_auth_at, new.last_auth_service, new.flags) == (
        None,
        None,
        None,
        ("never-logged-in",),
    )


def test_unusable_lastauth_is_reported_and_accounts_still_read(mariadb: MariaDB) -> None:
    mariadb.create_database(
        "vpopmail_badlastauth",
        """
        CREATE TABLE vpopmail (pw_name char(32) NOT NULL, pw_domain char(96) NOT NULL,
            pw_passwd char(40));
        INSERT INTO vpopmail VALUES ('a', 'example.com', 'h');
        CREATE TABLE lastauth (who char(32), remote_ip char(18))
        """,
    )
    assert summary(list(source(mariadb, "vpopmail_badlastauth").collect())) == [
        "skipped lastauth | no user/userid or domain column; last logins not read",
        "vpopmail:a@example.com a@example.com",
    ]


def test_missing_tables_and_columns(mariadb: MariaDB) -> None:
    with pytest.raises(SourceError) as caught:
        next(source(mariadb, "postfix").collect())
    assert caught.value.reason == (
        "no vpopmail table (columns pw_name, pw_passwd) in database postfix"
    )
    mariadb.create_database(
        "vpopmail_nopasswd",
        "CREATE TABLE vpopmail (pw_name char(32) NOT NULL, pw_domain char(96) NOT NULL)",
    )
    with pytest.raises(SourceError) as caught:
        next(source(mariadb, "vpopmail_nopasswd").collect())
    assert caught.value.reason == "table vpopmail lacks column pw_passwd"
    assert str(caught.value) == (
        f"mysql://audit@localhost/vpopmail_nopasswd?unix_socket={mariadb.socket}:"
        " table vpopmail lacks column pw_passwd"
    )


def test_munch_and_recover_domain() -> None:
    assert munch_domain("my-site.example.com") == "my_site_example_com"
    assert recover_domain("my_site_net", ["/h/domains/7/my-site.net/x", "/h/other"], []) == (
        "my-site.net",
        False,
    )
    assert recover_domain("a_b_c", [], ["a.b-c", "a-b.c", "a-b.c"]) == ("a-b.c", False)
    assert recover_domain("a_b_c", ["/d/a.b.c/u"], ["a-b.c"]) == ("a-b.c", False)
    assert recover_domain("Example_COM", [], []) == ("example.com", True)
