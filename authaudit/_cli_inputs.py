"""Command-line inputs shared by several subcommands: account stores, mail-log options, progress.

Split from ``_cli`` to keep modules small; nothing here prints except the progress bar (stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from authaudit.accounts.interface import AccountSource
from authaudit.audit import ProgressHook
from authaudit.audit_report import LogOptions
from authaudit.correlate.thresholds import Thresholds, parse_threshold
from authaudit.errors import UsageError

__all__ = ["log_options", "log_settings", "progress_bar", "store_options", "stores"]


def store_options(p: argparse.ArgumentParser) -> None:
    """The STORE options shared by ``accounts`` and ``report``."""
    g = p.add_argument_group("stores (repeatable)")
    g.add_argument(
        "--vpopmail",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="a vpopmail home (users/assign, domains/), live or a copy; absolute "
        "paths inside it are re-rooted under DIR",
    )
    g.add_argument(
        "--assign",
        type=Path,
        metavar="FILE",
        help="qmail users/assign to use with --vpopmail (default: DIR/users/assign)",
    )
    g.add_argument(
        "--vuserinfo",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a saved `vuserinfo -D domain` or `vuserinfo user@domain` dump",
    )
    g.add_argument(
        "--dovecot-passwd",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a Dovecot passwd-file (user:{SCHEME}hash:uid:gid:gecos:home:shell:extra)",
    )
    g.add_argument(
        "--default-scheme",
        default="CRYPT",
        metavar="SCHEME",
        help="scheme of passwd-file hashes without a {SCHEME} prefix (default: CRYPT)",
    )
    g.add_argument(
        "--vpopmail-sql",
        action="append",
        default=[],
        metavar="DSN",
        help="vpopmail MySQL/MariaDB backend, e.g. mysql://user@localhost/vpopmail"
        "?unix_socket=/run/mysqld/mysqld.sock",
    )
    g.add_argument(
        "--postfixadmin",
        action="append",
        default=[],
        metavar="DSN",
        help="PostfixAdmin database (its mailbox table)",
    )
    g.add_argument("--sql", metavar="DSN", help="any SQL passdb, with --query")
    g.add_argument(
        "--query",
        metavar="SQL",
        help="SELECT returning user/username, password[, domain, name] for --sql",
    )
    g.add_argument(
        "--password-env",
        metavar="VAR",
        help="environment variable holding the database password (never on the "
        "command line); a MySQL option file ~/.my.cnf also works",
    )
    gg = p.add_argument_group("guessing")
    gg.add_argument(
        "--thorough",
        action="store_true",
        help="try every candidate on every account, however slow its hash",
    )


def _sql_stores(args: argparse.Namespace) -> list[AccountSource]:
    """SQL stores; the database driver is imported only when one is named."""
    if not (args.vpopmail_sql or args.postfixadmin or args.sql):
        return []
    if args.sql and not args.query:
        raise UsageError("--sql needs --query")
    from authaudit.accounts.postfixadmin import PostfixAdminSource
    from authaudit.accounts.sql import SqlQuerySource
    from authaudit.accounts.vpopmail_sql import VpopmailSqlSource

    env = args.password_env
    sources: list[AccountSource] = []
    sources += [VpopmailSqlSource(dsn, password_env=env) for dsn in args.vpopmail_sql]
    sources += [PostfixAdminSource(dsn, password_env=env) for dsn in args.postfixadmin]
    if args.sql:
        sources.append(SqlQuerySource(args.sql, args.query, password_env=env))
    return sources


def stores(args: argparse.Namespace) -> list[AccountSource]:
    """The account sources the STORE options name, in command-line option order."""
    from authaudit.accounts.dovecot import DovecotPasswdSource
    from authaudit.accounts.vpopmail import VpopmailSource
    from authaudit.accounts.vuserinfo import VuserinfoSource

    sources: list[AccountSource] = []
    sources += [VpopmailSource(d, assign=args.assign) for d in args.vpopmail]
    sources += [VuserinfoSource(f) for f in args.vuserinfo]
    sources += [DovecotPasswdSource(f, args.default_scheme) for f in args.dovecot_passwd]
    sources += _sql_stores(args)
    return sources


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressHook | None]:
    """A progress bar on stderr (only on a terminal); yields the hook to report to.

    Capture files advance in bytes (MB/s); cracking and guessing in items (accounts/s)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Amount(ProgressColumn):
        """``done/total`` and the rate, in MB for files and in items otherwise."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed or 0.0
            total = task.total or 0
            if task.fields.get("bytes"):
                mb = 1 << 20
                return Text(f"{task.completed / mb:.1f}/{total / mb:.1f} MB {speed / mb:.1f} MB/s")
            return Text(f"{task.completed:.0f}/{total:.0f} {speed:.1f}/s")

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        Amount(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def hook(label: str, done: int, total: int) -> None:
            task = tasks.get(label)
            if task is None:
                is_file = not label.startswith(
                    ("cracking", "vpopmail", "vuserinfo", "dovecot", "postfixadmin", "sql",
                     "mail logs")
                )
                task = tasks[label] = bar.add_task(label, total=total or None, bytes=is_file)
            bar.update(task, completed=done)

        yield hook




def log_options(p: argparse.ArgumentParser) -> None:
    """How mail logs are read and judged (``logs`` and ``report``)."""
    g = p.add_argument_group("mail logs")
    g.add_argument(
        "--year",
        type=int,
        metavar="YYYY",
        help="year of the newest yearless (RFC 3164) stamps in each log file; a file that "
        "crosses Dec to Jan starts the year before (default: from the file name, else its "
        "mtime, else now)",
    )
    g.add_argument(
        "--tz",
        metavar="ZONE",
        help="time zone of log stamps without one, e.g. Europe/Berlin (default: UTC)",
    )
    g.add_argument(
        "--local-domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="a domain hosted here (recipients there are not 'foreign'); the stores' domains and "
        "those of authenticated logins count already",
    )
    g.add_argument(
        "--smtpd-uid",
        action="append",
        type=int,
        default=[],
        metavar="UID",
        help="qmail: uid of qmail-smtpd (qmaild); mail it queued is SMTP, not a local script "
        "(default: the uid that queued the most messages)",
    )
    g.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a detection threshold, e.g. ips_per_day=12 (see docs/checks.md)",
    )
    g.add_argument(
        "--geoip",
        type=Path,
        metavar="FILE.mmdb",
        help="a MaxMind GeoLite2/GeoIP2 Country or City database: count login countries per "
        "account (needs the maxminddb module; without it, /16 networks are counted)",
    )
    g.add_argument(
        "--by-domain",
        action="store_true",
        help="one report per customer domain: with -o DIR, one file per domain in DIR",
    )


def log_settings(args: argparse.Namespace) -> LogOptions:
    """The :class:`LogOptions` the command line asks for; UsageError on a bad value."""
    zone = None
    if args.tz:
        try:
            zone = ZoneInfo(args.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"--tz: unknown time zone {args.tz!r}") from None
    thresholds = Thresholds()
    for setting in args.threshold:
        try:
            thresholds = parse_threshold(thresholds, setting)
        except ValueError as exc:
            raise UsageError(f"--threshold: {exc}") from None
    return LogOptions(
        year=args.year,
        tz=zone,
        thresholds=thresholds,
        local_domains=tuple(d.lower() for d in args.local_domain),
        smtpd_uids=tuple(args.smtpd_uid),
        list_unknown=args.strict,
        geoip=args.geoip,
        jobs=args.jobs,
    )
