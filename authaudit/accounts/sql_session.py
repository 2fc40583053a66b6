"""A read-only session on a MySQL/MariaDB server, for the SQL account stores.

:func:`open_session` logs in with PyMySQL (``autocommit=True``, a connect timeout, no
``LOAD DATA LOCAL``), then makes the session read-only twice over:

1. ``SET SESSION TRANSACTION READ ONLY``: every later transaction of the session, including each
   autocommitted statement, refuses writes (``ERROR 1792 Cannot execute statement in a READ ONLY
   transaction``; DDL and temporary tables included).
2. ``START TRANSACTION READ ONLY``: every query then runs inside one read-only transaction, which
   also gives InnoDB tables one consistent snapshot for the whole scan (like ``mysqldump
   --single-transaction``). :meth:`ReadOnlySession.close` ends it with ``ROLLBACK``.

The readers only ever send ``SELECT`` statements (``information_schema`` included); a user-given
query must pass :func:`authaudit.accounts.sql_select.check_select`. Servers without read-only
transactions (MySQL < 5.6.5, MariaDB < 10.0) are refused rather than read with a writable
session. Results are streamed with an unbuffered server-side cursor (``SSCursor``), one row in
memory at a time, and text arrives as bytes, decoded by the readers (invalid UTF-8 kept as
surrogate escapes, never an exception).

PostgreSQL DSNs are parsed but not read: they need ``psycopg``, which is not a dependency.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
import socket
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pymysql  # type: ignore[import-untyped]  # PyMySQL ships no type hints (no types-PyMySQL)
import pymysql.cursors  # type: ignore[import-untyped]

from authaudit.accounts.dsn import Dsn, resolve_password
from authaudit.errors import SourceError

__all__ = [
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_SOCKETS",
    "ReadOnlySession",
    "Rows",
    "SqlError",
    "open_session",
    "quote_identifier",
    "text_value",
]

DEFAULT_SOCKETS = (
    "/run/mysqld/mysqld.sock",
    "/var/run/mysqld/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
)
"""Where MySQL/MariaDB packages put their socket (Debian, older Debian, Red Hat). Not
``/tmp/mysql.sock``: any local user could plant a fake server there and collect the password."""

DEFAULT_READ_TIMEOUT = 600.0
"""Seconds one read from the server may wait (a stalled server ends the scan, not the run)."""

Row = tuple[object, ...]

_CLIENT_ERRORS = range(2000, 3000)  # libmysqlclient's CR_* codes: the connection itself failed
_ERRNO_RE = re.compile(r"\[Errno -?\d+\] ([^)]*)")


class SqlError(Exception):
    """A statement failed. ``fatal``: the connection is gone and nothing more can be read."""

    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


def quote_identifier(name: str) -> str:
    """``name`` as a MySQL identifier in backquotes (a backquote inside is doubled)."""
    if "\x00" in name:
        raise ValueError("identifier holds a NUL character")
    return "`" + name.replace("`", "``") + "`"


def text_value(value: object) -> str | None:
    """A column value as text: bytes are UTF-8 (bad bytes kept as surrogate escapes); None stays."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "surrogateescape")
    return str(value)


def _error_text(exc: BaseException) -> tuple[int | None, str]:
    args: tuple[object, ...] = exc.args
    if len(args) >= 2 and isinstance(args[0], int):
        return args[0], str(args[1])
    return None, str(exc) or type(exc).__name__


def _sql_error(exc: BaseException, *, fatal: bool | None = None) -> SqlError:
    code, message = _error_text(exc)
    if fatal is None:
        fatal = code is None or code in _CLIENT_ERRORS
    prefix = f"error {code}: " if code is not None else ""
    return SqlError(prefix + message, fatal=fatal)


class Rows:
    """The rows of one executed query, streamed from the server; iterate once.

    ``columns`` holds the result's column names, lower-cased. Leaving the iteration early
    closes the whole session (draining a large unread result would take as long as reading it).
    """

    def __init__(self, session: ReadOnlySession, cursor: Any) -> None:
        self._session = session
        self._cursor = cursor
        self.columns: tuple[str, ...] = tuple(
            (text_value(item[0]) or "").lower() for item in cursor.description or ()
        )

    def __iter__(self) -> Iterator[Row]:
        finished = False
        try:
            while True:
                try:
                    row = self._cursor.fetchone()
                except (pymysql.MySQLError, OSError) as exc:
                    self._session.broken = True
                    raise _sql_error(exc, fatal=True) from exc
                if row is None:
                    finished = True
                    return
                yield tuple(row)
        finally:
            if finished:
                self._cursor.close()
            else:
                self.discard()

    def discard(self) -> None:
        """Give up on the unread rest: drop the connection (the whole session ends)."""
        result = getattr(self._cursor, "_result", None)
        if result is not None:  # else PyMySQL's MySQLResult.__del__ reads the closed socket
            result.unbuffered_active = False
        self._session.abort()


