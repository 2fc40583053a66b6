"""The library entry point: sources → checks → report.

``audit_captures`` is what ``authaudit pcap`` runs; it never prints and never exits, so that other
programs can call it and get a :class:`~authaudit.model.Report` back.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from authaudit import __version__
from authaudit.accounts.interface import AccountSource
from authaudit.checks import Evidence, run_checks
from authaudit.errors import SourceError
from authaudit.model import (
    Account,
    AccountResult,
    AuthAttempt,
    InputFile,
    Report,
    Skipped,
    TlsSession,
)
from authaudit.pcap.options import DecodeOptions

__all__ = ["AuditOptions", "ProgressHook", "audit_accounts", "audit_captures", "file_input"]

ProgressHook = Callable[[str, int, int], None]
"""Called as ``hook(label, done, total)`` while long work runs; the CLI draws a progress bar."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditOptions:
    """What the caller chose for one run."""

    wordlists: tuple[Path, ...] = ()
    """Candidate lists for offline cracking, in order."""
    wordlist: tuple[str, ...] = ()
    """Candidates already loaded from ``wordlists`` (the CLI loads them once)."""
    crack: bool = True
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    now: datetime | None = None
    """Clock for the report time; None means the real time."""
    thorough: bool = False
    """Try every candidate on every account, whatever the hash costs."""
    jobs: int | None = None
    """Worker processes for password guessing; None means one per core."""


def file_input(path: Path, kind: str) -> InputFile:
    """An :class:`InputFile` with the file's size and sha256 (read in chunks)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return InputFile(path=str(path), kind=kind, sha256=digest.hexdigest(), size=size)


def audit_captures(
    paths: Sequence[Path], options: AuditOptions, progress: ProgressHook | None = None
) -> Report:
    """Decode every capture, crack challenge-response secrets, run the checks, build the report.

    A capture that cannot be read at all becomes a ``Skipped`` record; if none can be read the
    :class:`SourceError` of the first one is raised.
    """
    from authaudit.crack import crack_attempts  # the capture code loads only when it is used
    from authaudit.pcap.decode import decode_capture

    now = options.now or datetime.now(UTC)
    attempts: list[AuthAttempt] = []
    tls: list[TlsSession] = []
    skipped: list[Skipped] = []
    stats: Counter[str] = Counter()
    inputs: list[InputFile] = []
    errors: list[SourceError] = []
    for path in paths:
        hook = None
        if progress is not None:

            def hook(done: int, total: int, _label: str = path.name) -> None:
                progress(_label, done, total)

        # the digest is taken by a thread while the capture is decoded (hashlib lets go of the
        # GIL on large buffers): on a large capture it costs no extra time
        with ThreadPoolExecutor(1) as hasher:
            digest = hasher.submit(file_input, path, "capture")
            try:
                result = decode_capture(str(path), options.decode, progress=hook)
            except SourceError as exc:
                digest.cancel()
                errors.append(exc)
                skipped.append(Skipped(source=str(path), where="file", reason=exc.reason))
                continue
            inputs.append(digest.result())
        attempts.extend(result.attempts)
        tls.extend(result.tls_sessions)
        skipped.extend(result.skipped)
        stats.update(result.stats)
    if errors and len(errors) == len(paths):
        raise errors[0]
    inputs.extend(file_input(p, "wordlist") for p in options.wordlists)
    if options.crack:
        crack_hook = None
        if progress is not None:

            def crack_hook(done: int, total: int) -> None:
                progress("cracking challenge-response exchanges", done, total)

        attempts = crack_attempts(
            attempts, options.wordlist, now=now, jobs=options.jobs, progress=crack_hook
        )
    stats["captures"] = len(paths) - len(errors)
    stats["auth_attempts"] = len(attempts)
    stats["tls_sessions"] = len(tls)
    findings = run_checks(Evidence(attempts=tuple(attempts), tls_sessions=tuple(tls)))
    return Report(
        tool_version=__version__,
        generated_at=now,
        command="pcap",
        inputs=tuple(inputs),
        attempts=tuple(attempts),
        tls_sessions=tuple(tls),
        findings=findings,
        skipped=tuple(skipped),
        stats=tuple(sorted(stats.items())),
    )


def _store_input(source: AccountSource) -> InputFile:
    path = Path(source.name)
    if path.is_file():
        return file_input(path, "store")
    return InputFile(path=source.name, kind="store", sha256="", size=0)


def audit_accounts(
    sources: Sequence[AccountSource], options: AuditOptions, progress: ProgressHook | None = None
) -> Report:
    """Read every store, guess weak passwords within the budget, run the checks.

    A store that cannot be read becomes a ``Skipped`` record; if no store can be read the
    :class:`SourceError` of the first one is raised.
    """
    from authaudit.guess import GuessOptions, guess_accounts

    now = options.now or datetime.now(UTC)
    results: list[AccountResult] = []
    skipped: list[Skipped] = []
    inputs: list[InputFile] = []
    errors: list[SourceError] = []
    stats: Counter[str] = Counter()
    for source in sources:
        accounts: list[Account] = []
        try:
            for record in source.collect():
                if isinstance(record, Account):
                    accounts.append(record)
                else:
                    skipped.append(record)
        except SourceError as exc:
            errors.append(exc)
            skipped.append(Skipped(source=source.name, where="store", reason=exc.reason))
            if not accounts:
                continue
        inputs.append(_store_input(source))
        hook = None
        if progress is not None:

            def hook(done: int, total: int, _label: str = source.describe()) -> None:
                progress(_label, done, total)

        guess = GuessOptions(
            thorough=options.thorough,
            jobs=options.jobs,
            wordlist=options.wordlist,
            default_scheme=getattr(source, "default_scheme", None),
            now=now,
        )
        results.extend(guess_accounts(accounts, guess, progress=hook))
        stats["stores"] += 1
    if errors and len(errors) == len(sources) and not results:
        raise errors[0]
    inputs.extend(file_input(p, "wordlist") for p in options.wordlists)
    stats["accounts"] = len(results)
    stats["passwords_known"] = sum(1 for r in results if r.password is not None)
    stats["accounts_not_checked"] = sum(1 for r in results if r.problem is not None)
    findings = run_checks(Evidence(accounts=tuple(results)))
    return Report(
        tool_version=__version__,
        generated_at=now,
        command="accounts",
        inputs=tuple(inputs),
        accounts=tuple(results),
        findings=findings,
        skipped=tuple(skipped),
        stats=tuple(sorted(stats.items())),
    )
