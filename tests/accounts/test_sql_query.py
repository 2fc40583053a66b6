"""``--sql DSN --query SELECT``: the query check, and reading rows by column name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.accounts.sql import SqlQuerySource, flag_value, unix_time
from authaudit.accounts.sql_select import QueryRejected, check_select
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind
from tests.accounts.mariadb import PASSWORD_ENV, MariaDB, server_fixture

mariadb = server_fixture()


def query_source(server: MariaDB, query: str, database: str = "postfix") -> SqlQuerySource:
    return SqlQuerySource(
        server.dsn(database), query, password_env=PASSWORD_ENV, environ=server.environ()
    )


def summary(records: list[Account | Skipped]) -> list[str]:
    return [
        f"skipped {r.where} | {r.reason}"
        if isinstance(r, Skipped)
        else f"{r.location} {r.address} {' '.join(r.flags)}".rstrip()
        for r in records
    ]


@pytest.mark.lab
def test_dovecot_style_query(mariadb: MariaDB) -> None:
    src = query_source(
        mariadb,
        "SELECT username AS user, password, name, maildir AS home, active FROM mailbox"
        " ORDER BY username;",
    )
    assert (src.store, src.default_scheme) == ("sql", "MD5")
    assert src.query.endswith("ORDER BY username")
    records = list(src.collect())
    assert summary(records) == [
        "query:alice@example.com alice@example.com",
        "query:bob@example.com bob@example.com inactive",
        "query:carol@example.net carol@example.net",
        "query:dave@expire.org dave@expire.org",
        "query:erin@example.com erin@example.com empty-password",
        "query:fred@expire.org fred@expire.org",
    ]
    assert records[1] == Account(
        source=f"mysql://audit@localhost/postfix?unix_socket={mariadb.socket}",
        store="sql",
        location="query:bob@example.com",
        address="bob@example.com",
        username="bob",
        domain="example.com",
        password_hash=Secret("{PLAIN}bob", SecretKind.HASH),
        gecos="Bob",
        flags=("inactive",),
        home="example.com/bob/",
    )


@pytest.mark.lab
def test_user_and_domain_columns(mariadb: MariaDB) -> None:
    src = query_source(
        mariadb,
        "SELECT local_part AS userid, UPPER(domain) AS domain, password_noscheme FROM"
        " (SELECT local_part, domain, password AS password_noscheme FROM mailbox) m"
        " WHERE local_part IN ('alice', 'carol') ORDER BY local_part",
    )
    assert summary(list(src.collect())) == [
        "query:alice@example.com alice@example.com password-noscheme",
        "query:carol@example.net carol@example.net password-noscheme",
    ]


@pytest.mark.lab
def test_null_rows_are_skipped_and_login_columns_read(mariadb: MariaDB) -> None:
    src = query_source(
        mariadb,
        "SELECT * FROM ("
        " SELECT NULL AS user, 'x' AS password, NULL AS nopassword, NULL AS last_login,"
        "  NULL AS last_ip, NULL AS service, NULL AS nologin"
        " UNION ALL SELECT 'nullpw@example.com', NULL, NULL, NULL, NULL, NULL, NULL"
        " UNION ALL SELECT 'any@example.com', NULL, 'Y', NULL, NULL, NULL, 'N'"
        " UNION ALL SELECT 'test@Example.COM', 'h', 0, 1763458200, '82.128.32.42', 'imap', 'Y'"
        " UNION ALL SELECT 'odd@example.com', 'h', NULL, 'garbage', 'host.example', NULL, NULL"
        ") t",
    )
    records = list(src.collect())
    assert summary(records) == [
        "skipped query:row 1 | login column is NULL or empty",
        "skipped query:nullpw@example.com | password is NULL (the login is refused)",
        "query:any@example.com any@example.com nopassword",
        "query:test@example.com test@example.com nologin",
        "query:odd@example.com odd@example.com last-login-time-invalid last-login-not-an-ip",
    ]
    test = records[3]
    assert isinstance(test, Account)
    assert (test.last_auth_ip, test.last_auth_at, test.last_auth_service) == (
        "82.128.32.42",
        datetime(2025, 11, 18, 9, 30, tzinfo=UTC),
        "imap",
    )
    assert isinstance(records[2], Account) and records[2].password_hash is None


@pytest.mark.lab
def test_query_without_needed_columns_or_failing(mariadb: MariaDB) -> None:
    with pytest.raises(SourceError) as caught:
        next(query_source(mariadb, "SELECT username, name FROM mailbox").collect())
    assert caught.value.reason == (
        "query must return a login column (user, username ...) and a password column"
        " (password or password_noscheme); it returns: username, name"
    )
    with pytest.raises(SourceError) as caught:
        next(query_source(mariadb, "SELECT user, password FROM nope").collect())
    assert caught.value.reason == "query failed: error 1146: Table 'postfix.nope' doesn't exist"
    # The session is still usable by a second source afterwards.
    assert len(list(query_source(mariadb, "SELECT username, password FROM mailbox").collect())) == 6


NOT_SELECT = "only a SELECT query can be used (it must start with SELECT)"


def uses(word: str) -> str:
    return f"query uses {word}, not allowed in a read-only scan"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("DELETE FROM mailbox", NOT_SELECT),
        ("SHOW TABLES", NOT_SELECT),
        ("SELECT 1; DROP TABLE mailbox", "query holds more than one statement (';')"),
        ("SELECT * FROM mailbox INTO OUTFILE '/tmp/x'", uses("INTO")),
        ("SELECT password INTO @p FROM mailbox", uses("INTO")),
        ("SELECT * FROM mailbox FOR UPDATE", uses("UPDATE")),
        ("SELECT * FROM mailbox LOCK IN SHARE MODE", uses("LOCK")),
        ("SELECT * FROM mailbox FOR SHARE", "query is a locking read (FOR UPDATE / FOR SHARE)"),
        ("SELECT LOAD_FILE('/etc/shadow') AS password", uses("LOAD_FILE")),
        ("SELECT 1 /*!50000 , SLEEP(1) */", "query holds a MySQL executable comment (/*! ... */)"),
        ("WITH x AS (SELECT 1) DELETE FROM mailbox", uses("DELETE")),
        (
            "SELECT username AS user, password FROM mailbox WHERE username = '%u'",
            "query uses the Dovecot variable '%u': give a query that lists every account "
            "(like iterate_query, with the password column)",
        ),
        (
            "SELECT password FROM users WHERE userid = '%n' AND domain = '%d'",
            "query uses the Dovecot variable '%n': give a query that lists every account "
            "(like iterate_query, with the password column)",
        ),
        ("SELECT 1\x00", "query holds a NUL character"),
        ("SELECT " + "1," * 40000 + "1", "query is longer than 65536 characters"),
    ],
)  # fmt: skip
def test_rejected_queries(query: str, reason: str) -> None:
    with pytest.raises(QueryRejected) as caught:
        check_select(query)
    assert str(caught.value) == reason
    with pytest.raises(QueryRejected):
        SqlQuerySource("mysql://audit@localhost/postfix", query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT username AS user, password FROM mailbox WHERE active = '1'",
        "  select concat(local_part, '@', domain) as user, password from mailbox ; ",
        "(SELECT user, password FROM a) UNION (SELECT user, password FROM b)",
        "SELECT user, password FROM t WHERE name LIKE '%daniel%' -- INTO OUTFILE\n",
        "SELECT `into`, 'DELETE; DROP' AS password, \"for update\" FROM t # ; drop\n",
        "WITH u AS (SELECT * FROM mailbox) SELECT username, password FROM u",
        "SELECT user, password /* into */ FROM t",
    ],
)
def test_accepted_queries(query: str) -> None:
    assert check_select(query) == query.strip().rstrip(";").rstrip()


@given(st.text(max_size=300))
def test_query_check_never_crashes(text: str) -> None:
    try:
        assert check_select(text)
    except QueryRejected:
        pass


def test_value_helpers() -> None:
    assert [flag_value(v) for v in (1, 0, "Y", "n", b"1", b"\x01", b"\x00", None, "maybe")] == [
        True, False, True, False, True, True, False, None, None,
    ]  # fmt: skip
    assert unix_time(1763458200) == datetime(2025, 11, 18, 9, 30, tzinfo=UTC)
    assert unix_time(b"1763458200") == datetime(2025, 11, 18, 9, 30, tzinfo=UTC)
    assert unix_time(datetime(2025, 11, 18, 9, 30)) == datetime(2025, 11, 18, 9, 30, tzinfo=UTC)
    assert unix_time("2025-11-18 09:30:00") == datetime(2025, 11, 18, 9, 30, tzinfo=UTC)
    assert [unix_time(v) for v in (None, 0, "0", "", "0000-00-00 00:00:00")] == [None] * 5
    for bad in (-1, 10**15, "soon", True, 1.5j):
        with pytest.raises(ValueError):
            unix_time(bad)
