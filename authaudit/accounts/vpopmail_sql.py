"""vpopmail's MySQL/MariaDB backend: the user tables and ``lastauth``, read without writing.

Layouts (``vmysql.h``), told apart by the columns ``information_schema`` reports:

* many domains (vpopmail's default, ``--enable-many-domains``): one table, ``vpopmail``, whose
  ``pw_domain`` column holds each user's domain;
* one table per domain (``--disable-many-domains``): the table is named after the domain with
  ``.`` and ``-`` turned into ``_`` (``example_com``) and has no ``pw_domain``; a table
  ``vpopmail`` without ``pw_domain`` holds the users of the default domain (no domain).

A user table is any table with the columns ``pw_name`` and ``pw_passwd`` (required); ``pw_uid``,
``pw_gid`` (flag bits), ``pw_gecos``, ``pw_dir``, ``pw_shell`` (quota) and ``pw_clear_passwd``
(only with ``--enable-clear-passwd``) are read when present. A table with some ``pw_*`` columns
but not the required ones is skipped with a record naming the missing columns; when no table is
usable, :class:`~authaudit.errors.SourceError` names them.

Table name → domain is ambiguous: ``my_site_com`` may be ``my-site.com``, ``my.site.com`` or
``my_site.com``. The domain is taken from the data: the directory component of ``pw_dir``
(``.../domains/my-site.com/alice``) or the ``lastauth.domain`` whose munged form is the table
name, the most frequent one winning. When neither exists, ``_`` is read as ``.`` and the accounts
carry the flag ``domain-guessed``.

``lastauth(user, domain, remote_ip, timestamp)`` (PostgreSQL builds name the user column
``userid``; both are accepted, and a ``service`` column is read if there is one) is joined on user
and domain: ``timestamp`` is unix time, and ``0.0.0.0`` is what ``vadduser`` writes for an
account that never logged in (flag ``never-logged-in``, no time). Rows are streamed in
(domain, user) order; a user seen again (a duplicated row, or two ``lastauth`` rows) is skipped.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import Counter
from collections.abc import Iterator, Mapping

from authaudit.accounts.dsn import Dsn
from authaudit.accounts.sql import SqlSource, unix_time
from authaudit.accounts.sql_session import ReadOnlySession, SqlError, quote_identifier, text_value
from authaudit.accounts.vpasswd import (
    NEVER_LOGGED_IN_IP,
    UNKNOWN_LASTAUTH,
    LastAuth,
    VpasswdEntry,
    vpasswd_account,
)
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped

__all__ = ["VpopmailSqlSource", "munch_domain", "recover_domain"]

# SQL text is built only from names information_schema reported, quoted by quote_identifier()
# (hence the S608 waivers); values travel as query parameters.
DEFAULT_TABLE = "vpopmail"
LASTAUTH_TABLE = "lastauth"
REQUIRED = ("pw_name", "pw_passwd")
OPTIONAL = ("pw_uid", "pw_gid", "pw_gecos", "pw_dir", "pw_shell", "pw_clear_passwd")
_DOMAIN_SAMPLE = 200
_MAX_GID = 0xFFFFFFFF


def munch_domain(domain: str) -> str:
    """The table vpopmail keeps ``domain`` in without many-domains (``vauth_munch_domain()``)."""
    return domain.replace(".", "_").replace("-", "_")


def recover_domain(table: str, dirs: list[str], lastauth_domains: list[str]) -> tuple[str, bool]:
    """The dotted domain of per-domain ``table``, and whether it was guessed from the name.

    Candidates are the ``pw_dir`` components and ``lastauth`` domains whose munged form is the
    table name (compared case-blind); the most frequent wins (ties: alphabetical).
    """
    wanted = table.lower()
    votes: Counter[str] = Counter()
    for path in dirs:
        votes.update(
            {
                part.lower()
                for part in path.split("/")
                if "." in part and munch_domain(part.lower()) == wanted
            }
        )
    votes.update(d.lower() for d in lastauth_domains if munch_domain(d.lower()) == wanted)
    if votes:
        best = max(votes.values())
        return min(d for d, n in votes.items() if n == best), False
    return wanted.replace("_", "."), True


@dataclasses.dataclass(frozen=True, slots=True)
class _UserTable:
    name: str
    columns: tuple[str, ...]
    many_domains: bool
    """The table has ``pw_domain``."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Lastauth:
    name: str
    user: str
    ip: str | None
    time: str | None
    service: str | None


