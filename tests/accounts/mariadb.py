"""A private MariaDB server for the SQL account-store tests, with fixture databases loaded.

The server lives in a temporary directory, listens only on a Unix socket there
(``--skip-networking``: no TCP port at all) and is shut down (SIGTERM, then SIGKILL) and removed
when the last test module using it is done. Every step has a time limit. Tests are skipped, with
the reason, only when the server programs are not installed (``apt-get install mariadb-server``;
``scripts/sysdeps.sh`` installs it).

Users: ``root`` (socket, no password: the harness only), ``audit`` (SELECT only, password
:data:`AUDIT_PASSWORD`) and ``writer`` (every privilege on the test databases, password
:data:`WRITER_PASSWORD`), used to prove that the readers' sessions refuse writes by themselves.

Use it in a test module with ``mariadb = server_fixture()``; test functions then take a
``mariadb: MariaDB`` argument. One server serves every module of the run.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql  # type: ignore[import-untyped]
import pytest

__all__ = [
    "AUDIT_PASSWORD",
    "FIXTURES",
    "LASTAUTH_TIME",
    "WRITER_PASSWORD",
    "MariaDB",
    "server_fixture",
]

AUDIT_PASSWORD = "audit-Pw-7f3"
WRITER_PASSWORD = "writer-Pw-91c"
PASSWORD_ENV = "AUTHAUDIT_TEST_DB_PASSWORD"
LASTAUTH_TIME = 1763458200
"""2025-11-18T09:30:00Z: test@example.com's last login, from 82.128.32.42."""

INSTALL_TIMEOUT = 120.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0

_SERVERS = ("mariadbd", "mysqld")
_INSTALLERS = ("mariadb-install-db", "mysql_install_db")
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/libexec")

_VPOPMAIL_COLUMNS = (
    "pw_uid int, pw_gid int, pw_gecos varchar(64), pw_dir varchar(160), pw_shell varchar(20)"
)

