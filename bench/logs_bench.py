"""Benchmark authaudit's mail-log report against pflogsumm on a large synthetic maillog.

One run generates (or reuses from the cache) a Debian Postfix + Dovecot maillog with a planted
relay-abuse incident from :mod:`bench.logsynth` (120 MB by default), reads it once so both tools
start on a warm page cache, then runs, ``--repeat`` times each:

a. ``pflogsumm FILE`` (standard output to /dev/null; its exit status is checked);
b. ``authaudit report --logs FILE --format json -o OUT`` with the ``authaudit`` next to this
   Python (falling back to ``authaudit logs FILE --format json -o OUT`` while ``report`` does not
   exist; the year of the yearless stamps comes from the file's mtime).

It prints the best and median wall time, CPU time and peak RSS of each (``wait4``), the ratio
pflogsumm/authaudit, PASS/MISS against the targets (authaudit's full incident report in less than
a third of pflogsumm's time, and under 300 MB RSS), and a correctness line: whether the planted
account is authaudit's first incident (the JSON's top-level ``incidents`` list, each item with
``account`` and ``severity``). It exits 0 unless the command line is wrong: it measures, it does
not judge. pflogsumm comes from Debian (``apt-get install pflogsumm``); nothing is installed here.

Usage: ``python bench/logs_bench.py [--mb 120] [--seed 1] [--workdir DIR] [--keep] [--repeat N]
[--json] [--no-pflogsumm] [--no-authaudit] [--authaudit-arg ARG]``. Without ``--keep`` the files
made by the run are deleted at the end; with it the log stays in the work directory and later runs
with the same size and seed reuse it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from tabulate import tabulate

_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from bench import logsynth  # noqa: E402
from bench.common import fmt as _fmt  # noqa: E402
from bench.common import note as _note  # noqa: E402
from bench.common import out as _out  # noqa: E402
from bench.common import verdict as _verdict  # noqa: E402
from bench.common import warm_cache  # noqa: E402

SPEEDUP_TARGET: Final = 3.0
RSS_TARGET_MB: Final = 300.0
DEFAULT_WORKDIR: Final = Path("/tmp/authaudit-bench")



@dataclass(slots=True)
class MailLog:
    """The synthetic log, its truth and how it was made."""

    path: Path
    lines: int
    size: int
    truth: dict[str, Any]
    generated_s: float | None
    """Generation time in this run, or None when it came from the cache."""
    created: bool


def prepare_log(workdir: Path, mb: float, seed: int) -> MailLog:
    """Reuse the cached log for this size, seed and generator version, or generate it."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"maillog-v{logsynth.GENERATOR_VERSION}-{mb:g}mb-s{seed}.log"
    truth_path = logsynth.truth_path_for(path)
    if path.exists() and truth_path.exists():
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("bytes") == path.stat().st_size:
            _note(f"reusing {path}")
            return MailLog(path, int(truth["lines"]), int(truth["bytes"]), truth, None, False)
    _note(f"generating {path} ({mb:g} MB, seed {seed}) ...")
    # In a child process: a child's ru_maxrss starts at its parent's RSS when it was forked, so
    # this process must stay small for the tools' peaks to be measured right.
    started = time.perf_counter()
    subprocess.run([sys.executable, str(_ROOT / "bench" / "logsynth.py"), str(path), "--mb",
                    f"{mb:g}", "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL,
                   cwd=_ROOT)
    took = time.perf_counter() - started
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    _note(f"generated {truth['lines']:,} lines, {truth['bytes'] / 1e6:.1f} MB in {took:.1f} s")
    return MailLog(path, int(truth["lines"]), int(truth["bytes"]), truth, took, True)


def _own_rss_mb() -> float:
    """This process's resident set: the floor under every child's measured peak RSS."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0



@dataclass(slots=True)
class Run:
    """How one tool did over its repetitions."""

    name: str
    argv: list[str]
    walls_s: list[float] = field(default_factory=list)
    cpu_s: float | None = None
    """User plus system time of the fastest repetition."""
    max_rss_mb: float | None = None
    """Largest peak RSS over the repetitions (wait4; Linux reports KiB)."""
    floor_mb: float = 0.0
    """This process's RSS when the child was started: a measured peak at or below it only
    says "at most this" (Linux starts a forked child's maximum at its parent's RSS)."""
    returncode: int | None = None
    error: str = ""
    stderr_tail: str = ""

    @property
    def best_s(self) -> float | None:
        """The fastest repetition."""
        return min(self.walls_s) if self.walls_s else None

    @property
    def median_s(self) -> float | None:
        """The median repetition."""
        return statistics.median(self.walls_s) if self.walls_s else None


def run_tool(name: str, argv: list[str], stdout: Path, workdir: Path, *, repeat: int,
             ok_codes: Sequence[int]) -> Run:
    """Run ``argv`` ``repeat`` times with stdout to ``stdout`` (stderr to a file in
    ``workdir``, kept as a tail); measure wall, CPU and RSS."""
    run = Run(name, argv)
    err_path = workdir / f"{name}.stderr"
    best = float("inf")
    for _ in range(max(1, repeat)):
        _note(f"running {name}: {' '.join(argv)}")
        try:
            with stdout.open("wb") as out, err_path.open("wb") as err:
                started = time.perf_counter()
                proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                        cwd=_ROOT)
                _pid, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - started
        except OSError as exc:
            run.error = f"could not start: {exc}"
            return run
        proc.returncode = run.returncode = os.waitstatus_to_exitcode(status)
        run.stderr_tail = err_path.read_bytes()[-2000:].decode("utf-8", "replace")
        run.floor_mb = _own_rss_mb()
        err_path.unlink(missing_ok=True)
        rss = usage.ru_maxrss / 1024
        run.max_rss_mb = max(run.max_rss_mb or 0.0, rss)
        _note(f"  {name}: {wall:.2f} s wall, {rss:.0f} MB max RSS, exit {run.returncode}")
        if run.returncode not in ok_codes:
            run.error = f"exit status {run.returncode}"
            return run
        run.walls_s.append(wall)
        if wall < best:
            best, run.cpu_s = wall, usage.ru_utime + usage.ru_stime
    return run


def _help_text(argv: list[str]) -> str | None:
    """The ``--help`` output of a subcommand, or None when it does not exist."""
    try:
        done = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=60,
                              check=False, cwd=_ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def authaudit_argv(log: Path, out: Path, year: int, extra: Sequence[str]
                   ) -> tuple[list[str], bool] | None:
    """The authaudit command for the report (``report --logs``, else ``logs``) and whether it
    writes ``out`` itself (``-o``) rather than to standard output; None when neither exists."""
    exe = Path(sys.executable).with_name("authaudit")
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "authaudit"]
    for sub, files in (("report", ["--logs", str(log)]), ("logs", [str(log)])):
        text = _help_text([*base, sub])
        if text is None:
            continue
        # no --year: the generator sets the log's mtime just after its last line, as syslog does,
        # so the year comes from the mtime (a --year costs one extra read of the stamps)
        del year
        argv = [*base, sub, *files, "--format", "json"]
        own_file = "-o " in text or "--output" in text
        if own_file:
            argv += ["-o", str(out)]
        return [*argv, *extra], own_file
    return None


def check_incidents(path: Path, truth: dict[str, Any]) -> str:
    """Whether authaudit's JSON ranks the planted account as the first incident."""
    account = truth["planted"]["account"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"cannot read authaudit's JSON ({exc})"
    incidents = data.get("incidents") if isinstance(data, dict) else None
    if not isinstance(incidents, list):
        return "authaudit's JSON has no top-level 'incidents' list"
    accounts = [i.get("account") if isinstance(i, dict) else None for i in incidents]
    if not incidents:
        return f"MISS: no incidents reported (planted account {account})"
    first = incidents[0] if isinstance(incidents[0], dict) else {}
    if accounts[0] == account:
        return (f"PASS: the planted account {account} is the first of {len(incidents)} "
                f"incidents (severity {first.get('severity')})")
    rank = accounts.index(account) + 1 if account in accounts else None
    where = f"incident #{rank}" if rank else "not reported at all"
    return (f"MISS: the first incident is {accounts[0]!r} (severity {first.get('severity')}); "
            f"the planted account {account} is {where}")



def _rss(run: Run) -> str:
    if run.max_rss_mb is None:
        return "-"
    at_most = "<= " if run.max_rss_mb <= run.floor_mb + 1 else ""
    return f"{at_most}{run.max_rss_mb:.0f}"



def report(log: MailLog, runs: list[Run], correctness: str | None) -> dict[str, Any]:
    """The measurements as one JSON-able dict."""
    by = {r.name: r for r in runs}
    pf, aa = by.get("pflogsumm"), by.get("authaudit")
    ratio = None
    if pf and aa and pf.best_s and aa.best_s:
        ratio = pf.best_s / aa.best_s
    rss = aa.max_rss_mb if aa and not aa.error else None
    return {
        "log": {"path": str(log.path), "lines": log.lines, "bytes": log.size,
                "generated_s": log.generated_s, "planted": log.truth["planted"]["account"]},
        "runs": [{**asdict(r), "best_s": r.best_s, "median_s": r.median_s,
                  "mb_per_s": log.size / 1e6 / r.best_s if r.best_s else None} for r in runs],
        "ratio_pflogsumm_over_authaudit": ratio,
        "targets": {
            "speed": {"target": f">= {SPEEDUP_TARGET:g}x pflogsumm", "value": ratio,
                      "verdict": _verdict(None if ratio is None else ratio >= SPEEDUP_TARGET)},
            "rss": {"target": f"< {RSS_TARGET_MB:g} MB", "value": rss,
                    "verdict": _verdict(None if rss is None else rss < RSS_TARGET_MB)},
        },
        "correctness": correctness,
    }


def print_report(rep: dict[str, Any], runs: list[Run]) -> None:
    """The human-readable tables."""
    log = rep["log"]
    gen = log["generated_s"]
    _out(f"maillog: {log['path']}\n  {log['lines']:,} lines, {log['bytes'] / 1e6:.1f} MB, "
         f"planted account {log['planted']}, "
         + (f"generated in {gen:.1f} s" if gen is not None else "reused from cache"))
    rows = []
    for run, r in zip(runs, rep["runs"], strict=True):
        rows.append([run.name, _fmt(run.best_s, ".2f"), _fmt(run.median_s, ".2f"),
                     _fmt(run.cpu_s, ".2f"), _fmt(r["mb_per_s"], ".1f"),
                     _rss(run), run.error or f"ok (exit {run.returncode})"])
    _out()
    _out(tabulate(rows, headers=["run", "best s", "median s", "CPU s", "MB/s", "max RSS MB",
                                 "status"], disable_numparse=True))
    ratio = rep["ratio_pflogsumm_over_authaudit"]
    _out(f"\npflogsumm/authaudit wall-time ratio: {_fmt(ratio, '.2f')}")
    _out("\ntargets (authaudit):")
    rows = []
    for name, t in rep["targets"].items():
        value = t["value"]
        rows.append([name, t["target"], "-" if value is None else f"{value:.2f}", t["verdict"]])
    _out(tabulate(rows, headers=["target", "wanted", "measured", "verdict"],
                  disable_numparse=True))
    if rep["correctness"]:
        _out(f"\ncorrectness: {rep['correctness']}")
    for run in runs:
        if run.error:
            _out(f"\n{run.name} failed ({run.error}); stderr tail:\n{run.stderr_tail}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="Benchmark authaudit's log report against pflogsumm on a synthetic maillog."
    )
    parser.add_argument("--mb", type=float, default=logsynth.DEFAULT_MB, help="log size in MB")
    parser.add_argument("--seed", type=int, default=logsynth.DEFAULT_SEED, help="generator seed")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help=f"where files go (default {DEFAULT_WORKDIR})")
    parser.add_argument("--keep", action="store_true",
                        help="keep the log (as a cache for later runs) and authaudit's output")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each tool N times (best and median are shown)")
    parser.add_argument("--no-pflogsumm", action="store_true", help="skip pflogsumm")
    parser.add_argument("--no-authaudit", action="store_true", help="skip authaudit")
    parser.add_argument("--pflogsumm", default=shutil.which("pflogsumm")
                        or ("/usr/sbin/pflogsumm" if Path("/usr/sbin/pflogsumm").exists()
                            else None), help="pflogsumm program")
    parser.add_argument("--authaudit-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for authaudit (repeatable)")
    args = parser.parse_args(argv)

    log = prepare_log(args.workdir, args.mb, args.seed)
    warm_cache(log.path)
    runs: list[Run] = []
    outputs: list[Path] = []
    correctness: str | None = None
    if not args.no_pflogsumm:
        if not args.pflogsumm:
            _note("pflogsumm not found: install it with `apt-get install pflogsumm` "
                  "(or `make bench-logs`); skipping it")
        else:
            runs.append(run_tool("pflogsumm", [args.pflogsumm, str(log.path)], Path(os.devnull),
                                 args.workdir, repeat=args.repeat, ok_codes=(0,)))
    if not args.no_authaudit:
        out = args.workdir / f"{log.path.stem}.authaudit.json"
        outputs.append(out)
        found = authaudit_argv(log.path, out, int(log.truth["year"]), args.authaudit_arg)
        if found is None:
            _note("authaudit has neither `report --logs` nor `logs` yet: running pflogsumm only")
        else:
            cmd, own_file = found
            stdout = Path(os.devnull) if own_file else out
            # exit 1 only means "findings at or above --fail-on": the output is complete
            run = run_tool("authaudit", cmd, stdout, args.workdir, repeat=args.repeat,
                           ok_codes=(0, 1))
            runs.append(run)
            if not run.error:
                correctness = check_incidents(out, log.truth)
    rep = report(log, runs, correctness)
    if args.json:
        _out(json.dumps(rep, indent=1, default=str))
    else:
        print_report(rep, runs)
    if not args.keep:
        for path in outputs:
            path.unlink(missing_ok=True)
        if log.created:
            log.path.unlink(missing_ok=True)
            logsynth.truth_path_for(log.path).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