class VpopmailSqlSource(SqlSource):
    """A vpopmail MySQL/MariaDB database (``--vpopmail-sql DSN``), either layout.

    ``table`` restricts the scan to one user table (vpopmail's ``MYSQL_DEFAULT_TABLE`` may have
    been changed at build time). Passwords are crypt(3) strings (vchkpw strips a ``{SCHEME}``
    prefix), so :attr:`default_scheme` is ``CRYPT``.
    """

    store = "vpopmail-sql"

    def __init__(
        self,
        dsn: Dsn | str,
        *,
        table: str | None = None,
        password_env: str | None = None,
        option_file: str | None = None,
        default_scheme: str = "CRYPT",
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            dsn,
            password_env=password_env,
            option_file=option_file,
            default_scheme=default_scheme,
            environ=environ,
        )
        self.table = table

    def collect(self) -> Iterator[Account | Skipped]:
        session = self.open_session()
        try:
            tables = self.list_tables(session)
            users, unusable = self._plan(tables)
            for name, missing in unusable:
                yield self._skip(name, f"vpopmail-like table without column {', '.join(missing)}")
            lastauth, problem = _find_lastauth(tables)
            if problem:
                yield self._skip(LASTAUTH_TABLE, problem)
            for table in users:
                if session.broken:
                    yield self._skip(table.name, "not read: the connection was lost")
                    continue
                yield from self._read_table(session, table, lastauth)
        finally:
            session.close()

    def _plan(
        self, tables: Mapping[str, tuple[str, ...]]
    ) -> tuple[list[_UserTable], list[tuple[str, list[str]]]]:
        usable: list[_UserTable] = []
        unusable: list[tuple[str, list[str]]] = []
        for name, columns in sorted(tables.items()):
            if self.table is not None and name != self.table:
                continue
            if not any(col in columns for col in (*REQUIRED, *OPTIONAL, "pw_domain")):
                continue
            missing = [col for col in REQUIRED if col not in columns]
            if missing:
                unusable.append((name, missing))
            else:
                usable.append(_UserTable(name, columns, "pw_domain" in columns))
        if self.table is not None and not usable:
            reason = (
                f"table {self.table} lacks column {', '.join(unusable[0][1])}"
                if unusable
                else f"no table {self.table} in database {self.dsn.database}"
            )
            raise SourceError(self.name, reason)
        if not usable:
            if unusable:
                default = [u for u in unusable if u[0].lower() == DEFAULT_TABLE]
                name, missing = (default or unusable)[0]
                raise SourceError(self.name, f"table {name} lacks column {', '.join(missing)}")
            raise SourceError(
                self.name,
                f"no vpopmail table (columns pw_name, pw_passwd) in database {self.dsn.database}",
            )
        usable.sort(key=lambda t: (not t.many_domains, t.name != DEFAULT_TABLE, t.name))
        return usable, unusable

    def _domain_of(
        self, session: ReadOnlySession, table: _UserTable, lastauth: _Lastauth | None
    ) -> tuple[str | None, bool]:
        if table.name.lower() == DEFAULT_TABLE:
            return None, False
        dirs: list[str] = []
        found: list[str] = []
        try:
            if "pw_dir" in table.columns:
                rows = session.fetch_all(
                    f"SELECT `pw_dir` FROM {quote_identifier(table.name)}"  # noqa: S608
                    f" WHERE `pw_dir` IS NOT NULL LIMIT {_DOMAIN_SAMPLE}"
                )
                dirs = [text_value(row[0]) or "" for row in rows]
            if lastauth is not None:
                rows = session.fetch_all(
                    f"SELECT DISTINCT `domain` FROM {quote_identifier(lastauth.name)} WHERE"  # noqa: S608
                    " LOWER(REPLACE(REPLACE(`domain`, '.', '_'), '-', '_')) = LOWER(%s)"
                    f" LIMIT {_DOMAIN_SAMPLE}",
                    (table.name,),
                )
                found = [text_value(row[0]) or "" for row in rows]
        except SqlError:
            pass  # the domain is then guessed; reading the table reports the error
        return recover_domain(table.name, dirs, found)

    def _select(
        self, table: _UserTable, lastauth: _Lastauth | None, domain: str | None
    ) -> tuple[str, tuple[object, ...]]:
        fields = [
            f"u.{quote_identifier(col)}" if col in table.columns else "NULL"
            for col in ("pw_name", "pw_domain", "pw_passwd", *OPTIONAL)
        ]
        sql_from = f"{quote_identifier(table.name)} u"
        args: tuple[object, ...] = ()
        if lastauth is not None and (table.many_domains or domain is not None):
            la = quote_identifier(lastauth.name)
            on_domain = "u.`pw_domain`" if table.many_domains else "%s"
            sql_from += (
                f" LEFT JOIN {la} la ON la.{quote_identifier(lastauth.user)} = u.`pw_name`"
                f" AND la.`domain` = {on_domain}"
            )
            args = () if table.many_domains else (domain,)
            fields.append(f"la.{quote_identifier(lastauth.user)} IS NOT NULL")
            fields.extend(
                f"la.{quote_identifier(col)}" if col else "NULL"
                for col in (lastauth.ip, lastauth.time, lastauth.service)
            )
        else:
            fields.extend(("FALSE", "NULL", "NULL", "NULL"))
        order = "u.`pw_domain`, u.`pw_name`" if table.many_domains else "u.`pw_name`"
        return f"SELECT {', '.join(fields)} FROM {sql_from} ORDER BY {order}", args  # noqa: S608

    def _read_table(
        self, session: ReadOnlySession, table: _UserTable, lastauth: _Lastauth | None
    ) -> Iterator[Account | Skipped]:
        domain, guessed = (
            (None, False) if table.many_domains else self._domain_of(session, table, lastauth)
        )
        sql, args = self._select(table, lastauth, domain)
        try:
            rows = session.query(sql, args)
        except SqlError as exc:
            if exc.fatal or lastauth is None:
                yield self._skip(table.name, f"cannot read: {exc}")
                return
            yield self._skip(
                LASTAUTH_TABLE, f"cannot join with {table.name} ({exc}); last logins not read"
            )
            yield from self._read_table(session, table, None)
            return
        extra = ("domain-guessed",) if guessed else ()
        previous: tuple[str | None, str | None] | None = None
        number = 0
        try:
            for row in rows:
                number += 1
                name, row_domain = (
                    text_value(row[0]),
                    text_value(row[1]) if table.many_domains else domain,
                )
                key = (name, row_domain)
                if key == previous and name:
                    yield self._skip(
                        _where(table.name, name, row_domain),
                        "user seen again (duplicate row in the table or in lastauth)",
                    )
                    continue
                previous = key
                yield self._account(table, row, name, row_domain, extra)
        except SqlError as exc:
            yield self._skip(
                f"{table.name}:row {number + 1}", f"read failed, rest of table lost: {exc}"
            )

    def _account(
        self,
        table: _UserTable,
        row: tuple[object, ...],
        name: str | None,
        domain: str | None,
        extra: tuple[str, ...],
    ) -> Account | Skipped:
        where = _where(table.name, name, domain)
        if not name:
            return self._skip(where, "pw_name is NULL or empty")
        if table.many_domains and not domain:
            return self._skip(where, "pw_domain is NULL or empty")
        crypted = text_value(row[2])
        if crypted is None:
            return self._skip(where, "pw_passwd is NULL")
        gid, numeric = _gid(row[4])
        entry = VpasswdEntry(
            name=name,
            crypted=crypted,
            uid=text_value(row[3]) or "",
            gid=gid,
            gid_numeric=numeric,
            gecos=text_value(row[5]) or "",
            dir=text_value(row[6]) or "",
            quota=text_value(row[7]) or "",
            clear=text_value(row[8]),
        )
        flags = list(extra)
        lastauth = UNKNOWN_LASTAUTH
        if row[9]:
            try:
                lastauth = _lastauth(row[10], row[11])
            except ValueError:
                lastauth = _lastauth(row[10], None)
                flags.append("lastauth-time-invalid")
        account = vpasswd_account(
            entry,
            source=self.name,
            store=self.store,
            location=where,
            domain=domain.lower() if domain else None,
            lastauth=lastauth,
            extra_flags=tuple(flags),
        )
        service = text_value(row[12])
        if service and row[9] and not lastauth.never:
            account = dataclasses.replace(account, last_auth_service=service)
        return account


