"""The ``authaudit`` command: argument parsing, progress, output and exit codes.

This is the only module that prints or exits. Exit codes: 0 no finding at or above ``--fail-on``,
1 findings at or above it, 2 usage error or no input could be read (or, with ``--strict``, some
input was skipped).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from authaudit import __version__
from authaudit.accounts.interface import AccountSource
from authaudit.audit import AuditOptions, ProgressHook, audit_accounts, audit_captures
from authaudit.checks import CHECKS
from authaudit.errors import AuthAuditError, UsageError
from authaudit.formats import FORMATS
from authaudit.model import Report, Severity
from authaudit.pcap.decode import DecodeOptions
from authaudit.redact import Redactor
from authaudit.wordlists import BUNDLED_DIR, bundled_wordlists, load_wordlists

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DEMO_CAPTURES = BUNDLED_DIR.parent / "pcaps" / "demo"
DEMO_STORES = BUNDLED_DIR.parent / "tests" / "data" / "demo"


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("output")
    g.add_argument(
        "--format", choices=list(FORMATS), default="table", help="report format (default: table)"
    )
    g.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="write the report to PATH (created with mode 0600) instead of stdout",
    )
    g.add_argument(
        "--show-secrets",
        action="store_true",
        help="print passwords, tokens and hash lines in clear (default: redacted)",
    )
    g.add_argument(
        "--fail-on",
        choices=[*(str(s) for s in Severity), "never"],
        default="high",
        help="exit 1 when a finding is at least this severe (default: high)",
    )
    g.add_argument("--strict", action="store_true", help="exit 2 when any input was skipped")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress or notes on stderr")
    g.add_argument("-v", "--verbose", action="count", default=0, help="more notes on stderr")
    w = p.add_argument_group("cracking")
    w.add_argument(
        "--wordlist",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="candidate passwords, one per line (repeatable; default: bundled lists)",
    )
    w.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="worker processes: cracking and guessing use one per core by default; capture "
        "decoding uses one process unless N is given (then N shards of the connections)",
    )
    w.add_argument(
        "--no-crack",
        action="store_true",
        help="do not try candidates against challenge-response exchanges",
    )
    return p


def _parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="authaudit",
        description="Audit SMTP AUTH credentials in captures, account stores and mail logs.",
    )
    parser.add_argument("--version", action="version", version=f"authaudit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    pcap = sub.add_parser(
        "pcap",
        parents=[common],
        help="report every SMTP AUTH attempt in captures",
        description="Decode SMTP AUTH attempts from pcap/pcapng captures "
        "(gzip allowed), on any port.",
    )
    pcap.add_argument("captures", nargs="+", type=Path, metavar="CAPTURE")
    lim = pcap.add_argument_group("limits")
    defaults = DecodeOptions()
    lim.add_argument(
        "--max-flows",
        type=int,
        default=defaults.max_flows,
        help=f"TCP connections followed at once (default: {defaults.max_flows})",
    )
    lim.add_argument(
        "--max-stream-buffer",
        type=int,
        default=defaults.max_buffered,
        metavar="BYTES",
        help="out-of-order bytes held per direction before a gap is declared "
        f"(default: {defaults.max_buffered})",
    )
    lim.add_argument(
        "--idle-timeout",
        type=float,
        default=defaults.idle_timeout,
        metavar="SECONDS",
        help=f"forget a silent connection after this much capture time "
        f"(default: {defaults.idle_timeout:g})",
    )
    acc = sub.add_parser(
        "accounts",
        parents=[common],
        help="audit mailbox account stores for weak credentials",
        description="Read vpopmail and Dovecot account stores (read-only) and flag accounts "
        "whose password is the username, a variant of it, empty, in a wordlist, stored in clear "
        "or hashed weakly. Store options can be repeated and combined.",
    )
    _store_options(acc)
    sub.add_parser("checks", parents=[common], help="list the checks and their IDs")
    sub.add_parser("demo", parents=[common], help="run the main job on the bundled sample data")
    return parser


def _store_options(p: argparse.ArgumentParser) -> None:
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


def _stores(args: argparse.Namespace) -> list[AccountSource]:
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
def _progress(enabled: bool) -> Iterator[ProgressHook | None]:
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
                    ("cracking", "vpopmail", "vuserinfo", "dovecot", "postfixadmin", "sql")
                )
                task = tasks[label] = bar.add_task(label, total=total or None, bytes=is_file)
            bar.update(task, completed=done)

        yield hook


def _write(chunks: Iterable[str], output: str | None) -> None:
    """Write the report to stdout, or to ``output`` created (or truncated) with mode 0600."""
    if output is None or output == "-":
        sys.stdout.writelines(chunks)
        sys.stdout.flush()
        return
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.writelines(chunks)


def _exit_code(report: Report, args: argparse.Namespace) -> int:
    if args.strict and report.skipped:
        return EXIT_ERROR
    worst = report.worst_severity()
    if args.fail_on == "never" or worst is None:
        return EXIT_OK
    return EXIT_FINDINGS if worst.rank >= Severity(args.fail_on).rank else EXIT_OK


def _note(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        sys.stderr.write(f"authaudit: {text}\n")


def _audit_options(args: argparse.Namespace) -> AuditOptions:
    lists = tuple(args.wordlist) or tuple(bundled_wordlists())
    decode = DecodeOptions(
        max_flows=getattr(args, "max_flows", DecodeOptions().max_flows),
        max_buffered=getattr(args, "max_stream_buffer", DecodeOptions().max_buffered),
        idle_timeout=getattr(args, "idle_timeout", DecodeOptions().idle_timeout),
        # Sharded decoding trades memory (one reader per process) for speed: only on request.
        jobs=args.jobs or 1,
    )
    words = tuple(load_wordlists(lists)) if not args.no_crack else ()
    return AuditOptions(
        wordlists=lists,
        wordlist=words,
        crack=not args.no_crack,
        decode=decode,
        thorough=getattr(args, "thorough", False),
        jobs=getattr(args, "jobs", None),
    )


def _render(report: Report, args: argparse.Namespace) -> int:
    # One redactor per run: equal secrets get equal fingerprints across every report printed.
    redactor: Redactor = args.redactor
    _write(FORMATS[args.format].chunks(report, redactor), args.output)
    for s in report.skipped if args.verbose else ():
        _note(args, f"skipped {s.count}x {s.source} {s.where}: {s.reason}")
    return _exit_code(report, args)


def _cmd_pcap(args: argparse.Namespace) -> int:
    missing = [str(p) for p in args.captures if not p.is_file()]
    for name in missing:
        _note(args, f"{name}: no such file")
    with _progress(not args.quiet) as hook:
        report = audit_captures(args.captures, _audit_options(args), progress=hook)
    return _render(report, args)


def _cmd_accounts(args: argparse.Namespace) -> int:
    sources = _stores(args)
    if not sources:
        _note(
            args, "accounts: name at least one store (--vpopmail DIR, --dovecot-passwd FILE, ...)"
        )
        return EXIT_ERROR
    options = _audit_options(args)
    with _progress(not args.quiet) as hook:
        report = audit_accounts(sources, options, progress=hook)
    return _render(report, args)


def _cmd_demo(args: argparse.Namespace) -> int:
    """The relay-spam case on bundled data: the capture, then the customer's account store."""
    from authaudit.accounts.vuserinfo import VuserinfoSource

    captures = sorted(p for p in DEMO_CAPTURES.glob("*.pcap*") if p.is_file())
    stores = sorted(DEMO_STORES.glob("vuserinfo-*.txt"))
    if not captures or not stores:
        _note(args, f"bundled demo data missing ({DEMO_CAPTURES}, {DEMO_STORES})")
        return EXIT_ERROR
    options = _audit_options(args)
    _note(args, f"demo 1/2: authaudit pcap {' '.join(str(p) for p in captures)}")
    with _progress(not args.quiet) as hook:
        wire = audit_captures(captures, options, progress=hook)
    codes = [_render(wire, args)]
    if args.output is None and args.format in {"table", "markdown"}:
        sys.stdout.write("\n")
    _note(args, f"demo 2/2: authaudit accounts --vuserinfo {' '.join(str(p) for p in stores)}")
    with _progress(not args.quiet) as hook:
        store = audit_accounts([VuserinfoSource(p) for p in stores], options, progress=hook)
    if args.output is None:
        codes.append(_render(store, args))
    return EXIT_ERROR if EXIT_ERROR in codes else EXIT_OK


def _cmd_checks(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    rows = [(c.id, str(c.severity), c.title) for c in CHECKS.values()]
    sys.stdout.write(tabulate(rows, headers=("id", "default severity", "title")) + "\n")
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "pcap": _cmd_pcap,
    "demo": _cmd_demo,
    "accounts": _cmd_accounts,
    "checks": _cmd_checks,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = _parser().parse_args(argv)
    args.redactor = Redactor(show_secrets=getattr(args, "show_secrets", False))
    try:
        return COMMANDS[args.command](args)
    except AuthAuditError as exc:
        _note(args, f"error: {exc}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        _note(args, "interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
