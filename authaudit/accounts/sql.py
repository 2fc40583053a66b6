"""SQL account stores in general, and ``--sql DSN --query SELECT``: a Dovecot-style passdb query.

:class:`SqlSource` is what every SQL reader shares: the DSN, where its password comes from, and a
read-only session (:mod:`authaudit.accounts.sql_session`). :class:`SqlQuerySource` runs one
``SELECT`` listing every account, like Dovecot's ``iterate_query`` joined with the password of
``password_query``, and reads these result columns by name (case-blind; others are ignored):

==================================================  ==========================================
column (first one present wins)                     becomes
==================================================  ==========================================
``user``, ``username``, ``userid``, ``email``,      the login; ``local@domain`` is split
``login`` (required)
``domain``                                          domain of a login given without ``@``
``password`` or ``password_noscheme`` (required)    the stored hash (``password_noscheme``:
                                                    flag ``password-noscheme``, Dovecot reads no
                                                    ``{SCHEME}`` prefix from it)
``nopassword``                                      flag ``nopassword`` when true: Dovecot
                                                    accepts any password
``name``, ``gecos``, ``realname``, ``full_name``    :attr:`Account.gecos`
``home``, ``userdb_home``, ``maildir``              :attr:`Account.home`
``quota``, ``userdb_quota_rule``, ``quota_rule``    :attr:`Account.quota`
``active``, ``enabled``                             flag ``inactive`` when false
``cleartext``, ``clear_password``,                  :attr:`Account.cleartext`
``password_clear``
``last_login``, ``last_access``, ``last_auth_at``   last login time (unix time or DATETIME, UTC)
``last_ip``, ``last_login_ip``, ``remote_ip``       last login address
``service``, ``last_login_service``                 last login service
``nologin``, ``noauthenticate``, ``allow_nets``     flag of that name when set
==================================================  ==========================================

A row without a login, or with a NULL password and no ``nopassword``, becomes a
:class:`~authaudit.model.Skipped` record (Dovecot refuses such a login) and reading goes on.
A password without a ``{SCHEME}`` prefix uses the passdb default scheme, kept in
:attr:`SqlSource.default_scheme`: ``MD5`` for Dovecot 2.3 SQL passdbs (``default_pass_scheme``;
``MD5`` is MD5-crypt or hex MD5), ``CRYPT`` in 2.4.
"""

from __future__ import annotations

import decimal
import ipaddress
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from authaudit.accounts.dsn import Dsn, parse_dsn
from authaudit.accounts.interface import AccountSource, display_text
from authaudit.accounts.sql_select import check_select
from authaudit.accounts.sql_session import (
    ReadOnlySession,
    SqlError,
    open_session,
    text_value,
)
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped
from authaudit.redact import Secret, SecretKind

__all__ = [
    "DOVECOT_SQL_DEFAULT_SCHEME",
    "ColumnMap",
    "SqlQuerySource",
    "SqlSource",
    "flag_value",
    "login_ip",
    "query_row_account",
    "unix_time",
]

DOVECOT_SQL_DEFAULT_SCHEME = "MD5"
"""Dovecot 2.3's ``default_pass_scheme`` for SQL passdbs (``db-sql.c``); 2.4 uses CRYPT."""

_USER_COLUMNS = ("user", "username", "userid", "email", "login")
_PASSWORD_COLUMNS = ("password", "password_noscheme")
_GECOS_COLUMNS = ("name", "gecos", "realname", "full_name")
_HOME_COLUMNS = ("home", "userdb_home", "maildir")
_QUOTA_COLUMNS = ("quota", "userdb_quota_rule", "quota_rule")
_ACTIVE_COLUMNS = ("active", "enabled")
_CLEAR_COLUMNS = ("cleartext", "clear_password", "password_clear")
_TIME_COLUMNS = ("last_login", "last_access", "last_auth_at")
_IP_COLUMNS = ("last_ip", "last_login_ip", "remote_ip")
_SERVICE_COLUMNS = ("service", "last_login_service")
_FLAG_COLUMNS = ("nologin", "noauthenticate", "allow_nets")
_TRUE = frozenset({"1", "y", "yes", "t", "true", "on"})
_FALSE = frozenset({"0", "n", "no", "f", "false", "off", ""})
_MAX_UNIX_TIME = 253402300799  # 9999-12-31T23:59:59Z