def _where(table: str, name: str | None, domain: str | None) -> str:
    key = name or ("<NULL>" if name is None else "<empty>")
    return f"{table}:{key}@{domain}" if domain else f"{table}:{key}"


def _gid(value: object) -> tuple[int, bool]:
    """``pw_gid`` as flag bits; False when it is not a usable number (then no flags)."""
    if value is None:
        return 0, True
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, True) if 0 <= value <= _MAX_GID else (0, False)
    text = (text_value(value) or "").strip()
    if text.isascii() and text.isdigit() and int(text) <= _MAX_GID:
        return int(text), True
    return 0, False


def _lastauth(ip_value: object, time_value: object) -> LastAuth:
    """What one joined ``lastauth`` row says; raises ``ValueError`` for a bad timestamp."""
    ip = (text_value(ip_value) or "").strip()
    if ip == NEVER_LOGGED_IN_IP:
        return LastAuth(ip=None, at=None, never=True)
    at = unix_time(time_value)
    if not ip:
        return LastAuth(ip=None, at=at)
    try:
        return LastAuth(ip=str(ipaddress.ip_address(ip)), at=at)
    except ValueError:
        return LastAuth(ip=ip, at=at, odd_ip=True)


def _find_lastauth(tables: Mapping[str, tuple[str, ...]]) -> tuple[_Lastauth | None, str | None]:
    """The ``lastauth`` table and its columns, or why it cannot be joined (None, None: absent)."""
    name = next((t for t in sorted(tables) if t.lower() == LASTAUTH_TABLE), None)
    if name is None:
        return None, None
    columns = tables[name]
    user = next((col for col in ("user", "userid") if col in columns), None)
    if user is None or "domain" not in columns:
        return None, "no user/userid or domain column; last logins not read"
    ip = "remote_ip" if "remote_ip" in columns else None
    time = "timestamp" if "timestamp" in columns else None
    if ip is None and time is None:
        return None, "no remote_ip or timestamp column; last logins not read"
    service = "service" if "service" in columns else None
    return _Lastauth(name, user, ip, time, service), None