FIXTURES: dict[str, str] = {
    # vpopmail 5.6 MySQL, many domains + clear passwords (vmysql.h), lastauth with `user`.
    "vpopmail_many": """
        CREATE TABLE vpopmail (pw_name varchar(64) NOT NULL, pw_domain varchar(96) NOT NULL,
            pw_passwd varchar(128), @COLUMNS@, pw_clear_passwd varchar(128),
            PRIMARY KEY (pw_name, pw_domain));
        INSERT INTO vpopmail VALUES
          ('test', 'example.com', '$1$Qx7.Lm2z$w/fzL9xLB3W5H5QSI6fDT/', 1, 0, 'test',
           '/home/vpopmail/domains/example.com/test', 'NOQUOTA', 'test'),
          ('alice', 'example.com', '$6$Ab3dEf9h$XuzJmfX1DtjxWvFUOjI9HaIip9qPnn38f2XAR99Fo4qZeMla',
           1, 0, 'Alice Liddell', '/home/vpopmail/domains/example.com/alice', 'NOQUOTA', NULL),
          ('carol', 'example.com', 'AbiaWJmXaz/Eg', 1, 2049, 'Carol Zoë',
           '/home/vpopmail/domains/example.com/0/carol', '50000000S,1000C', 'sum:mer'),
          ('dave', 'example.org', '', 1, 4096, 'dave', '/home/vpopmail/domains/example.org/dave',
           'NOQUOTA', ''),
          ('erin', 'example.org', NULL, 1, 0, 'erin', '/home/vpopmail/domains/example.org/erin',
           'NOQUOTA', NULL),
          ('frank', '', 'xxHASHxx', 1, 0, '', '', '', NULL),
          ('gina', 'example.org', '$1$abcdefgh$0123456789abcdefghijkl', 2, -5, NULL, NULL, NULL,
           NULL);
        CREATE TABLE lastauth (user char(32) NOT NULL, domain char(96) NOT NULL,
            remote_ip char(39) NOT NULL, timestamp bigint DEFAULT 0 NOT NULL,
            PRIMARY KEY (user, domain));
        INSERT INTO lastauth VALUES
          ('test', 'example.com', '82.128.32.42', @LASTAUTH_TIME@),
          ('alice', 'example.com', '0.0.0.0', 1700000000),
          ('carol', 'example.com', 'not-an-ip', 1700000001),
          ('dave', 'example.org', '2001:db8::7', 99999999999999),
          ('test', 'example.org', '192.0.2.1', 1600000000);
        CREATE TABLE dir_control (domain char(96) NOT NULL, cur_users int, PRIMARY KEY (domain));
        CREATE TABLE valias (alias char(32) NOT NULL, domain char(96) NOT NULL,
            valias_line text NOT NULL);
    """,
    # vpopmail --disable-many-domains: one table per domain, no pw_clear_passwd.
    "vpopmail_split": """
        CREATE TABLE example_com (pw_name char(32) NOT NULL, pw_passwd char(128),
            @COLUMNS@, PRIMARY KEY (pw_name));
        INSERT INTO example_com VALUES
          ('test', 'test-hash', 1, 0, 'test', '/home/vpopmail/domains/example.com/test',
           'NOQUOTA'),
          ('bob', '$1$Qx7.Lm2z$w/fzL9xLB3W5H5QSI6fDT/', 1, 2048, 'Bob',
           '/home/vpopmail/domains/example.com/bob', 'NOQUOTA');
        CREATE TABLE my_site_net (pw_name char(32) NOT NULL, pw_passwd char(128),
            @COLUMNS@, PRIMARY KEY (pw_name));
        INSERT INTO my_site_net VALUES
          ('xavier', 'x-hash', 1, 0, 'X', '/home/vpopmail/domains/7/my-site.net/xavier',
           'NOQUOTA');
        CREATE TABLE other_org (pw_name char(32), pw_passwd char(128), pw_gid varchar(10),
            pw_dir varchar(160));
        INSERT INTO other_org VALUES
          ('yves', 'y-hash', 'abc', NULL), (NULL, 'orphan-hash', '0', NULL),
          ('zoe', NULL, '0', NULL), ('yves', 'y-hash-2', '0', NULL);
        CREATE TABLE vpopmail (pw_name char(32) NOT NULL, pw_passwd char(128),
            @COLUMNS@, PRIMARY KEY (pw_name));
        INSERT INTO vpopmail VALUES
          ('postmaster', 'pm-hash', 1, 0, 'Postmaster', '/home/vpopmail/users/postmaster',
           'NOQUOTA');
        CREATE TABLE half_table (pw_name char(32), pw_gecos char(48));
        CREATE TABLE lastauth (user char(32) NOT NULL, domain char(96) NOT NULL,
            remote_ip char(39) NOT NULL, timestamp bigint DEFAULT 0 NOT NULL,
            PRIMARY KEY (user, domain));
        INSERT INTO lastauth VALUES
          ('test', 'example.com', '82.128.32.42', @LASTAUTH_TIME@),
          ('xavier', 'my-site.net', '10.1.2.3', 1700000000);
    """,
    # PostfixAdmin 3.x/4.x MySQL layout (public/upgrade.php up to upgrade_1849).
    "postfix": """
        CREATE TABLE domain (domain varchar(255) NOT NULL, description varchar(255) NOT NULL
            DEFAULT '', aliases int(10) NOT NULL DEFAULT 0, mailboxes int(10) NOT NULL
            DEFAULT 0, maxquota bigint(20) NOT NULL DEFAULT 0, quota bigint(20) NOT NULL
            DEFAULT 0, transport varchar(255) NOT NULL DEFAULT '', backupmx tinyint(1) NOT NULL
            DEFAULT 0, created datetime NOT NULL DEFAULT '2000-01-01 00:00:00', modified
            datetime NOT NULL DEFAULT '2000-01-01 00:00:00', active tinyint(1) NOT NULL
            DEFAULT 1, password_expiry int DEFAULT 0, PRIMARY KEY (domain))
            DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci;
        INSERT INTO domain (domain, active, password_expiry) VALUES
          ('example.com', 1, 0), ('example.net', 0, 0), ('expire.org', 1, 90);
        CREATE TABLE mailbox (username varchar(255) NOT NULL, password varchar(255) NOT NULL,
            name varchar(255) CHARACTER SET utf8mb4 NOT NULL DEFAULT '', maildir varchar(255)
            NOT NULL DEFAULT '', quota bigint(20) NOT NULL DEFAULT 0, local_part varchar(255)
            NOT NULL, domain varchar(255) NOT NULL, created datetime NOT NULL
            DEFAULT '2000-01-01 00:00:00', modified datetime NOT NULL
            DEFAULT '2000-01-01 00:00:00', active tinyint(1) NOT NULL DEFAULT 1, phone
            varchar(30) NOT NULL DEFAULT '', email_other varchar(255) NOT NULL DEFAULT '',
            token varchar(255) NOT NULL DEFAULT '', token_validity datetime NOT NULL
            DEFAULT '2000-01-01 00:00:00', password_expiry datetime NOT NULL
            DEFAULT '2000-01-01 00:00:00', totp_secret varchar(255) DEFAULT NULL,
            PRIMARY KEY (username), KEY domain (domain))
            DEFAULT CHARSET=latin1 COLLATE=latin1_general_ci;
        INSERT INTO mailbox (username, password, name, maildir, quota, local_part, domain,
            active, password_expiry, totp_secret, token) VALUES
          ('alice@example.com', '$6$GO4lilsC1gy2Db1w$Yk1Loaupw9v', 'Alice Liddell',
           'example.com/alice/', 0, 'alice', 'example.com', 1, '2000-01-01', NULL, 'tok-a'),
          ('bob@example.com', '{PLAIN}bob', 'Bob', 'example.com/bob/', 1048576, 'bob',
           'example.com', 0, '2000-01-01', '', ''),
          ('carol@example.net', '$1$U7vOUrYU$4thgO4/Je643fDHTq/EZl1', 'Carol Zoë',
           'example.net/carol/', 0, 'carol', 'example.net', 1, '2000-01-01', NULL, ''),
          ('dave@expire.org', 'd41d8cd98f00b204e9800998ecf8427e', '', 'expire.org/dave/', 0,
           'dave', 'expire.org', 1, '2001-02-03 04:05:06', NULL, ''),
          ('erin@example.com', '', 'Erin', 'example.com/erin/', 0, 'erin', 'example.com', 1,
           '2099-01-01', 'JBSWY3DPEHPK3PXP', ''),
          ('fred@expire.org', 'f-hash', 'Fred', 'expire.org/fred/', 0, 'fred', 'expire.org', 1,
           '2099-01-01', NULL, '');
        CREATE TABLE mailbox_app_password (id int AUTO_INCREMENT PRIMARY KEY,
            username varchar(255) DEFAULT NULL, description varchar(255) DEFAULT NULL,
            password_hash varchar(255) DEFAULT NULL);
        INSERT INTO mailbox_app_password (username, description, password_hash) VALUES
          ('alice@example.com', 'phone', '{BLF-CRYPT}$2y$05$abc'),
          ('alice@example.com', 'laptop', NULL);
        CREATE TABLE alias (address varchar(255) NOT NULL, goto text NOT NULL,
            domain varchar(255) NOT NULL, PRIMARY KEY (address));
    """,
}


