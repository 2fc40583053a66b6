"""The library entry points for mail logs and for the joined incident report.

``audit_logs`` is what ``authaudit logs`` runs: one streaming pass over the logs into per-identity
tallies, then the AA3xx checks and incidents. ``audit_report`` (``authaudit report``) first reads
the captures and the account stores, so that the logs' logins resolve to the stores' mailboxes and
the correlation checks (AA306, AA307) can join all three.
"""

from __future__ import annotations

import copy
import functools
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TypeVar

from authaudit import __version__
from authaudit.accounts.interface import AccountSource
from authaudit.audit import AuditOptions, ProgressHook, audit_accounts, audit_captures, file_input
from authaudit.checks import Evidence, run_checks
from authaudit.correlate.activity import MAX_FAILURE_ONLY_IDENTITIES, ActivityCollector
from authaudit.correlate.evidence import LogEvidence
from authaudit.correlate.identity import IdentityResolver
from authaudit.correlate.incidents import build_incidents
from authaudit.correlate.pairing import FailurePairer
from authaudit.correlate.thresholds import Thresholds
from authaudit.errors import SourceError
from authaudit.logs.scan import LogScanStats, ScanOptions, scan_logs
from authaudit.model import AccountActivity, InputFile, Report, Skipped

__all__ = ["LogOptions", "audit_logs", "audit_report"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogOptions:
    """How to read and judge the mail logs."""

    year: int | None = None
    tz: tzinfo | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    local_domains: tuple[str, ...] = ()
    """Domains hosted here besides those of the account stores and authenticated logins."""
    smtpd_uids: tuple[int, ...] = ()
    """qmail: the uid(s) qmail-smtpd runs as (qmaild), whose queued mail is SMTP, not a script."""
    list_unknown: bool = False
    """List the first unrecognised lines of each program as Skipped records (``--strict``)."""
    geoip: Path | None = None
    """A MaxMind ``.mmdb`` to count login countries per identity (``--geoip``)."""
    jobs: int | None = None
    """Processes for one large plain log file (``--jobs``; None: one per CPU, 1: no workers);
    see :mod:`authaudit.logs.parallel`."""


@dataclass(slots=True)
class _LogsPart:
    evidence: LogEvidence
    stats: LogScanStats
    inputs: list[InputFile]
    counts: Counter[str]
    """The report's ``log_*`` statistics."""


def _read_logs(
    paths: Sequence[Path],
    options: LogOptions,
    resolver: IdentityResolver,
    progress: ProgressHook | None,
) -> _LogsPart:
    """One pass over the logs into the tallies. A single large plain file is read in parts by
    worker processes (``options.jobs``), each into its own parsers, pairer and collector, merged
    in order (see :mod:`authaudit.correlate.parallel` for what that changes at the borders)."""
    collector = ActivityCollector(resolver, options.thresholds)
    hook = None
    if progress is not None:

        def hook(done: int, total: int) -> None:
            progress("mail logs (lines)", done, total)

    # the inputs' digests are taken by a thread while the logs are read (hashlib lets go of the
    # GIL on large buffers); a file the scan cannot open is reported by the scan, not here
    with ThreadPoolExecutor(1) as hasher:
        digests = {str(p): hasher.submit(file_input, Path(p), "log") for p in paths}
        stats = _scan_into(collector, paths, options, hook)
        inputs = [digests[p].result() if p in digests else file_input(Path(p), "log")
                  for p in stats.files]
    if collector.untallied_names:
        stats.skipped.append(Skipped(
            source="logs", where="identities",
            reason=f"failed logins on more than {MAX_FAILURE_ONLY_IDENTITIES} login names: the "
                   "rest are counted per client address only", count=collector.untallied_names))
    evidence = LogEvidence(
        activity=_with_countries(tuple(collector.activity()), options),
        ips=collector.ips,
        local=collector.local,
        resolver=resolver,
        thresholds=options.thresholds,
        smtpd_uids=frozenset(options.smtpd_uids),
    )
    counts: Counter[str] = Counter(
        {"log_lines": stats.lines, "log_files": len(stats.files), "log_logins": collector.logins,
         "log_login_failures": collector.failures, "log_messages": collector.messages,
         "log_lines_unrecognised": sum(stats.unknown.values()),
         "log_lines_other_programs": sum(stats.unclaimed.values())}
    )
    return _LogsPart(evidence, stats, inputs, counts)


def _scan_into(collector: ActivityCollector, paths: Sequence[Path], options: LogOptions,
               hook: Callable[[int, int], None] | None) -> LogScanStats:
    """Scan ``paths`` with the default parsers into ``collector`` (see :func:`_read_logs`)."""
    from authaudit.correlate.parallel import ReportPart
    from authaudit.logs.parallel import plan_parts, scan_parts
    from authaudit.logs.parsers import default_parsers

    pairer = FailurePairer(collector.add)  # one count per failed login, not one per log line
    scan_options = ScanOptions(year=options.year, tz=options.tz, list_unknown=options.list_unknown)
    parts = plan_parts(paths, scan_options, options.jobs)
    if parts is None:
        stats = scan_logs(paths, default_parsers(), pairer, scan_options, progress=hook)
        pairer.flush()
        return stats
    # one large file: its later parts are read by worker processes, then merged in order
    make_part = functools.partial(ReportPart, copy.deepcopy(collector.resolver),
                                  options.thresholds)
    stats, later, joined = scan_parts(parts, default_parsers(), pairer, make_part, scan_options,
                                      progress=hook)
    pairer.flush()
    for part in later:
        assert isinstance(part, ActivityCollector)
        collector.merge(part)
    for event in joined:  # messages cut by a part's border, joined again
        collector.add(event)
    return stats


def _with_countries(activity: tuple[AccountActivity, ...], options: LogOptions
                    ) -> tuple[AccountActivity, ...]:
    """Each identity's login countries from ``--geoip`` (``activity`` as it is without it)."""
    if options.geoip is None:
        return activity
    from authaudit.correlate.geo import CountryLookup, with_countries

    lookup = CountryLookup(options.geoip)
    try:
        return with_countries(activity, lookup)
    finally:
        lookup.close()


def audit_logs(
    paths: Sequence[Path],
    log_options: LogOptions,
    options: AuditOptions,
    progress: ProgressHook | None = None,
) -> Report:
    """Read the logs, tally per identity, run the log checks, rank the incidents."""
    now = options.now or datetime.now(UTC)
    resolver = IdentityResolver(local_domains=log_options.local_domains)
    part = _read_logs(paths, log_options, resolver, progress)
    findings = run_checks(Evidence(logs=part.evidence))
    incidents = build_incidents(findings, resolver, part.evidence.activity)
    return Report(
        tool_version=__version__,
        generated_at=now,
        command="logs",
        inputs=tuple(part.inputs),
        findings=findings,
        skipped=tuple(part.stats.skipped),
        activity=part.evidence.activity,
        incidents=incidents,
        stats=tuple(sorted(part.counts.items())),
    )


_T = TypeVar("_T")


def _read_or_skip(read: Callable[[], _T], where: str, errors: list[SourceError],
                  skipped: list[Skipped]) -> _T | None:
    """``read()``; None when it raises a :class:`SourceError`, which is kept in ``errors`` and
    becomes a Skipped record (``where``)."""
    try:
        return read()
    except SourceError as exc:
        errors.append(exc)
        skipped.append(Skipped(source=exc.source, where=where, reason=exc.reason))
        return None


def audit_report(
    captures: Sequence[Path],
    stores: Sequence[AccountSource],
    logs: Sequence[Path],
    log_options: LogOptions,
    options: AuditOptions,
    progress: ProgressHook | None = None,
) -> Report:
    """Captures, stores and logs joined into one ranked incident report.

    Any one kind of input may be missing; a source that cannot be read is a Skipped record, and
    only when nothing at all could be read is the first :class:`SourceError` raised.
    """
    now = options.now or datetime.now(UTC)
    skipped: list[Skipped] = []
    inputs: list[InputFile] = []
    stats: Counter[str] = Counter()
    errors: list[SourceError] = []
    wire = _read_or_skip(lambda: audit_captures(captures, options, progress), "file", errors,
                         skipped) if captures else None
    store = _read_or_skip(lambda: audit_accounts(stores, options, progress), "store", errors,
                          skipped) if stores else None
    results = store.accounts if store is not None else ()
    resolver = IdentityResolver((r.account.address for r in results), log_options.local_domains)
    part = _read_or_skip(lambda: _read_logs(logs, log_options, resolver, progress), "file",
                         errors, skipped) if logs else None
    if wire is None and store is None and part is None and errors:
        raise errors[0]
    for sub in (wire, store):
        if sub is not None:
            inputs.extend(i for i in sub.inputs if i not in inputs)
            skipped.extend(sub.skipped)
            stats.update(dict(sub.stats))
    attempts = wire.attempts if wire is not None else ()
    if part is not None:
        inputs.extend(part.inputs)
        skipped.extend(part.stats.skipped)
        stats.update(part.counts)
    evidence = Evidence(
        attempts=attempts,
        tls_sessions=wire.tls_sessions if wire is not None else (),
        accounts=results,
        logs=part.evidence if part is not None else None,
    )
    findings = run_checks(evidence)
    activity = part.evidence.activity if part is not None else ()
    incidents = build_incidents(findings, resolver, activity, results, attempts)
    return Report(
        tool_version=__version__,
        generated_at=now,
        command="report",
        inputs=tuple(inputs),
        attempts=attempts,
        tls_sessions=evidence.tls_sessions,
        accounts=results,
        findings=findings,
        skipped=tuple(skipped),
        activity=activity,
        incidents=incidents,
        stats=tuple(sorted(stats.items())),
    )
