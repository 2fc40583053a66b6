"""Database addresses (DSNs) for the SQL account stores, and where their passwords come from.

Accepted forms::

    mysql://user@host:port/database
    mysql://user@localhost/database?unix_socket=/run/mysqld/mysqld.sock
    mariadb://...                      same as mysql://
    postgresql://user@host:port/database   (postgres:// too; parsed, see sql_session)

``user`` and ``database`` may be percent-encoded; an IPv6 host goes in brackets. The only query
parameters are ``unix_socket`` (alias ``socket``) and ``connect_timeout`` (seconds). A DSN holding
a password (``user:secret@host``, ``?password=``) is refused: a password on the command line is
visible to every local user in ``ps`` and lands in shell history. The password comes instead from
an environment variable named by the caller (``--password-env VAR``) or from a MySQL option file
(``~/.my.cnf`` style, the ``password`` key of its ``[client]`` group). No error message ever
repeats the text of a refused DSN, since it may hold the password.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

from authaudit.errors import SourceError, UsageError

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "Dsn",
    "DsnError",
    "OptionFile",
    "parse_dsn",
    "read_option_file",
    "resolve_password",
]

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the server to accept the connection and the login."""

_SCHEMES = {
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgresql",
    "postgres": "postgresql",
}
_DEFAULT_PORTS = {"mysql": 3306, "postgresql": 5432}
_MAX_DSN = 4096
_HOST_RE = re.compile(r"[A-Za-z0-9._-]+")
_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_TIMEOUT = 3600.0
_MAX_OPTION_FILE = 1024 * 1024


class DsnError(UsageError, ValueError):
    """A DSN that cannot be used: malformed, unsupported, or holding a password."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dsn:
    """Where an SQL account store is and who to log in as; never holds a password."""

    scheme: str
    """Database kind: ``mysql`` (MySQL and MariaDB) or ``postgresql``."""
    database: str
    user: str | None = None
    """Login name; None lets the option file (or the driver's default, the OS user) decide."""
    host: str = "localhost"
    port: int | None = None
    """TCP port; None for the default (3306 / 5432)."""
    unix_socket: str | None = None
    """Path of the server's Unix socket; when set, host and port are not used."""
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT

    @property
    def display(self) -> str:
        """The DSN as text for reports (:attr:`Account.source`): canonical, and without secrets."""
        user = quote(self.user, safe="") + "@" if self.user is not None else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port is not None else ""
        text = f"{self.scheme}://{user}{host}{port}/{quote(self.database, safe='')}"
        params = []
        if self.unix_socket is not None:
            params.append("unix_socket=" + quote(self.unix_socket, safe="/"))
        if self.connect_timeout != DEFAULT_CONNECT_TIMEOUT:
            params.append(f"connect_timeout={self.connect_timeout:g}")
        return text + ("?" + "&".join(params) if params else "")

    @property
    def effective_port(self) -> int:
        """The TCP port a connection uses."""
        return self.port if self.port is not None else _DEFAULT_PORTS[self.scheme]

    @property
    def endpoint(self) -> str:
        """Where the server is, for error messages: ``socket /path`` or ``host:port``."""
        if self.unix_socket is not None:
            return f"socket {self.unix_socket}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.effective_port}"

    def __str__(self) -> str:
        return self.display


def parse_dsn(text: str) -> Dsn:
    """Parse ``text`` into a :class:`Dsn`; raise :class:`DsnError` for anything unusable.

    Every input gives a :class:`Dsn` or a :class:`DsnError` (a ``ValueError``), never another
    exception.
    """
    if len(text) > _MAX_DSN:
        raise DsnError(f"DSN is too long ({len(text)} characters)")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in text):
        raise DsnError("DSN holds spaces or control characters (percent-encode them)")
    scheme_text, sep, rest = text.partition("://")
    if not sep:
        raise DsnError("not a DSN: expected scheme://user@host/database, e.g. mysql://...")
    scheme = _SCHEMES.get(scheme_text.lower())
    if scheme is None:
        known = ", ".join(sorted(_SCHEMES))
        raise DsnError(f"unsupported DSN scheme {scheme_text[:20]!r} (known: {known})")
    if "#" in rest:
        raise DsnError("DSN has a '#' fragment (percent-encode '#' as %23)")
    rest, _, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        raise DsnError(
            "DSN contains a password; give it with --password-env VAR or an option file, "
            "never on the command line"
        )
    user = _decode(userinfo, "user name") if at else None
    if at and not user:
        raise DsnError("DSN has an empty user name before '@'")
    host, port = _parse_hostport(hostport)
    if not slash or not path:
        raise DsnError("DSN names no database (…/database)")
    database = _decode(path, "database name")
    if "/" in database or not database.strip():
        raise DsnError("DSN database name is not a single name")
    socket, timeout = _parse_query(query)
    if socket is not None and scheme != "mysql":
        raise DsnError("unix_socket= is only supported for mysql:// DSNs")
    if socket is None and not host:
        raise DsnError("DSN names no host (and no unix_socket=)")
    return Dsn(
        scheme=scheme,
        database=database,
        user=user,
        host=host or "localhost",
        port=port,
        unix_socket=socket,
        connect_timeout=timeout,
    )


def _decode(text: str, what: str) -> str:
    try:
        value = unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise DsnError(f"DSN {what} is not valid percent-encoded UTF-8") from exc
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise DsnError(f"DSN {what} holds control characters")
    return value