def flag_value(value: object) -> bool | None:
    """A database truth value (``1``, ``'Y'``, ``'true'``, a BIT(1) ...) as a bool, else None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | decimal.Decimal):
        return value != 0
    if isinstance(value, bytes) and len(value) == 1 and value[0] in (0, 1):  # BIT(1)
        return value == b"\x01"
    text = (text_value(value) or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def unix_time(value: object) -> datetime | None:
    """A login time from the database: unix seconds, a DATETIME (taken as UTC) or their text.

    0, NULL and MySQL's zero date mean "no time" (None); raises ``ValueError`` for anything else
    that is not a time between 1970 and 9999.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("a truth value is not a time")
    if isinstance(value, bytes | str):
        text = (text_value(value) or "").strip()
        if text in ("", "0", "0000-00-00 00:00:00"):
            return None
        if not text.isdigit():
            return unix_time(datetime.fromisoformat(text))
        value = int(text)
    if isinstance(value, int | decimal.Decimal | float):
        seconds = int(value)
        if seconds == 0:
            return None
        if not 0 < seconds <= _MAX_UNIX_TIME:
            raise ValueError(f"{seconds} is not a unix time")
        return datetime.fromtimestamp(seconds, tz=UTC)
    raise ValueError(f"a {type(value).__name__} is not a time")


def login_ip(value: object) -> tuple[str | None, bool]:
    """The last-login address as text and whether it is an odd one (not an IP address)."""
    text = (text_value(value) or "").strip()
    if not text:
        return None, False
    try:
        return str(ipaddress.ip_address(text)), False
    except ValueError:
        return display_text(text), True


class ColumnMap:
    """Positions of the known result columns of one query, by role."""

    def __init__(self, columns: tuple[str, ...]) -> None:
        self.columns = columns
        self._index = {name: pos for pos, name in reversed(list(enumerate(columns)))}

    def find(self, names: tuple[str, ...]) -> int | None:
        """Position of the first of ``names`` present in the result, or None."""
        return next((self._index[name] for name in names if name in self._index), None)

    def has(self, name: str) -> bool:
        """True when the result has a column ``name``."""
        return name in self._index