class ReadOnlySession:
    """One logged-in connection to a MySQL/MariaDB server, read-only for its whole life."""

    def __init__(self, connection: Any, dsn: Dsn) -> None:
        self.connection = connection
        """The PyMySQL connection, exposed so that tests can prove that writes through it fail."""
        self.dsn = dsn
        self.broken = False
        """True once the connection failed; the session cannot be used any more."""

    def query(self, sql: str, args: Sequence[object] | None = None) -> Rows:
        """Run one ``SELECT`` and return its rows, unread. Raises :class:`SqlError`."""
        if self.broken:
            raise SqlError("the connection was lost earlier", fatal=True)
        cursor = self.connection.cursor(pymysql.cursors.SSCursor)
        try:
            cursor.execute(sql, tuple(args) if args is not None else None)
        except (pymysql.MySQLError, OSError) as exc:
            error = _sql_error(exc)
            if error.fatal:
                self.broken = True
                self.abort()
            else:
                cursor.close()
            raise error from exc
        return Rows(self, cursor)

    def fetch_all(self, sql: str, args: Sequence[object] | None = None) -> list[Row]:
        """Every row of a small query (metadata), read at once. Raises :class:`SqlError`."""
        return list(self.query(sql, args))

    def table_columns(self) -> dict[str, tuple[str, ...]]:
        """Each table of the session's database the login can see, with its column names.

        Names of columns are lower-cased (MySQL compares them case-blind); table names keep
        their case (they may be case-sensitive on the server).
        """
        tables: dict[str, list[str]] = {}
        rows = self.query(
            "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION"
        )
        for table, column in rows:
            tables.setdefault(text_value(table) or "", []).append(
                (text_value(column) or "").lower()
            )
        return {name: tuple(columns) for name, columns in tables.items()}

    def abort(self) -> None:
        """Drop the connection at once (the server rolls the transaction back)."""
        self.broken = True
        try:
            self.connection.close()
        except (pymysql.MySQLError, OSError):
            pass

    def close(self) -> None:
        """End the read-only transaction (``ROLLBACK``) and log out."""
        if self.broken:
            self.abort()
            return
        try:
            self.connection.rollback()
            self.connection.close()
        except (pymysql.MySQLError, OSError):
            self.abort()
        self.broken = True

    def __enter__(self) -> ReadOnlySession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_session(
    dsn: Dsn,
    *,
    password_env: str | None = None,
    option_file: str | None = None,
    environ: Mapping[str, str] | None = None,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    default_sockets: Sequence[str] = DEFAULT_SOCKETS,
) -> ReadOnlySession:
    """Log in to the server of ``dsn`` and return a read-only session inside a read-only
    transaction. Raises :class:`SourceError` with a one-line reason when that is not possible
    (server unreachable, login refused, unknown database, no read-only support).

    Like the MySQL client library, ``localhost`` without a port means the local Unix socket: the
    first of ``default_sockets`` that exists (TCP to 127.0.0.1:3306 when none does).
    """
    source = dsn.display
    if dsn.unix_socket is None and dsn.host == "localhost" and dsn.port is None:
        found = next((path for path in default_sockets if os.path.exists(path)), None)
        if found is not None:
            dsn = dataclasses.replace(dsn, unix_socket=found)
    if dsn.scheme == "postgresql":
        if importlib.util.find_spec("psycopg") is None:
            raise SourceError(source, "PostgreSQL DSN needs psycopg, which is not installed")
        raise SourceError(source, "PostgreSQL account stores are not supported yet")
    user, password = resolve_password(
        dsn, password_env=password_env, option_file=option_file, environ=environ
    )
    try:
        connection = pymysql.connect(
            user=user,
            password=password or "",
            host=dsn.host,
            port=dsn.effective_port,
            unix_socket=dsn.unix_socket,
            database=dsn.database,
            connect_timeout=dsn.connect_timeout,
            read_timeout=read_timeout,
            write_timeout=read_timeout,
            autocommit=True,
            charset="utf8mb4",
            use_unicode=False,
            local_infile=False,
            program_name="authaudit",
            defer_connect=True,
        )
    except ValueError as exc:  # PyMySQL refusing an argument (timeout out of range ...)
        raise SourceError(source, f"cannot connect: {exc}") from exc
    sock = _connect_socket(dsn, source)
    try:
        connection.connect(sock)
    except (pymysql.MySQLError, OSError) as exc:
        sock.close()
        raise SourceError(source, _login_failure(exc, dsn, user)) from exc
    except BaseException:
        sock.close()
        raise
    session = ReadOnlySession(connection, dsn)
    try:
        cursor = connection.cursor()
        try:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("START TRANSACTION READ ONLY")
        finally:
            cursor.close()
    except (pymysql.MySQLError, OSError) as exc:
        session.abort()
        _, message = _error_text(exc)
        raise SourceError(
            source,
            "server cannot make the session read-only (needs MySQL >= 5.6.5 or MariaDB >= 10.0): "
            + message,
        ) from exc
    return session


def _connect_socket(dsn: Dsn, source: str) -> socket.socket:
    """A connected socket to the server (opened here: PyMySQL leaks a failed Unix socket)."""
    try:
        if dsn.unix_socket is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(dsn.connect_timeout)
                sock.connect(dsn.unix_socket)
            except BaseException:
                sock.close()
                raise
            return sock
        sock = socket.create_connection((dsn.host, dsn.effective_port), dsn.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock
    except TimeoutError as exc:
        raise SourceError(
            source, f"no answer from {dsn.endpoint} within {dsn.connect_timeout:g} s"
        ) from exc
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise SourceError(source, f"cannot connect to {dsn.endpoint}: {reason}") from exc


def _login_failure(exc: BaseException, dsn: Dsn, user: str | None) -> str:
    code, message = _error_text(exc)
    who = f"user {user!r}" if user is not None else "the default user"
    if code == 1045:
        return f"login refused for {who} at {dsn.endpoint} (wrong password, or no such user)"
    if code == 1044:
        return f"{who} may not use database {dsn.database!r}"
    if code == 1049:
        return f"no database {dsn.database!r} at {dsn.endpoint}"
    if code in (2002, 2003):
        found = _ERRNO_RE.search(message)
        reason = found.group(1) if found else message
        return f"cannot connect to {dsn.endpoint}: {reason}"
    if code == 2013 or "timed out" in message:
        return f"no answer from {dsn.endpoint} within {dsn.connect_timeout:g} s"
    return f"cannot log in at {dsn.endpoint}: {message}"
