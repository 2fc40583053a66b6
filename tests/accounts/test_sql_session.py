"""The read-only session: login failures, refusal of writes, streaming (private MariaDB)."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from collections.abc import Generator

import pymysql  # type: ignore[import-untyped]
import pytest

from authaudit.accounts.dsn import parse_dsn
from authaudit.accounts.postfixadmin import PostfixAdminSource
from authaudit.accounts.sql import SqlQuerySource, SqlSource
from authaudit.accounts.sql_session import Rows, SqlError, open_session
from authaudit.accounts.vpopmail_sql import VpopmailSqlSource
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from tests.accounts.mariadb import (
    AUDIT_PASSWORD,
    FIXTURES,
    PASSWORD_ENV,
    WRITER_PASSWORD,
    MariaDB,
    server_fixture,
)

pytestmark = pytest.mark.lab

mariadb = server_fixture()

READ_ONLY = 1792  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION


def first_error(src: SqlSource) -> SourceError:
    with pytest.raises(SourceError) as caught:
        next(src.collect())
    return caught.value


def test_wrong_socket_path(mariadb: MariaDB) -> None:
    dsn = "mysql://audit@localhost/vpopmail_many?unix_socket=/nonexistent/mysqld.sock"
    error = first_error(
        VpopmailSqlSource(dsn, password_env=PASSWORD_ENV, environ=mariadb.environ())
    )
    assert str(error) == (
        "mysql://audit@localhost/vpopmail_many?unix_socket=/nonexistent/mysqld.sock:"
        " cannot connect to socket /nonexistent/mysqld.sock: No such file or directory"
    )


def test_refused_tcp_connection() -> None:
    src = VpopmailSqlSource("mysql://audit@127.0.0.1:1/vpopmail?connect_timeout=5")
    assert first_error(src).reason == "cannot connect to 127.0.0.1:1: Connection refused"


def test_wrong_password(mariadb: MariaDB) -> None:
    src = VpopmailSqlSource(
        mariadb.dsn("vpopmail_many"), password_env=PASSWORD_ENV, environ=mariadb.environ("nope")
    )
    assert first_error(src).reason == (
        f"login refused for user 'audit' at socket {mariadb.socket}"
        " (wrong password, or no such user)"
    )


def test_no_password_given(mariadb: MariaDB) -> None:
    error = first_error(PostfixAdminSource(mariadb.dsn("postfix")))
    assert error.reason == (
        f"login refused for user 'audit' at socket {mariadb.socket}"
        " (wrong password, or no such user)"
    )


def test_unknown_database(mariadb: MariaDB) -> None:
    src = VpopmailSqlSource(
        mariadb.dsn("nonexistent"), password_env=PASSWORD_ENV, environ=mariadb.environ()
    )
    assert first_error(src).reason == "user 'audit' may not use database 'nonexistent'"
    root = VpopmailSqlSource(mariadb.dsn("nonexistent", user="root"))
    assert first_error(root).reason == f"no database 'nonexistent' at socket {mariadb.socket}"


def test_password_from_option_file(
    mariadb: MariaDB, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("cnf") / "my.cnf"
    path.write_text(f"[client]\nuser = audit\npassword = {AUDIT_PASSWORD}\n")
    dsn = f"mysql://localhost/postfix?unix_socket={mariadb.socket}"
    records = list(PostfixAdminSource(dsn, option_file=str(path)).collect())
    assert len([r for r in records if isinstance(r, Account)]) == 7


def test_failed_store_leaves_the_others_readable(mariadb: MariaDB) -> None:
    sources: list[SqlSource] = [
        VpopmailSqlSource("mysql://audit@localhost/x?unix_socket=/nonexistent/sock"),
        PostfixAdminSource(
            mariadb.dsn("postfix"), password_env=PASSWORD_ENV, environ=mariadb.environ()
        ),
    ]
    errors: list[str] = []
    records: list[Account | Skipped] = []
    for src in sources:
        try:
            records.extend(src.collect())
        except SourceError as exc:
            errors.append(exc.reason)
    assert errors == ["cannot connect to socket /nonexistent/sock: No such file or directory"]
    assert len(records) == 8


def test_writes_through_the_source_session_fail(mariadb: MariaDB) -> None:
    mariadb.create_database("scratch", "CREATE TABLE t (a int)")
    writer_env = mariadb.environ(WRITER_PASSWORD)
    # The writer may write (so a refusal below comes from the session, not from privileges).
    with contextlib.closing(
        pymysql.connect(
            unix_socket=str(mariadb.socket), user="writer", password=WRITER_PASSWORD,
            database="scratch", autocommit=True,
        )
    ) as plain, plain.cursor() as cursor:  # fmt: skip
        cursor.execute("INSERT INTO t VALUES (1)")
    src = VpopmailSqlSource(
        mariadb.dsn("scratch", user="writer"), password_env=PASSWORD_ENV, environ=writer_env
    )
    with src.open_session() as session, session.connection.cursor() as cursor:
        for statement in (
            "INSERT INTO t VALUES (2)",
            "UPDATE t SET a = 3",
            "DELETE FROM t",
            "CREATE TABLE t2 (a int)",
            "CREATE TEMPORARY TABLE t3 (a int)",
        ):
            with pytest.raises(pymysql.err.OperationalError) as caught:
                cursor.execute(statement)
            assert caught.value.args[0] == READ_ONLY
        # Outside the transaction too: the session itself is read-only.
        session.connection.rollback()
        with pytest.raises(pymysql.err.OperationalError) as caught:
            cursor.execute("INSERT INTO t VALUES (4)")
        assert caught.value.args[0] == READ_ONLY
    with contextlib.closing(mariadb.admin("scratch")) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT a FROM t")
        assert cursor.fetchall() == ((1,),)
        cursor.execute("SHOW TABLES")
        assert cursor.fetchall() == (("t",),)


def test_scans_leave_the_stores_unchanged(mariadb: MariaDB) -> None:
    before = {name: mariadb.checksums(name) for name in FIXTURES}
    env = {PASSWORD_ENV: WRITER_PASSWORD}
    many, split, postfix = (
        mariadb.dsn(db, "writer") for db in ("vpopmail_many", "vpopmail_split", "postfix")
    )
    for src in (
        VpopmailSqlSource(many, password_env=PASSWORD_ENV, environ=env),
        VpopmailSqlSource(split, password_env=PASSWORD_ENV, environ=env),
        PostfixAdminSource(postfix, password_env=PASSWORD_ENV, environ=env),
        SqlQuerySource(postfix, "SELECT username, password FROM mailbox",
                       password_env=PASSWORD_ENV, environ=env),
    ):  # fmt: skip
        assert list(src.collect())
    assert {name: mariadb.checksums(name) for name in FIXTURES} == before
    assert all(value is not None for sums in before.values() for value in sums.values())


def test_session_reports_read_only(mariadb: MariaDB) -> None:
    src = VpopmailSqlSource(
        mariadb.dsn("postfix"), password_env=PASSWORD_ENV, environ=mariadb.environ()
    )
    with src.open_session() as session:
        assert session.fetch_all("SELECT @@session.tx_read_only, @@in_transaction") == [(1, 1)]
        with pytest.raises(SqlError) as caught:
            session.fetch_all("SELECT * FROM nope")
        assert (str(caught.value), caught.value.fatal) == (
            "error 1146: Table 'postfix.nope' doesn't exist",
            False,
        )
        assert session.fetch_all("SELECT COUNT(*) FROM mailbox") == [(6,)]


BIG_ROWS = 50_000
BIG_INSERT = """INSERT INTO vpopmail SELECT CONCAT('user', seq), 'big.example',
    CONCAT('$1$salt$', seq), 1, 0, 'U', CONCAT('/home/vpopmail/domains/big.example/user', seq),
    'NOQUOTA', NULL FROM seq_1_to_50000"""


@pytest.fixture(scope="module")
def big_database(mariadb: MariaDB) -> str:
    mariadb.create_database(
        "vpopmail_big",
        FIXTURES["vpopmail_many"].split("INSERT INTO vpopmail")[0] + BIG_INSERT,
    )
    return "vpopmail_big"


def test_rows_are_streamed(mariadb: MariaDB, big_database: str) -> None:
    src = VpopmailSqlSource(
        mariadb.dsn(big_database), password_env=PASSWORD_ENV, environ=mariadb.environ()
    )
    started = time.perf_counter()
    count = sum(1 for r in src.collect() if isinstance(r, Account))
    elapsed = time.perf_counter() - started
    assert count == BIG_ROWS
    assert elapsed < 60, f"{BIG_ROWS} rows took {elapsed:.1f} s"
    with src.open_session() as session:
        rows = session.query("SELECT pw_name, pw_passwd, pw_dir FROM vpopmail")
        assert isinstance(rows, Rows)
        assert type(rows._cursor) is pymysql.cursors.SSCursor
        tracemalloc.start()
        try:
            assert sum(1 for _ in rows) == BIG_ROWS
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 2_000_000, f"peak {peak} bytes while streaming {BIG_ROWS} rows"


def test_stopping_early_drops_the_connection(mariadb: MariaDB, big_database: str) -> None:
    src = VpopmailSqlSource(
        mariadb.dsn(big_database), password_env=PASSWORD_ENV, environ=mariadb.environ()
    )
    started = time.perf_counter()
    records = src.collect()
    assert isinstance(records, Generator)
    first = [next(records) for _ in range(3)]
    records.close()
    assert [r.address for r in first if isinstance(r, Account)] == [
        "user1@big.example",
        "user10@big.example",
        "user100@big.example",
    ]
    assert time.perf_counter() - started < 10


def test_localhost_means_the_local_socket(mariadb: MariaDB) -> None:
    dsn = parse_dsn("mysql://audit@localhost/postfix")
    sockets = ("/nonexistent/mysqld.sock", str(mariadb.socket))
    session = open_session(
        dsn, password_env="P", environ={"P": AUDIT_PASSWORD}, default_sockets=sockets
    )
    assert session.fetch_all("SELECT COUNT(*) FROM mailbox") == [(6,)]
    session.close()
    session.close()  # closing twice is harmless
    assert session.broken
    with pytest.raises(SourceError) as caught:
        open_session(dsn, password_env="P", environ={"P": "wrong"}, default_sockets=sockets)
    assert str(caught.value) == (
        "mysql://audit@localhost/postfix: login refused for user 'audit' at socket"
        f" {mariadb.socket} (wrong password, or no such user)"
    )