class SqlSource(AccountSource):
    """An account store in a MySQL/MariaDB database, read through a read-only session.

    ``dsn`` is a :class:`Dsn` or its text (parsed here: a bad DSN raises
    :class:`~authaudit.accounts.dsn.DsnError` at once). The password comes from the environment
    variable named ``password_env`` or from ``option_file``, never from the DSN.
    ``default_scheme`` is the scheme of passwords stored without a ``{SCHEME}`` prefix.
    """

    store = "sql"

    def __init__(
        self,
        dsn: Dsn | str,
        *,
        password_env: str | None = None,
        option_file: str | None = None,
        default_scheme: str = DOVECOT_SQL_DEFAULT_SCHEME,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.dsn = dsn if isinstance(dsn, Dsn) else parse_dsn(dsn)
        self.password_env = password_env
        self.option_file = option_file
        self.default_scheme = default_scheme.upper()
        self._environ = environ

    @property
    def name(self) -> str:
        return self.dsn.display

    def open_session(self) -> ReadOnlySession:
        """Log in and return the read-only session :meth:`collect` reads through."""
        return open_session(
            self.dsn,
            password_env=self.password_env,
            option_file=self.option_file,
            environ=self._environ,
        )

    def list_tables(self, session: ReadOnlySession) -> dict[str, tuple[str, ...]]:
        """Tables the login can see with their column names; a store-level error otherwise."""
        try:
            return session.table_columns()
        except SqlError as exc:
            raise SourceError(self.name, f"cannot list tables: {exc}") from exc

    def _skip(self, where: str, reason: str, count: int = 1) -> Skipped:
        return Skipped(source=self.name, where=where, reason=reason, count=count)


class SqlQuerySource(SqlSource):
    """The accounts one ``SELECT`` returns (``--sql DSN --query SQL``), columns as documented above.

    The query is checked at construction (:func:`check_select` raises
    :class:`~authaudit.accounts.sql_select.QueryRejected` for anything but one plain SELECT).
    """

    store = "sql"

    def __init__(
        self,
        dsn: Dsn | str,
        query: str,
        *,
        password_env: str | None = None,
        option_file: str | None = None,
        default_scheme: str = DOVECOT_SQL_DEFAULT_SCHEME,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            dsn,
            password_env=password_env,
            option_file=option_file,
            default_scheme=default_scheme,
            environ=environ,
        )
        self.query = check_select(query)

    def collect(self) -> Iterator[Account | Skipped]:
        session = self.open_session()
        try:
            try:
                rows = session.query(self.query)
            except SqlError as exc:
                raise SourceError(self.name, f"query failed: {exc}") from exc
            columns = ColumnMap(rows.columns)
            if columns.find(_USER_COLUMNS) is None or columns.find(_PASSWORD_COLUMNS) is None:
                rows.discard()
                raise SourceError(
                    self.name,
                    "query must return a login column (user, username ...) and a password column"
                    f" (password or password_noscheme); it returns: {', '.join(rows.columns)}",
                )
            number = 0
            try:
                for number, row in enumerate(rows, 1):
                    yield self.row_record(columns, row, number)
            except SqlError as exc:
                yield self._skip(f"query:row {number + 1}", f"read failed, rest lost: {exc}")
        finally:
            session.close()

    def row_record(
        self, columns: ColumnMap, row: tuple[object, ...], number: int
    ) -> Account | Skipped:
        """The :class:`Account` (or :class:`Skipped`) for result row ``number``."""
        return query_row_account(
            columns, row, source=self.name, store=self.store, where=f"query:row {number}"
        )


def query_row_account(
    columns: ColumnMap,
    row: tuple[object, ...],
    *,
    source: str,
    store: str,
    where: str,
    location_prefix: str = "query",
    location: str | None = None,
    extra_flags: tuple[str, ...] = (),
) -> Account | Skipped:
    """One result row read by column role (see the module doc).

    The location is ``location``, or ``location_prefix:address``; ``where`` locates a row that
    has no login.
    """

    def get(names: tuple[str, ...]) -> object:
        pos = columns.find(names)
        return row[pos] if pos is not None else None

    login = text_value(get(_USER_COLUMNS))
    if not login:
        return Skipped(source=source, where=where, reason="login column is NULL or empty")
    local, at, domain = login.rpartition("@") if "@" in login else (login, "", "")
    if not at:
        domain = (text_value(get(("domain",))) or "").strip()
    local, domain = display_text(local), display_text(domain).lower()
    address = f"{local}@{domain}" if domain else local
    location = location if location is not None else f"{location_prefix}:{address}"
    flags: list[str] = []
    password = text_value(get(_PASSWORD_COLUMNS))
    if columns.find(("password",)) is None:
        flags.append("password-noscheme")
    if flag_value(get(("nopassword",))):
        flags.append("nopassword")
    if password is None and "nopassword" not in flags:
        return Skipped(
            source=source, where=location, reason="password is NULL (the login is refused)"
        )
    if password == "":
        flags.append("empty-password")
    active = columns.find(_ACTIVE_COLUMNS)
    if active is not None and flag_value(row[active]) is False:
        flags.append("inactive")
    flags.extend(name for name in _FLAG_COLUMNS if columns.has(name) and _is_set(get((name,))))
    flags.extend(extra_flags)
    try:
        last_at = unix_time(get(_TIME_COLUMNS))
    except ValueError:
        last_at = None
        flags.append("last-login-time-invalid")
    last_ip, odd_ip = login_ip(get(_IP_COLUMNS))
    if odd_ip:
        flags.append("last-login-not-an-ip")
    clear = text_value(get(_CLEAR_COLUMNS))
    service = text_value(get(_SERVICE_COLUMNS))
    home = text_value(get(_HOME_COLUMNS))
    quota = text_value(get(_QUOTA_COLUMNS))
    return Account(
        source=source,
        store=store,
        location=location,
        address=address,
        username=local,
        domain=domain or None,
        password_hash=Secret(password, SecretKind.HASH) if password else None,
        cleartext=Secret(clear, SecretKind.CLEARTEXT) if clear else None,
        gecos=display_text(text_value(get(_GECOS_COLUMNS)) or ""),
        flags=tuple(flags),
        home=display_text(home) if home else None,
        quota=display_text(quota) if quota else None,
        last_auth_ip=last_ip,
        last_auth_at=last_at,
        last_auth_service=display_text(service) if service else None,
    )


def _is_set(value: object) -> bool:
    truth = flag_value(value)
    return truth if truth is not None else value is not None
