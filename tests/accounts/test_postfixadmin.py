"""PostfixAdmin's ``mailbox`` table (real MySQL layout) against a private MariaDB."""

from __future__ import annotations

import pytest

from authaudit.accounts.postfixadmin import PostfixAdminSource
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind
from tests.accounts.mariadb import PASSWORD_ENV, MariaDB, server_fixture

pytestmark = pytest.mark.lab

mariadb = server_fixture()


def source(server: MariaDB, database: str = "postfix", **options: str) -> PostfixAdminSource:
    return PostfixAdminSource(
        server.dsn(database), password_env=PASSWORD_ENV, environ=server.environ(), **options
    )


def summary(records: list[Account | Skipped]) -> list[str]:
    return [
        f"skipped {r.where} | {r.reason}"
        if isinstance(r, Skipped)
        else f"{r.location} {r.address} {' '.join(r.flags)}".rstrip()
        for r in records
    ]


def test_mailboxes_and_app_passwords(mariadb: MariaDB) -> None:
    src = source(mariadb)
    assert (src.store, src.default_scheme) == ("postfixadmin", "MD5")
    records = list(src.collect())
    assert summary(records) == [
        "mailbox:alice@example.com alice@example.com",
        "mailbox:bob@example.com bob@example.com inactive",
        "mailbox:carol@example.net carol@example.net domain-inactive",
        "mailbox:dave@expire.org dave@expire.org password-expired",
        "mailbox:erin@example.com erin@example.com empty-password totp",
        "mailbox:fred@expire.org fred@expire.org",
        "mailbox_app_password:1 alice@example.com app-password",
        "skipped mailbox_app_password:2 | password is NULL (the login is refused)",
    ]
    name = f"mysql://audit@localhost/postfix?unix_socket={mariadb.socket}"
    assert records[0] == Account(
        source=name,
        store="postfixadmin",
        location="mailbox:alice@example.com",
        address="alice@example.com",
        username="alice",
        domain="example.com",
        password_hash=Secret("$6$GO4lilsC1gy2Db1w$Yk1Loaupw9v", SecretKind.HASH),
        gecos="Alice Liddell",
        home="example.com/alice/",
        quota="0",
    )
    assert records[2] == Account(
        source=name,
        store="postfixadmin",
        location="mailbox:carol@example.net",
        address="carol@example.net",
        username="carol",
        domain="example.net",
        password_hash=Secret("$1$U7vOUrYU$4thgO4/Je643fDHTq/EZl1", SecretKind.HASH),
        gecos="Carol Zoë",
        flags=("domain-inactive",),
        home="example.net/carol/",
        quota="0",
    )
    app = records[6]
    assert isinstance(app, Account)
    assert (app.password_hash, app.gecos, app.home) == (
        Secret("{BLF-CRYPT}$2y$05$abc", SecretKind.HASH),
        "phone",
        None,
    )


def test_old_layout_and_prefix(mariadb: MariaDB) -> None:
    # PostfixAdmin 2.1 (upgrade_5_mysql): no local_part, expiry, totp, domain expiry; a prefix.
    mariadb.create_database(
        "postfix_old",
        """
        CREATE TABLE pfa_mailbox (username varchar(255) NOT NULL DEFAULT '', password
            varchar(255) NOT NULL DEFAULT '', name varchar(255) NOT NULL DEFAULT '', maildir
            varchar(255) NOT NULL DEFAULT '', quota int(10) NOT NULL DEFAULT 0, domain
            varchar(255) NOT NULL DEFAULT '', created datetime, modified datetime, active
            tinyint(1) NOT NULL DEFAULT 1, PRIMARY KEY (username));
        INSERT INTO pfa_mailbox (username, password, name, domain, active) VALUES
          ('old@example.com', 'md5hash', 'Old', 'example.com', 0),
          ('nodomain', 'x', '', 'example.com', 1)
        """,
    )
    assert summary(list(source(mariadb, "postfix_old", prefix="pfa_").collect())) == [
        "pfa_mailbox:nodomain@example.com nodomain@example.com",
        "pfa_mailbox:old@example.com old@example.com inactive",
    ]


def test_missing_table_or_columns(mariadb: MariaDB) -> None:
    with pytest.raises(SourceError) as caught:
        next(source(mariadb, "vpopmail_many").collect())
    assert caught.value.reason == "no table mailbox in database vpopmail_many"
    mariadb.create_database(
        "postfix_broken", "CREATE TABLE mailbox (username varchar(255), name varchar(255))"
    )
    with pytest.raises(SourceError) as caught:
        next(source(mariadb, "postfix_broken").collect())
    assert caught.value.reason == "table mailbox has no column password"