FIXTURES = {
    name: script.replace("@COLUMNS@", _VPOPMAIL_COLUMNS).replace(
        "@LASTAUTH_TIME@", str(LASTAUTH_TIME)
    )
    for name, script in FIXTURES.items()
}


@dataclass(frozen=True, slots=True)
class MariaDB:
    """A running private server: where its socket is and how to log in to it."""

    directory: Path
    socket: Path
    startup_seconds: float

    def dsn(self, database: str, user: str = "audit") -> str:
        """A DSN for ``database`` through the server's socket, without password."""
        return f"mysql://{user}@localhost/{database}?unix_socket={self.socket}"

    def environ(self, password: str = AUDIT_PASSWORD) -> dict[str, str]:
        """An environment holding ``password`` in :data:`PASSWORD_ENV`."""
        return {PASSWORD_ENV: password}

    def admin(self, database: str | None = None) -> Any:
        """A root connection (autocommit), for setting up and checking the fixtures."""
        return pymysql.connect(
            unix_socket=str(self.socket),
            user="root",
            database=database,
            autocommit=True,
            connect_timeout=10,
            read_timeout=60,
        )

    def create_database(self, name: str, script: str) -> None:
        """(Re)create ``name`` from ``script`` (``;``-separated) and grant it to audit/writer."""
        with contextlib.closing(self.admin()) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cursor.execute(f"USE `{name}`")
            for statement in script.split(";\n"):
                if statement.strip():
                    cursor.execute(statement)
            cursor.execute(f"GRANT SELECT ON `{name}`.* TO 'audit'@'localhost'")
            cursor.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO 'writer'@'localhost'")

    def checksums(self, database: str) -> dict[str, int | None]:
        """``CHECKSUM TABLE`` of every table of ``database``: equal before and after = unchanged."""
        with contextlib.closing(self.admin(database)) as conn, conn.cursor() as cursor:
            cursor.execute("SHOW TABLES")
            tables = [row[0] for row in cursor.fetchall()]
            result: dict[str, int | None] = {}
            for table in tables:
                cursor.execute(f"CHECKSUM TABLE `{table}` EXTENDED")
                result[table] = cursor.fetchone()[1]
            return result


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name) or next(
            (f"{d}/{name}" for d in _SBIN if os.access(f"{d}/{name}", os.X_OK)), None
        )
        if found:
            return found
    return None