def _parse_hostport(text: str) -> tuple[str, int | None]:
    port_text: str | None = None
    if text.startswith("["):
        host, bracket, after = text[1:].partition("]")
        if not bracket or not host or not all(c in "0123456789abcdefABCDEF:." for c in host):
            raise DsnError("DSN has a malformed [IPv6] host")
        if after:
            if not after.startswith(":"):
                raise DsnError("DSN has text after the [IPv6] host")
            port_text = after[1:]
    else:
        host, colon, port_text_found = text.partition(":")
        port_text = port_text_found if colon else None
        if host and not _HOST_RE.fullmatch(host):
            raise DsnError("DSN host name holds characters a host name cannot have")
    if port_text is None:
        return host, None
    if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
        raise DsnError("DSN port is not a number")
    port = int(port_text)
    if not 0 < port < 65536:
        raise DsnError("DSN port is out of range (1-65535)")
    return host, port


def _parse_query(query: str) -> tuple[str | None, float]:
    socket: str | None = None
    timeout = DEFAULT_CONNECT_TIMEOUT
    seen: set[str] = set()
    for item in query.split("&") if query else ():
        key, eq, raw = item.partition("=")
        key = key.lower()
        if key in ("password", "passwd", "pass", "pwd"):
            raise DsnError(
                "DSN contains a password; give it with --password-env VAR or an option file, "
                "never on the command line"
            )
        if not eq:
            raise DsnError("DSN parameter without '=' (expected name=value)")
        canonical = "unix_socket" if key == "socket" else key
        if canonical in seen:
            raise DsnError(f"DSN parameter {canonical} given twice")
        seen.add(canonical)
        value = _decode(raw, f"parameter {canonical}")
        if canonical == "unix_socket":
            if not value.startswith("/"):
                raise DsnError("DSN unix_socket must be an absolute path")
            socket = value
        elif canonical == "connect_timeout":
            timeout = _parse_timeout(value)
        else:
            raise DsnError(
                f"unknown DSN parameter {key[:30]!r} (known: unix_socket, connect_timeout)"
            )
    return socket, timeout


def _parse_timeout(value: str) -> float:
    try:
        timeout = float(value) if value.isascii() else float("nan")
    except ValueError:
        timeout = float("nan")
    if not 0 < timeout <= _MAX_TIMEOUT:  # also false for NaN
        raise DsnError(f"DSN connect_timeout must be a number of seconds in (0, {_MAX_TIMEOUT:g}]")
    return timeout


@dataclass(frozen=True, slots=True)
class OptionFile:
    """What a MySQL option file's ``[client]`` group says (the password is kept out of repr)."""

    path: str
    user: str | None
    password: str | None = None

    def __repr__(self) -> str:
        return f"OptionFile(path={self.path!r}, user={self.user!r}, password=<hidden>)"


def read_option_file(path: str | os.PathLike[str], *, source: str) -> OptionFile:
    """Read ``user`` and ``password`` from the ``[client]`` group of a MySQL option file.

    Quotes around values are removed as MySQL does; ``!include`` lines and other groups are
    ignored. Raises :class:`SourceError` (naming ``source``) when the file cannot be read or parsed.
    """
    expanded = Path(path).expanduser()
    try:
        with expanded.open("rb") as stream:
            data = stream.read(_MAX_OPTION_FILE + 1)
    except OSError as exc:
        raise SourceError(source, f"option file {expanded}: {exc.strerror or exc}") from exc
    if len(data) > _MAX_OPTION_FILE:
        raise SourceError(source, f"option file {expanded}: larger than 1 MiB")
    parser = _OptionParser(allow_no_value=True, strict=False, interpolation=None)
    try:
        parser.read_string(data.decode("utf-8", "surrogateescape"), source=str(expanded))
    except configparser.Error as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise SourceError(source, f"option file {expanded}: not an option file ({first})") from exc
    if not parser.has_section("client"):
        return OptionFile(str(expanded), None, None)
    return OptionFile(
        str(expanded),
        _unquote(parser.get("client", "user", fallback=None)),
        _unquote(parser.get("client", "password", fallback=None)),
    )


class _OptionParser(configparser.RawConfigParser):
    """configparser reading option names as MySQL does (case-blind, ``_`` same as ``-``)."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr.lower().replace("_", "-")


def _unquote(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def resolve_password(
    dsn: Dsn,
    *,
    password_env: str | None = None,
    option_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None]:
    """The (user, password) to log in with: the DSN's user, the password from where it was put.

    ``password_env`` names an environment variable holding the password (an empty value is an
    empty password; an unset variable is an error). Otherwise ``option_file`` supplies the
    password, and the user when the DSN names none. With neither, there is no password (socket
    authentication). Raises :class:`SourceError` naming :attr:`Dsn.display`.
    """
    source = dsn.display
    env = os.environ if environ is None else environ
    user = dsn.user
    if password_env is not None:
        if not _ENV_NAME_RE.fullmatch(password_env):
            raise SourceError(
                source, f"--password-env {password_env[:40]!r} is not a variable name"
            )
        if password_env not in env:
            raise SourceError(source, f"environment variable {password_env} is not set")
        return user, env[password_env]
    if option_file is not None:
        options = read_option_file(option_file, source=source)
        if options.password is None:
            raise SourceError(
                source, f"option file {options.path} has no password= in its [client] group"
            )
        return (user if user is not None else options.user), options.password
    return user, None
