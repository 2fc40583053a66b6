"""PostfixAdmin's ``mailbox`` table (Postfix + Dovecot SQL), read as an account store.

PostfixAdmin's MySQL layout (``public/upgrade.php``): ``mailbox(username PK, password, name,
maildir, quota, local_part, domain, created, modified, active, phone, email_other, token,
token_validity, password_expiry, totp_secret)``; ``username`` is the full address. Columns are
detected, not assumed: only ``username`` and ``password`` are required. The ``domain`` table,
when present, says whether the domain is active and whether password expiry applies to it
(``domain.password_expiry`` days > 0). Since PostfixAdmin 3.4, ``mailbox_app_password(id,
username, description, password_hash)`` holds extra per-application passwords; each is an account
of its own with the flag ``app-password``.

Flags: ``inactive`` (``mailbox.active`` false: the stock Dovecot query refuses the login),
``domain-inactive``, ``password-expired`` (``password_expiry`` is past and the domain enforces
expiry), ``totp`` (the web login has a second factor; mail logins do not use it),
``empty-password``. ``token``, ``totp_secret`` and the contact columns are never read.

Hashes follow ``$CONF['encrypt']``: ``php_crypt`` (``$6$``/``$1$``... bare crypt strings, the
default), ``md5crypt``, ``cleartext``, ``dovecot:SCHEME`` (with a ``{SCHEME}`` prefix) ...;
bare values take the Dovecot SQL default scheme, :attr:`PostfixAdminSource.default_scheme`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from authaudit.accounts.dsn import Dsn
from authaudit.accounts.sql import (
    DOVECOT_SQL_DEFAULT_SCHEME,
    ColumnMap,
    SqlSource,
    flag_value,
    query_row_account,
)
from authaudit.accounts.sql_session import ReadOnlySession, SqlError, quote_identifier
from authaudit.errors import SourceError
from authaudit.model import Account, Skipped

__all__ = ["PostfixAdminSource"]

# SQL text is built only from names information_schema reported, quoted by quote_identifier()
# (hence the S608 waivers); values travel as query parameters.
_MAILBOX_ROLES = (  # PostfixAdmin column, role name understood by query_row_account
    ("username", "username"),
    ("password", "password"),
    ("name", "name"),
    ("domain", "domain"),
    ("maildir", "maildir"),
    ("quota", "quota"),
    ("active", "active"),
)


def _find_table(tables: Mapping[str, tuple[str, ...]], name: str) -> str | None:
    if name in tables:
        return name
    return next((table for table in tables if table.lower() == name.lower()), None)


class PostfixAdminSource(SqlSource):
    """The mailboxes of a PostfixAdmin database (``--postfixadmin DSN``).

    ``prefix`` is PostfixAdmin's ``$CONF['database_prefix']`` (tables ``<prefix>mailbox`` ...).
    """

    store = "postfixadmin"

    def __init__(
        self,
        dsn: Dsn | str,
        *,
        prefix: str = "",
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
        self.prefix = prefix

    def collect(self) -> Iterator[Account | Skipped]:
        session = self.open_session()
        try:
            tables = self.list_tables(session)
            mailbox = _find_table(tables, self.prefix + "mailbox")
            if mailbox is None:
                raise SourceError(
                    self.name, f"no table {self.prefix}mailbox in database {self.dsn.database}"
                )
            missing = [col for col in ("username", "password") if col not in tables[mailbox]]
            if missing:
                raise SourceError(self.name, f"table {mailbox} has no column {', '.join(missing)}")
            domain = _find_table(tables, self.prefix + "domain")
            yield from self._mailboxes(session, mailbox, tables[mailbox], domain, tables)
            apps = _find_table(tables, self.prefix + "mailbox_app_password") or _find_table(
                tables, "mailbox_app_password"
            )
            if apps is not None and not session.broken:
                yield from self._app_passwords(session, apps, tables[apps])
        finally:
            session.close()

    def _mailboxes(
        self,
        session: ReadOnlySession,
        table: str,
        columns: tuple[str, ...],
        domain_table: str | None,
        tables: Mapping[str, tuple[str, ...]],
    ) -> Iterator[Account | Skipped]:
        select = [
            f"m.{quote_identifier(col)} AS {role}" for col, role in _MAILBOX_ROLES if col in columns
        ]
        join = ""
        domain_columns = tables.get(domain_table, ()) if domain_table is not None else ()
        if domain_table is not None and "domain" in columns and "domain" in domain_columns:
            join = f" LEFT JOIN {quote_identifier(domain_table)} d ON d.`domain` = m.`domain`"
            if "active" in domain_columns:
                select.append("d.`active` AS pa_domain_active")
            if "password_expiry" in domain_columns and "password_expiry" in columns:
                select.append(
                    "(d.`password_expiry` > 0 AND m.`password_expiry` < NOW()) AS pa_expired"
                )
        if "totp_secret" in columns:
            select.append("(m.`totp_secret` IS NOT NULL AND m.`totp_secret` <> '') AS pa_totp")
        sql = (
            f"SELECT {', '.join(select)} FROM {quote_identifier(table)} m{join}"  # noqa: S608
            " ORDER BY m.`username`"
        )
        try:
            rows = session.query(sql)
        except SqlError as exc:
            yield self._skip(table, f"cannot read: {exc}")
            return
        roles = ColumnMap(rows.columns)
        number = 0
        try:
            for number, row in enumerate(rows, 1):
                flags = [
                    flag
                    for column, flag, when in (
                        ("pa_domain_active", "domain-inactive", False),
                        ("pa_expired", "password-expired", True),
                        ("pa_totp", "totp", True),
                    )
                    if (pos := roles.find((column,))) is not None and flag_value(row[pos]) is when
                ]
                yield query_row_account(
                    roles,
                    row,
                    source=self.name,
                    store=self.store,
                    where=f"{table}:row {number}",
                    location_prefix=table,
                    extra_flags=tuple(flags),
                )
        except SqlError as exc:
            yield self._skip(f"{table}:row {number + 1}", f"read failed, rest lost: {exc}")

    def _app_passwords(
        self, session: ReadOnlySession, table: str, columns: tuple[str, ...]
    ) -> Iterator[Account | Skipped]:
        if not {"username", "password_hash"} <= set(columns):
            yield self._skip(table, "no username or password_hash column; app passwords not read")
            return
        key = "`id`" if "id" in columns else "NULL"
        label = "`description`" if "description" in columns else "NULL"
        sql = (
            f"SELECT `username` AS username, `password_hash` AS password, {label} AS name,"  # noqa: S608
            f" {key} AS pa_id FROM {quote_identifier(table)} ORDER BY `username`, {key}"
        )
        try:
            rows = session.query(sql)
        except SqlError as exc:
            yield self._skip(table, f"cannot read: {exc}")
            return
        roles = ColumnMap(rows.columns)
        number = 0
        try:
            for number, row in enumerate(rows, 1):
                ident = row[-1] if row[-1] is not None else f"row {number}"
                where = f"{table}:{ident}"
                yield query_row_account(
                    roles,
                    row,
                    source=self.name,
                    store=self.store,
                    where=where,
                    location=where,
                    extra_flags=("app-password",),
                )
        except SqlError as exc:
            yield self._skip(f"{table}:row {number + 1}", f"read failed, rest lost: {exc}")