def _user_args() -> list[str]:
    """``--user=`` for the server: mariadbd refuses to run as root unless told to."""
    return [f"--user={pwd.getpwuid(os.geteuid()).pw_name}"] if os.geteuid() == 0 else []


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_server() -> tuple[MariaDB, subprocess.Popen[bytes]]:
    """Install a data directory, start the server on a private socket, load :data:`FIXTURES`."""
    server_bin, installer = _find(_SERVERS), _find(_INSTALLERS)
    if server_bin is None or installer is None:
        pytest.skip(
            "MariaDB server programs not installed (apt-get install mariadb-server; "
            "scripts/sysdeps.sh installs it)"
        )
    began = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="aa-mariadb-"))
    data, socket, log = directory / "data", directory / "sock", directory / "server.log"
    try:
        subprocess.run(
            [installer, "--no-defaults", f"--datadir={data}",
             "--auth-root-authentication-method=normal", "--skip-test-db", *_user_args()],
            check=True, capture_output=True, timeout=INSTALL_TIMEOUT,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(directory, ignore_errors=True)
        output = getattr(exc, "stderr", b"") or b""
        pytest.fail(f"{installer} failed: {exc}\n{output.decode(errors='replace')[-2000:]}")
    command = [
        server_bin, "--no-defaults", f"--datadir={data}", f"--socket={socket}",
        "--skip-networking", f"--pid-file={directory / 'server.pid'}", f"--log-error={log}",
        f"--tmpdir={directory}", "--innodb-buffer-pool-size=32M", "--skip-name-resolve",
        *_user_args(),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        server = MariaDB(directory, socket, 0.0)
        _wait_ready(server, process, log)
        _set_up(server)
    except BaseException:
        _stop(process, directory)
        raise
    return MariaDB(directory, socket, time.monotonic() - began), process


def _wait_ready(server: MariaDB, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mariadbd exited with {process.returncode}:\n{_log_tail(log)}")
        if server.socket.exists():
            try:
                server.admin().close()
                return
            except pymysql.MySQLError:
                pass
        time.sleep(0.05)
    pytest.fail(f"mariadbd not ready after {START_TIMEOUT:g} s:\n{_log_tail(log)}")


def _set_up(server: MariaDB) -> None:
    with contextlib.closing(server.admin()) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE USER 'audit'@'localhost' IDENTIFIED BY %s", (AUDIT_PASSWORD,))
        cursor.execute("CREATE USER 'writer'@'localhost' IDENTIFIED BY %s", (WRITER_PASSWORD,))
    for name, script in FIXTURES.items():
        server.create_database(name, script)


def _stop(process: subprocess.Popen[bytes], directory: Path) -> None:
    """SIGTERM (a clean shutdown for mariadbd), SIGKILL after the limit; then remove the files."""
    try:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


_running: list[tuple[MariaDB, subprocess.Popen[bytes]]] = []
_users = [0]


def _acquire() -> MariaDB:
    if not _running:
        _running.append(start_server())
    _users[0] += 1
    return _running[0][0]


def _release() -> None:
    _users[0] -= 1
    if _users[0] == 0 and _running:
        server, process = _running.pop()
        _stop(process, server.directory)


def server_fixture() -> Callable[[], Iterator[MariaDB]]:
    """A session-scoped ``mariadb`` fixture for one test module; all modules share one server."""

    @pytest.fixture(scope="session")
    def mariadb() -> Iterator[MariaDB]:
        server = _acquire()
        try:
            yield server
        finally:
            _release()

    return mariadb
