"""DSN parsing, its display form, and where the password comes from (no server needed)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authaudit.accounts.dsn import (
    Dsn,
    DsnError,
    parse_dsn,
    read_option_file,
    resolve_password,
)
from authaudit.accounts.sql_session import open_session
from authaudit.errors import SourceError, UsageError


def test_mysql_dsn_with_port() -> None:
    dsn = parse_dsn("mysql://audit@db.example.com:3307/vpopmail")
    assert dsn == Dsn(
        scheme="mysql", database="vpopmail", user="audit", host="db.example.com", port=3307
    )
    assert dsn.display == "mysql://audit@db.example.com:3307/vpopmail"
    assert dsn.endpoint == "db.example.com:3307"


def test_unix_socket_dsn() -> None:
    dsn = parse_dsn("mysql://audit@localhost/vpopmail?unix_socket=/run/mysqld/mysqld.sock")
    assert dsn.unix_socket == "/run/mysqld/mysqld.sock"
    assert dsn.host == "localhost"
    assert dsn.port is None
    assert dsn.endpoint == "socket /run/mysqld/mysqld.sock"
    assert dsn.display == "mysql://audit@localhost/vpopmail?unix_socket=/run/mysqld/mysqld.sock"


def test_socket_alias_empty_host_and_timeout() -> None:
    dsn = parse_dsn("mysql://audit@/postfix?socket=/tmp/my%20sock&connect_timeout=2.5")
    assert (dsn.host, dsn.unix_socket, dsn.connect_timeout) == ("localhost", "/tmp/my sock", 2.5)
    assert dsn.display == (
        "mysql://audit@localhost/postfix?unix_socket=/tmp/my%20sock&connect_timeout=2.5"
    )


def test_mariadb_is_an_alias_and_defaults() -> None:
    dsn = parse_dsn("MariaDB://db/vpopmail")
    assert (dsn.scheme, dsn.user, dsn.effective_port) == ("mysql", None, 3306)
    assert dsn.display == "mysql://db/vpopmail"


def test_postgresql_and_ipv6_and_percent_encoding() -> None:
    dsn = parse_dsn("postgres://mail%40admin@[2001:db8::1]:5433/vpop%2Dmail")
    assert dsn == Dsn(
        scheme="postgresql", database="vpop-mail", user="mail@admin", host="2001:db8::1", port=5433
    )
    assert dsn.display == "postgresql://mail%40admin@[2001:db8::1]:5433/vpop-mail"
    assert parse_dsn(dsn.display) == dsn
    assert parse_dsn("postgresql://u@h/d").effective_port == 5432


@pytest.mark.parametrize(
    "text",
    [
        "mysql://audit:s3cret-Pw@localhost/vpopmail",
        "mysql://audit:@localhost/vpopmail",
        "mysql://audit@localhost/vpopmail?password=s3cret-Pw",
        "mysql://audit@localhost/vpopmail?unix_socket=/x&PWD=s3cret-Pw",
    ],
)
def test_password_in_dsn_is_refused_without_echoing_it(text: str) -> None:
    with pytest.raises(DsnError) as caught:
        parse_dsn(text)
    message = str(caught.value)
    assert message == (
        "DSN contains a password; give it with --password-env VAR or an option file, "
        "never on the command line"
    )
    assert "s3cret" not in message
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, UsageError)


SCHEMES = "mariadb, mysql, postgres, postgresql"
PARAMS = "unix_socket, connect_timeout"
TIMEOUT = "DSN connect_timeout must be a number of seconds in (0, 3600]"


def printable(text: str) -> bool:
    return all(ord(c) >= 0x20 and c != "\x7f" for c in text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("localhost/vpopmail", "not a DSN: expected scheme://user@host/database, e.g. mysql://..."),
        ("sqlite://x/y", f"unsupported DSN scheme 'sqlite' (known: {SCHEMES})"),
        ("mysql://audit@localhost", "DSN names no database (…/database)"),
        ("mysql://audit@localhost/", "DSN names no database (…/database)"),
        ("mysql://audit@localhost/a/b", "DSN database name is not a single name"),
        ("mysql://audit@localhost:99999/db", "DSN port is out of range (1-65535)"),
        ("mysql://audit@localhost:x/db", "DSN port is not a number"),
        ("mysql://audit@/db", "DSN names no host (and no unix_socket=)"),
        ("mysql://@h/db", "DSN has an empty user name before '@'"),
        ("mysql://u@h/db?unix_socket=rel/sock", "DSN unix_socket must be an absolute path"),
        ("postgresql://u@h/db?unix_socket=/s", "unix_socket= is only supported for mysql:// DSNs"),
        ("mysql://u@h/db?charset=latin1", f"unknown DSN parameter 'charset' (known: {PARAMS})"),
        ("mysql://u@h/db?connect_timeout=0", TIMEOUT),
        ("mysql://u@h/db?connect_timeout=nan", TIMEOUT),
        ("mysql://u@h/db?socket=/a&unix_socket=/b", "DSN parameter unix_socket given twice"),
        ("mysql://u@h/db?flag", "DSN parameter without '=' (expected name=value)"),
        ("mysql://u@h/db#frag", "DSN has a '#' fragment (percent-encode '#' as %23)"),
        ("mysql://u@h/d b", "DSN holds spaces or control characters (percent-encode them)"),
        ("mysql://u@h/%ff", "DSN database name is not valid percent-encoded UTF-8"),
        ("mysql://u@[::1/db", "DSN has a malformed [IPv6] host"),
        ("mysql://u@h!/db", "DSN host name holds characters a host name cannot have"),
    ],
)  # fmt: skip
def test_malformed_dsns(text: str, message: str) -> None:
    with pytest.raises(DsnError) as caught:
        parse_dsn(text)
    assert str(caught.value) == message


@given(st.text(max_size=200))
def test_any_text_gives_a_dsn_or_dsn_error(text: str) -> None:
    try:
        dsn = parse_dsn(text)
    except DsnError:
        return
    assert parse_dsn(dsn.display) == dsn


@given(
    user=st.text(min_size=1, max_size=20).filter(printable),
    database=st.text(min_size=1, max_size=20).filter(
        lambda s: "/" not in s and s.strip() != "" and printable(s)
    ),
    port=st.none() | st.integers(1, 65535),
    socket=st.none() | st.from_regex(r"/[a-z0-9 ./_-]{1,30}", fullmatch=True),
)  # fmt: skip
def test_display_round_trips(
    user: str, database: str, port: int | None, socket: str | None
) -> None:
    dsn = Dsn(scheme="mysql", database=database, user=user, port=port, unix_socket=socket)
    assert parse_dsn(dsn.display) == dsn


@given(st.text(min_size=1, max_size=30).filter(lambda s: ":" not in s and "@" not in s))
def test_password_never_in_error(secret: str) -> None:
    text = f"mysql://audit:{secret}Zq9@localhost/vpopmail"
    try:
        parse_dsn(text)
    except DsnError as exc:
        assert f"{secret}Zq9" not in str(exc)


def test_password_from_environment() -> None:
    dsn = parse_dsn("mysql://audit@localhost/vpopmail")
    env = {"DBPW": "from-env"}
    assert resolve_password(dsn, password_env="DBPW", environ=env) == ("audit", "from-env")
    assert resolve_password(dsn, password_env="DBPW", environ={"DBPW": ""}) == ("audit", "")
    assert resolve_password(dsn, environ=env) == ("audit", None)


def test_unset_or_bad_environment_variable() -> None:
    dsn = parse_dsn("mysql://audit@localhost/vpopmail")
    with pytest.raises(SourceError) as caught:
        resolve_password(dsn, password_env="NOPE_NOT_SET", environ={})
    assert str(caught.value) == (
        "mysql://audit@localhost/vpopmail: environment variable NOPE_NOT_SET is not set"
    )
    with pytest.raises(SourceError) as caught:
        resolve_password(dsn, password_env="A-B", environ={})
    assert caught.value.reason == "--password-env 'A-B' is not a variable name"


def _option_file(text: str) -> Path:
    handle, name = tempfile.mkstemp(suffix=".cnf")
    os.write(handle, text.encode())
    os.close(handle)
    return Path(name)


def test_password_and_user_from_option_file() -> None:
    path = _option_file(
        "# comment\n[mysqld]\npassword = wrong\n[client]\nUser = opt-user\n"
        "password = \"with # and 'quotes'\"\n!includedir /etc/mysql/conf.d/\n"
    )
    try:
        assert resolve_password(parse_dsn("mysql://h/db"), option_file=str(path)) == (
            "opt-user",
            "with # and 'quotes'",
        )
        assert resolve_password(parse_dsn("mysql://audit@h/db"), option_file=str(path)) == (
            "audit",
            "with # and 'quotes'",
        )
        # --password-env wins over the option file.
        assert resolve_password(
            parse_dsn("mysql://audit@h/db"),
            password_env="P",
            option_file=str(path),
            environ={"P": "e"},
        ) == ("audit", "e")
        options = read_option_file(path, source="x")
        assert "with #" not in repr(options)
    finally:
        path.unlink()


def test_option_file_problems() -> None:
    dsn = parse_dsn("mysql://audit@h/db")
    with pytest.raises(SourceError) as caught:
        resolve_password(dsn, option_file="/nonexistent/my.cnf")
    assert caught.value.reason == "option file /nonexistent/my.cnf: No such file or directory"
    path = _option_file("[client]\nuser = x\n")
    try:
        with pytest.raises(SourceError) as caught:
            resolve_password(dsn, option_file=str(path))
        assert caught.value.reason == f"option file {path} has no password= in its [client] group"
    finally:
        path.unlink()
    path = _option_file("password = before any group\n")
    try:
        with pytest.raises(SourceError) as caught:
            resolve_password(dsn, option_file=str(path))
        assert caught.value.reason.startswith(f"option file {path}: not an option file (")
    finally:
        path.unlink()


def test_postgresql_needs_psycopg() -> None:
    with pytest.raises(SourceError) as caught:
        open_session(parse_dsn("postgresql://audit@localhost/vpopmail"))
    assert caught.value.reason in (
        "PostgreSQL DSN needs psycopg, which is not installed",
        "PostgreSQL account stores are not supported yet",
    )
