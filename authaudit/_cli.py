"""The ``authaudit`` command: argument parsing, progress, output and exit codes.

This is the only module that prints or exits. Exit codes: 0 no finding at or above ``--fail-on``,
1 findings at or above it, 2 usage error or no input could be read (or, with ``--strict``, some
input was skipped).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from authaudit import __version__
from authaudit._build import describe
from authaudit._cli_inputs import log_options, log_settings, progress_bar, store_options, stores
from authaudit.audit import AuditOptions, audit_accounts, audit_captures
from authaudit.checks import CHECKS
from authaudit.errors import AuthAuditError, UsageError
from authaudit.formats import FORMATS
from authaudit.model import Report, Severity
from authaudit.pcap.options import DecodeOptions, default_decode_jobs
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
        help="worker processes: cracking, guessing and a mail log of 32 MB or more use one per "
        "core by default; a capture of 32 MB or more is decoded by one process per core, at "
        "most 4, each following its share of the connections (--jobs 1: one process)",
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
    parser.add_argument("--version", action="version",
                        version=f"authaudit {__version__} ({describe()})")
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
    store_options(acc)
    logs = sub.add_parser(
        "logs",
        parents=[common],
        help="who logged in, failed and relayed mail, per account, from mail logs",
        description="Read Postfix, Dovecot, Exim, sendmail, qmail/vpopmail and Courier logs "
        "(rotated, compressed, several at once; merged by time) and report per authenticated "
        "identity: logins, failures, IPs, relayed mail, and the AA3xx findings.",
    )
    logs.add_argument("logs", nargs="+", type=Path, metavar="LOGFILE")
    log_options(logs)
    report = sub.add_parser(
        "report",
        parents=[common],
        help="ranked incidents from logs, account stores and captures together",
        description="Join mail logs (--logs), account stores (--vpopmail, ...) and captures "
        "(--pcap) per account and rank the incidents: compromised accounts, brute force, "
        "sprays, local script injection.",
    )
    report.add_argument(
        "--logs", dest="log_files", action="append", type=Path, default=[], metavar="FILE",
        help="a mail log (repeatable; rotated and compressed files are fine)",
    )
    report.add_argument(
        "--pcap", dest="captures", action="append", type=Path, default=[], metavar="FILE",
        help="a capture to decode (repeatable)",
    )
    store_options(report)
    log_options(report)
    sub.add_parser("checks", parents=[common], help="list the checks and their IDs")
    sub.add_parser("demo", parents=[common], help="run the main job on the bundled sample data")
    return parser


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


def _audit_options(args: argparse.Namespace, *, words: bool = True) -> AuditOptions:
    lists = tuple(args.wordlist) or tuple(bundled_wordlists()) if words else ()
    decode = DecodeOptions(
        max_flows=getattr(args, "max_flows", DecodeOptions().max_flows),
        max_buffered=getattr(args, "max_stream_buffer", DecodeOptions().max_buffered),
        idle_timeout=getattr(args, "idle_timeout", DecodeOptions().idle_timeout),
        # a capture of shard_min_bytes or more is decoded by up to 4 processes (one per CPU)
        jobs=args.jobs or default_decode_jobs(),
    )
    loaded = tuple(load_wordlists(lists)) if words and not args.no_crack else ()
    return AuditOptions(
        wordlists=lists,
        wordlist=loaded,
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
    with progress_bar(not args.quiet) as hook:
        report = audit_captures(args.captures, _audit_options(args), progress=hook)
    return _render(report, args)


def _cmd_accounts(args: argparse.Namespace) -> int:
    sources = stores(args)
    if not sources:
        _note(
            args, "accounts: name at least one store (--vpopmail DIR, --dovecot-passwd FILE, ...)"
        )
        return EXIT_ERROR
    options = _audit_options(args)
    with progress_bar(not args.quiet) as hook:
        report = audit_accounts(sources, options, progress=hook)
    return _render(report, args)


def _demo_store(tmp: Path) -> Path:
    """A copy of the bundled vpopmail tree with its ``lastauth`` times restored.

    vpopmail keeps the last-login time as the mtime of each ``lastauth`` file, which git does not
    preserve; ``lastauth-times.tsv`` records them and is applied to a private copy."""
    import shutil
    from datetime import datetime

    tree = tmp / "vpopmail"
    shutil.copytree(DEMO_STORES / "vpopmail", tree)
    times = tree / "lastauth-times.tsv"
    if times.is_file():
        for line in times.read_text(encoding="utf-8").splitlines():
            rel, _, stamp = line.partition("\t")
            target = tree / rel
            if stamp and target.is_file():
                when = datetime.fromisoformat(stamp).timestamp()
                os.utime(target, (when, when))
    return tree


def _cmd_demo(args: argparse.Namespace) -> int:
    """The relay-spam case on bundled data: capture, vpopmail tree and qmail + Postfix logs."""
    import tempfile

    from authaudit.accounts.vpopmail import VpopmailSource
    from authaudit.audit_report import LogOptions, audit_report

    captures = sorted(p for p in DEMO_CAPTURES.glob("*.pcap*") if p.is_file())
    logs = sorted(p for p in (DEMO_STORES / "logs").rglob("*") if p.is_file()
                  and p.suffix not in (".md", ".json"))
    if not captures or not logs or not (DEMO_STORES / "vpopmail").is_dir():
        _note(args, f"bundled demo data missing ({DEMO_CAPTURES}, {DEMO_STORES})")
        return EXIT_ERROR
    with tempfile.TemporaryDirectory(prefix="authaudit-demo-") as tmp:
        tree = _demo_store(Path(tmp))
        shown = " ".join(
            [*(f"--pcap {p}" for p in captures), f"--vpopmail {DEMO_STORES / 'vpopmail'}",
             *(f"--logs {p}" for p in logs), "--year 2026"]
        )
        _note(args, f"demo: authaudit report {shown}")
        with progress_bar(not args.quiet) as hook:
            report = audit_report(captures, [VpopmailSource(tree)], logs, LogOptions(year=2026),
                                  _audit_options(args), progress=hook)
    code = _render(report, args)
    return EXIT_ERROR if code == EXIT_ERROR else EXIT_OK


def _cmd_checks(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    rows = [(c.id, str(c.severity), c.title) for c in CHECKS.values()]
    sys.stdout.write(tabulate(rows, headers=("id", "default severity", "title")) + "\n")
    return EXIT_OK


def _render_any(report: Report, args: argparse.Namespace) -> int:
    """Render ``report``, split per customer domain when ``--by-domain`` asks for it."""
    if not getattr(args, "by_domain", False):
        return _render(report, args)
    from authaudit.correlate.domains import split_by_domain

    parts = split_by_domain(report)
    redactor: Redactor = args.redactor
    fmt = FORMATS[args.format]
    if args.output not in (None, "-"):
        out = Path(args.output)
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        for domain, part in parts.items():
            _write(fmt.chunks(part, redactor), str(out / f"{domain}.{fmt.extension}"))
        _note(args, f"wrote {len(parts)} reports to {out}/")
    elif args.format not in ("table", "markdown"):
        raise UsageError("--by-domain with this --format needs -o DIR (one file per domain)")
    else:
        for domain, part in parts.items():
            heading = f"# {domain}\n\n" if args.format == "markdown" else f"=== {domain} ===\n"
            _write([heading, *fmt.chunks(part, redactor), "\n"], None)
    return _exit_code(report, args)


def _cmd_logs(args: argparse.Namespace) -> int:
    from authaudit.audit_report import audit_logs

    settings = log_settings(args)
    with progress_bar(not args.quiet) as hook:
        report = audit_logs(args.logs, settings, _audit_options(args, words=False), progress=hook)
    return _render_any(report, args)


def _cmd_report(args: argparse.Namespace) -> int:
    from authaudit.audit_report import audit_report

    sources = stores(args)
    if not (sources or args.log_files or args.captures):
        _note(args, "report: give at least one of --logs FILE, --pcap FILE or a store option")
        return EXIT_ERROR
    settings = log_settings(args)
    with progress_bar(not args.quiet) as hook:
        report = audit_report(args.captures, sources, args.log_files, settings,
                              _audit_options(args), progress=hook)
    return _render_any(report, args)


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "logs": _cmd_logs,
    "report": _cmd_report,
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
        sys.stderr.write(f"authaudit: error: {exc}\n")  # even with -q: it explains the exit 2
        return EXIT_ERROR
    except KeyboardInterrupt:
        _note(args, "interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
