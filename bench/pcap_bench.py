"""Benchmark ``authaudit pcap`` against tshark on a large synthetic capture with known truth.

One run generates (or reuses) the capture from :mod:`bench.synth`, then runs, one after the other
on a warm page cache:

a. ``authaudit pcap --format jsonl --show-secrets --no-crack CAPTURE`` (decoding only, the job
   tshark does; ``--crack`` adds the offline cracking of the challenge-response exchanges,
   which tshark does not do at all);
b. tshark in one pass with the reference AUTH filter and fields of
   ``shared/pcaps-public/README.md`` (``-o smtp.decryption:TRUE``), plus
   ``ntlmssp.messagetype == 3`` in the filter and the two NTLMSSP user fields so that NTLM
   usernames can be counted;
c. the same with ``-d tcp.port==2525,smtp -o tcp.reassemble_out_of_order:TRUE`` (the fairest
   tshark variant).

For each it prints wall time, packets/s, MB/s, CPU time and the peak RSS of the child (from
``wait4``; a sampled peak over the child's whole process tree is given too), then the recall of
each against the ground truth and PASS/MISS against the targets: at least 5x faster than tshark's
one pass, max RSS at most 150 MB, 100 % recall, no false credentials. It always exits 0 unless the
command line is wrong: it measures, it does not judge.

Usage: ``python bench/pcap_bench.py [--sessions N] [--seed S] [--workdir DIR] [--keep] [--json]
[--repeat N] [--no-tshark] [--no-authaudit] [--authaudit-arg ARG]``. Without ``--keep`` the files
made by the run are deleted at the end; with it the capture stays in the work directory and later
runs with the same parameters reuse it.
"""

from __future__ import annotations

import argparse
import binascii
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from tabulate import tabulate

_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from bench import synth  # noqa: E402
from bench.common import fmt as _fmt  # noqa: E402
from bench.common import note as _note  # noqa: E402
from bench.common import out as _out  # noqa: E402
from bench.common import verdict as _verdict  # noqa: E402
from bench.common import warm_cache  # noqa: E402

SPEEDUP_TARGET: Final = 5.0
RSS_TARGET_MB: Final = 150.0
DEFAULT_WORKDIR: Final = Path("/tmp/authaudit-bench")

AUTH_FILTER: Final = (
    'smtp.req.command == "AUTH" || smtp.auth.username || smtp.auth.password || '
    "smtp.auth.username_password || smtp.response.code == 334 || smtp.response.code==235 || "
    "smtp.response.code==535 || smtp.response.code==454 || smtp.response.code==504 || "
    "smtp.response.code==530 || smtp.response.code==534 || smtp.response.code==503 || "
    'smtp.req.command == "STAR" || smtp.req.command == "STARTTLS"'
)
"""The display filter of the reference command in shared/pcaps-public/README.md."""
NTLM_FILTER: Final = " || ntlmssp.messagetype == 0x00000003"
TSHARK_FIELDS: Final = (
    "frame.number",
    "tcp.stream",
    "ip.src",
    "ipv6.src",
    "tcp.srcport",
    "tcp.dstport",
    "smtp.req.command",
    "smtp.req.parameter",
    "smtp.auth.username",
    "smtp.auth.password",
    "smtp.auth.username_password",
    "smtp.response.code",
    "smtp.rsp.parameter",
    "ntlmssp.auth.domain",
    "ntlmssp.auth.username",
)
_AGGREGATOR: Final = "\x1f"
"""Joins several occurrences of a field in one frame (a comma could be part of a password)."""
_CLEARTEXT: Final = frozenset({"LOGIN", "PLAIN"})

_FlowKey = tuple[str, int, str, int]



# --------------------------------------------------------------------------------------------
# The capture
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Capture:
    """The synthetic capture, its ground truth and how it was made."""

    path: Path
    packets: int
    size: int
    sessions: int
    seed: int
    generated_s: float | None
    """Generation time in this run, or None when the capture was reused from the cache."""
    truth: list[synth.TruthRow]
    tls: list[synth.TlsRow]
    created: bool
    stats: dict[str, Any] = field(default_factory=dict)


def prepare_capture(workdir: Path, sessions: int, seed: int) -> Capture:
    """Reuse the cached capture for these parameters, or generate it."""
    workdir.mkdir(parents=True, exist_ok=True)
    stem = f"synth-v{synth.GENERATOR_VERSION}-n{sessions}-s{seed}"
    path = workdir / f"{stem}.pcap"
    meta_path = workdir / f"{stem}.meta.json"
    truth_path = synth.truth_path_for(path)
    tls_path = synth.tls_path_for(path)
    if meta_path.exists() and path.exists() and truth_path.exists() and tls_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("size") == path.stat().st_size:
            _note(f"reusing {path}")
            return Capture(
                path=path,
                packets=int(meta["packets"]),
                size=int(meta["size"]),
                sessions=sessions,
                seed=seed,
                generated_s=None,
                truth=synth.read_truth(truth_path),
                tls=synth.read_tls(tls_path),
                created=False,
                stats=dict(meta),
            )
    _note(f"generating {path} ({sessions:,} SMTP sessions, seed {seed}) ...")
    started = time.perf_counter()
    res = synth.generate(path, synth.SynthConfig(sessions=sessions, seed=seed))
    took = time.perf_counter() - started
    stats: dict[str, Any] = {
        "packets": res.packets,
        "size": res.size,
        "smtp_sessions": res.smtp_sessions,
        "smtp_packets": res.smtp_packets,
        "http_flows": res.http_flows,
        "http_packets": res.http_packets,
        "retransmitted": res.retransmitted,
        "reordered": res.reordered,
        "duration_s": res.duration_s,
        "auth_attempts": len(res.truth),
        "starttls_sessions": len(res.tls),
        "generated_s": round(took, 2),
    }
    meta_path.write_text(json.dumps(stats, indent=1), encoding="utf-8")
    _note(f"generated {res.packets:,} packets, {res.size / 1e6:.1f} MB in {took:.1f} s")
    return Capture(
        path=path,
        packets=res.packets,
        size=res.size,
        sessions=sessions,
        seed=seed,
        generated_s=took,
        truth=res.truth,
        tls=res.tls,
        created=True,
        stats=stats,
    )



# --------------------------------------------------------------------------------------------
# Running and measuring a child
# --------------------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                kids.extend(int(k) for k in fh.read().split())
        except (OSError, ValueError):
            continue
    return kids


class TreeRssSampler:
    """Samples the summed RSS of a process and its descendants, keeping the peak.

    ``wait4`` reports the peak of the largest single process; a tool that splits work over
    several processes needs the sum, which only sampling can give (shared pages count twice).
    """

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = 0
            todo = [self.pid]
            while todo:
                pid = todo.pop()
                total += _rss_kb(pid)
                todo.extend(_children(pid))
            self.peak_kb = max(self.peak_kb, total)
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Begin sampling in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self._stop.set()
        self._thread.join()


@dataclass(slots=True)
class RunResult:
    """How one child process did."""

    name: str
    argv: list[str]
    returncode: int | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    """User plus system time of the child and everything it waited for."""
    max_rss_mb: float | None = None
    """Peak resident set of the child (largest single process), from wait4."""
    tree_rss_mb: float | None = None
    """Sampled peak of the summed RSS of the child's process tree."""
    output: str = ""
    stderr_tail: str = ""
    error: str = ""
    walls_s: list[float] = field(default_factory=list)
    """Wall time of every repetition; ``wall_s`` is the fastest."""

    @property
    def ok(self) -> bool:
        """Whether the run produced output worth scoring."""
        return self.wall_s is not None and not self.error


def run_repeated(
    name: str,
    argv: list[str],
    out_path: Path,
    *,
    cwd: Path,
    repeat: int,
    ok_codes: Iterable[int] = (0,),
) -> RunResult:
    """Run ``repeat`` times; keep the fastest run, with the largest RSS seen in any of them."""
    best: RunResult | None = None
    walls: list[float] = []
    rss = tree = 0.0
    for _ in range(max(1, repeat)):
        run = run_measured(name, argv, out_path, cwd=cwd, ok_codes=ok_codes)
        if run.wall_s is None or run.error:
            return run
        walls.append(run.wall_s)
        rss = max(rss, run.max_rss_mb or 0.0)
        tree = max(tree, run.tree_rss_mb or 0.0)
        if best is None or (best.wall_s is not None and run.wall_s < best.wall_s):
            best = run
    assert best is not None
    best.walls_s = walls
    best.max_rss_mb = rss
    best.tree_rss_mb = tree or None
    return best


def run_measured(
    name: str, argv: list[str], out_path: Path, *, cwd: Path, ok_codes: Iterable[int] = (0,)
) -> RunResult:
    """Run ``argv`` with stdout to ``out_path``; measure wall time, CPU and peak RSS."""
    result = RunResult(name=name, argv=argv, output=str(out_path))
    err_path = out_path.with_suffix(out_path.suffix + ".stderr")
    _note(f"running {name}: {' '.join(argv)}")
    try:
        with out_path.open("wb") as out, err_path.open("wb") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd)
            sampler = TreeRssSampler(proc.pid)
            sampler.start()
            _pid, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
            sampler.stop()
            proc.returncode = os.waitstatus_to_exitcode(status)
    except OSError as exc:
        result.error = f"could not start: {exc}"
        return result
    result.returncode = proc.returncode
    result.wall_s = wall
    result.cpu_s = usage.ru_utime + usage.ru_stime
    result.max_rss_mb = usage.ru_maxrss / 1024  # Linux reports KiB
    result.tree_rss_mb = sampler.peak_kb / 1024 if sampler.peak_kb else None
    stderr = err_path.read_bytes()
    result.stderr_tail = stderr[-2000:].decode("utf-8", "replace")
    err_path.unlink()
    if proc.returncode not in set(ok_codes):
        result.error = f"exit status {proc.returncode}"
    _note(
        f"  {name}: {wall:.2f} s wall, {result.max_rss_mb:.0f} MB max RSS, exit {proc.returncode}"
    )
    return result


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def _norm_ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


def truth_by_flow(truth: Sequence[synth.TruthRow]) -> dict[_FlowKey, list[synth.TruthRow]]:
    """Truth rows grouped by flow, in attempt order."""
    flows: dict[_FlowKey, list[synth.TruthRow]] = defaultdict(list)
    for row in truth:
        key = (_norm_ip(row.client_ip), row.client_port, _norm_ip(row.server_ip), row.server_port)
        flows[key].append(row)
    return flows


@dataclass(slots=True)
class Attempt:
    """An AUTH attempt as authaudit reported it (only the fields scored here)."""

    mechanism: str
    username: str
    secret: str
    outcome: str
    reply_code: int | None
    time: str


def _text(value: object) -> str:
    return "" if value is None else str(value)


def parse_authaudit(path: Path) -> tuple[dict[_FlowKey, list[Attempt]], Counter[str], int]:
    """Attempts per flow (ordered by time), a count of every ``kind`` and of unparsable lines."""
    flows: dict[_FlowKey, list[Attempt]] = defaultdict(list)
    kinds: Counter[str] = Counter()
    bad = 0
    with path.open(encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if not isinstance(obj, dict):
                bad += 1
                continue
            kind = _text(obj.get("kind"))
            kinds[kind] += 1
            if kind != "auth_attempt":
                continue
            try:
                key = (
                    _norm_ip(_text(obj["client_ip"])),
                    int(obj["client_port"]),
                    _norm_ip(_text(obj["server_ip"])),
                    int(obj["server_port"]),
                )
            except (KeyError, TypeError, ValueError):
                bad += 1
                continue
            code = obj.get("reply_code")
            flows[key].append(
                Attempt(
                    mechanism=_text(obj.get("mechanism")).upper(),
                    username=_text(obj.get("username")),
                    secret=_text(obj.get("secret")),
                    outcome=_text(obj.get("outcome")),
                    reply_code=int(code)
                    if isinstance(code, int | str) and str(code).isdigit()
                    else None,
                    time=_text(obj.get("time")),
                )
            )
    for attempts in flows.values():
        attempts.sort(key=lambda a: a.time)
    return flows, kinds, bad


@dataclass(slots=True)
class Score:
    """Recall and false positives of one tool against the truth."""

    tool: str
    truth: int = 0
    exact: int = 0
    """Attempts with username, secret and outcome all right."""
    usernames: int = 0
    secrets: int = 0
    outcomes: int = 0
    missed: int = 0
    """Truth attempts with nothing reported at their place."""
    false_credentials: int = 0
    """Reported usernames or secrets that match no attempt in the truth."""
    other_mismatch: int = 0
    """Exact attempts whose mechanism or reply code still differs (authaudit only)."""
    by_mechanism: dict[str, dict[str, int]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)
    scope: str = ""
    """What was scored, when it is not every field of every attempt."""

    def mech(self, mechanism: str) -> dict[str, int]:
        """The per-mechanism counters for ``mechanism``."""
        return self.by_mechanism.setdefault(
            mechanism, {"truth": 0, "exact": 0, "usernames": 0, "secrets": 0}
        )

    def example(self, text: str, limit: int) -> None:
        """Keep ``text`` as an example if fewer than ``limit`` are kept."""
        if len(self.examples) < limit:
            self.examples.append(text)

    @staticmethod
    def pct(part: int, whole: int) -> float:
        """``part`` as a percentage of ``whole`` (100 when there is nothing to find)."""
        return 100.0 * part / whole if whole else 100.0


def score_authaudit(
    truth: Sequence[synth.TruthRow], found: dict[_FlowKey, list[Attempt]], examples: int
) -> Score:
    """Match attempts by flow and order within the flow; compare username, secret, outcome."""
    score = Score(tool="authaudit", truth=len(truth))
    expected = truth_by_flow(truth)
    for key in expected.keys() | found.keys():
        want = expected.get(key, [])
        got = found.get(key, [])
        for i, row in enumerate(want):
            m = score.mech(row.mechanism)
            m["truth"] += 1
            if i >= len(got):
                score.missed += 1
                score.example(f"missed {key} #{i}: {row.mechanism} {row.username!r}", examples)
                continue
            att = got[i]
            user_ok = att.username == row.username
            secret_ok = att.secret == row.secret
            outcome_ok = att.outcome == row.outcome
            score.usernames += user_ok
            score.secrets += secret_ok
            score.outcomes += outcome_ok
            m["usernames"] += user_ok
            m["secrets"] += secret_ok
            if user_ok and secret_ok and outcome_ok:
                score.exact += 1
                m["exact"] += 1
                if att.mechanism != row.mechanism or att.reply_code != row.reply_code:
                    score.other_mismatch += 1
                continue
            wrong = [
                f"{name} {have!r} != {need!r}"
                for name, ok, have, need in (
                    ("username", user_ok, att.username, row.username),
                    ("secret", secret_ok, att.secret, row.secret),
                    ("outcome", outcome_ok, att.outcome, row.outcome),
                )
                if not ok
            ]
            score.example(f"wrong {key} #{i} {row.mechanism}: {'; '.join(wrong)}", examples)
            if not user_ok and att.username:
                score.false_credentials += 1
            elif not secret_ok and att.secret:
                score.false_credentials += 1
        for att in got[len(want) :]:
            if att.username or att.secret:
                score.false_credentials += 1
                score.example(
                    f"false {key}: {att.mechanism} {att.username!r} {att.secret[:40]!r}", examples
                )
    return score


@dataclass(slots=True)
class TsharkFlow:
    """What tshark printed for one SMTP connection."""

    usernames: list[str] = field(default_factory=list)
    passwords: list[str] = field(default_factory=list)
    auth_commands: int = 0


def _plain_blob(value: str) -> tuple[str, str] | None:
    """(user, password) from a PLAIN blob that tshark printed raw (base64)."""
    try:
        raw = binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (ValueError, UnicodeEncodeError):
        return None
    parts = raw.split(b"\0")
    if len(parts) != 3:
        return None
    return parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace")


def parse_tshark(
    path: Path, smtp_ports: Iterable[int]
) -> tuple[dict[tuple[int, int], TsharkFlow], int]:
    """Usernames and passwords per (client port, server port), and the count of bad lines."""
    ports = set(smtp_ports)
    flows: dict[tuple[int, int], TsharkFlow] = defaultdict(TsharkFlow)
    bad = 0
    with path.open(encoding="utf-8", errors="replace", newline="\n") as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) != len(TSHARK_FIELDS):
                bad += 1
                continue
            try:
                sport, dport = int(f[4]), int(f[5])
            except ValueError:
                bad += 1
                continue
            if dport not in ports:
                continue  # a server line: nothing to score
            flow = flows[(sport, dport)]
            if f[6].split(_AGGREGATOR)[0] == "AUTH":
                flow.auth_commands += 1
            users = [v for v in f[8].split(_AGGREGATOR) if v]
            passwords = [v for v in f[9].split(_AGGREGATOR) if v]
            for blob in f[10].split(_AGGREGATOR):
                pair = _plain_blob(blob) if blob else None
                if pair is not None and pair[0] not in users:
                    users.append(pair[0])
                    passwords.append(pair[1])
            domains = f[13].split(_AGGREGATOR)
            for i, user in enumerate(u for u in f[14].split(_AGGREGATOR) if u):
                domain = domains[i] if i < len(domains) else ""
                users.append(f"{domain}\\{user}" if domain else user)
            flow.usernames.extend(users)
            flow.passwords.extend(passwords)
    return flows, bad


def score_tshark(
    name: str,
    truth: Sequence[synth.TruthRow],
    flows: dict[tuple[int, int], TsharkFlow],
    examples: int,
) -> Score:
    """Per truth attempt: was its username printed in its flow, and its password (LOGIN/PLAIN)?

    Printed values are consumed as they match, so each counts once; whatever is left over in a
    flow is a false credential. tshark prints no hash line for CRAM-MD5/NTLM and no XOAUTH2
    fields, so only LOGIN and PLAIN secrets can be found.
    """
    score = Score(
        tool=name,
        truth=len(truth),
        scope="username and secret found in the flow; outcome not scored",
    )
    expected: dict[tuple[int, int], list[synth.TruthRow]] = defaultdict(list)
    for row in truth:
        expected[(row.client_port, row.server_port)].append(row)
    for key in expected.keys() | flows.keys():
        flow = flows.get(key, TsharkFlow())
        users = Counter(flow.usernames)
        passwords = Counter(flow.passwords)
        # Cleartext attempts first: a username printed for a LOGIN/PLAIN attempt must not be
        # used up by an earlier CRAM-MD5 or XOAUTH2 attempt with the same user in the flow.
        for row in sorted(expected.get(key, []), key=lambda r: r.mechanism not in _CLEARTEXT):
            m = score.mech(row.mechanism)
            m["truth"] += 1
            user_ok = users[row.username] > 0
            if user_ok:
                users[row.username] -= 1
            secret_ok = row.mechanism in _CLEARTEXT and passwords[row.secret] > 0
            if secret_ok:
                passwords[row.secret] -= 1
            score.usernames += user_ok
            score.secrets += secret_ok
            m["usernames"] += user_ok
            m["secrets"] += secret_ok
            if user_ok and secret_ok:
                score.exact += 1
                m["exact"] += 1
            if not user_ok and not secret_ok:
                score.missed += 1
            elif row.mechanism in _CLEARTEXT and not (user_ok and secret_ok):
                score.example(
                    f"partial {key} {row.mechanism}: user {'ok' if user_ok else 'MISSING'}, "
                    f"password {'ok' if secret_ok else 'MISSING'}",
                    examples,
                )
        leftovers = [v for v, n in users.items() for _ in range(n)]
        leftovers += [v for v, n in passwords.items() for _ in range(n)]
        score.false_credentials += len(leftovers)
        for value in leftovers[:1]:
            score.example(f"false {key}: {value!r}", examples)
    return score


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------



def build_report(
    capture: Capture,
    runs: list[RunResult],
    scores: dict[str, Score],
    authaudit_kinds: Counter[str],
    tls_found: int | None,
) -> dict[str, Any]:
    """Everything measured, as one JSON-ready dictionary."""
    mb = capture.size / 1e6
    perf: list[dict[str, Any]] = []
    for run in runs:
        row: dict[str, Any] = asdict(run)
        if run.wall_s:
            row["packets_per_s"] = capture.packets / run.wall_s
            row["mb_per_s"] = mb / run.wall_s
        perf.append(row)
    by_name = {r.name: r for r in runs}
    aa = by_name.get("authaudit")
    aa_ok = aa is not None and aa.ok and aa.wall_s is not None
    speedups: dict[str, float] = {}
    for run in runs:
        if run.name != "authaudit" and run.ok and run.wall_s and aa_ok and aa and aa.wall_s:
            speedups[run.name] = run.wall_s / aa.wall_s
    aa_score = scores.get("authaudit")
    rss = None
    if aa_ok and aa is not None and aa.max_rss_mb is not None:
        rss = max(aa.max_rss_mb, aa.tree_rss_mb or 0.0)
    targets = {
        "speedup_vs_tshark_one_pass": {
            "target": f">= {SPEEDUP_TARGET:g}x",
            "value": speedups.get("tshark"),
            "verdict": _verdict(
                None if "tshark" not in speedups else speedups["tshark"] >= SPEEDUP_TARGET,
                "n/a",
            ),
        },
        "max_rss_mb": {
            "target": f"<= {RSS_TARGET_MB:g}",
            "value": rss,
            "verdict": _verdict(None if rss is None else rss <= RSS_TARGET_MB, "n/a"),
        },
        "recall_pct": {
            "target": "100",
            "value": None
            if aa_score is None or not aa_ok
            else Score.pct(aa_score.exact, aa_score.truth),
            "verdict": _verdict(
                None if aa_score is None or not aa_ok else aa_score.exact == aa_score.truth,
                "n/a",
            ),
        },
        "false_credentials": {
            "target": "0",
            "value": None if aa_score is None or not aa_ok else aa_score.false_credentials,
            "verdict": _verdict(
                None if aa_score is None or not aa_ok else aa_score.false_credentials == 0,
                "n/a",
            ),
        },
    }
    return {
        "capture": {
            "path": str(capture.path),
            "packets": capture.packets,
            "size_bytes": capture.size,
            "sessions": capture.sessions,
            "seed": capture.seed,
            "generated_s": capture.generated_s,
            "auth_attempts": len(capture.truth),
            "starttls_sessions": len(capture.tls),
            "stats": capture.stats,
        },
        "runs": perf,
        "speedup_tshark_over_authaudit": speedups,
        "recall": {name: asdict(s) for name, s in scores.items()},
        "authaudit_record_kinds": dict(authaudit_kinds),
        "authaudit_tls_sessions_found": tls_found,
        "targets": targets,
    }


def print_report(report: dict[str, Any], scores: dict[str, Score], runs: list[RunResult]) -> None:
    """The human-readable tables."""
    cap = report["capture"]
    gen = cap["generated_s"]
    _out(
        f"capture: {cap['path']}\n  {cap['packets']:,} packets, {cap['size_bytes'] / 1e6:.1f} MB, "
        f"{cap['auth_attempts']:,} AUTH attempts, {cap['starttls_sessions']:,} STARTTLS sessions, "
        + (f"generated in {gen:.1f} s" if gen is not None else "reused from cache")
    )
    rows = []
    perf = {r["name"]: r for r in report["runs"]}
    speed = report["speedup_tshark_over_authaudit"]
    for run in runs:
        p = perf[run.name]
        rows.append(
            [
                run.name,
                _fmt(run.wall_s, ".2f"),
                _fmt(p.get("packets_per_s"), ",.0f"),
                _fmt(p.get("mb_per_s"), ".1f"),
                _fmt(run.max_rss_mb, ".0f"),
                _fmt(run.tree_rss_mb, ".0f"),
                _fmt(run.cpu_s, ".2f"),
                "-" if run.name == "authaudit" else _fmt(speed.get(run.name), ".2f"),
                run.error or f"ok (exit {run.returncode})",
            ]
        )
    _out()
    _out(
        tabulate(
            rows,
            headers=[
                "run",
                "wall s",
                "pkt/s",
                "MB/s",
                "max RSS MB",
                "tree RSS MB*",
                "CPU s",
                "tshark/authaudit",
                "status",
            ],
            disable_numparse=True,
        )
    )
    _out("  * sampled peak of the summed RSS of the process tree (every 50 ms)")
    rows = []
    for name, s in scores.items():
        rows.append(
            [
                name,
                f"{s.exact:,}/{s.truth:,} ({Score.pct(s.exact, s.truth):.2f} %)",
                f"{Score.pct(s.usernames, s.truth):.2f}",
                f"{Score.pct(s.secrets, s.truth):.2f}",
                "-" if name != "authaudit" else f"{Score.pct(s.outcomes, s.truth):.2f}",
                f"{s.missed:,}",
                f"{s.false_credentials:,}",
            ]
        )
    _out()
    _out(
        tabulate(
            rows,
            headers=[
                "recall",
                "exact attempts",
                "user %",
                "secret %",
                "outcome %",
                "missed",
                "false creds",
            ],
            disable_numparse=True,
        )
    )
    mechs = sorted({m for s in scores.values() for m in s.by_mechanism})
    rows = []
    for mech in mechs:
        row = [mech, f"{next(iter(scores.values())).by_mechanism.get(mech, {}).get('truth', 0):,}"]
        for s in scores.values():
            m = s.by_mechanism.get(mech, {"truth": 0, "usernames": 0, "secrets": 0})
            users = Score.pct(m["usernames"], m["truth"])
            row.append(f"{users:.1f} / {Score.pct(m['secrets'], m['truth']):.1f}")
        rows.append(row)
    _out()
    _out(
        tabulate(
            rows,
            headers=["mechanism", "attempts", *(f"{n} user/secret %" for n in scores)],
            disable_numparse=True,
        )
    )
    if "authaudit" in scores and scores["authaudit"].other_mismatch:
        _out(
            f"  authaudit: {scores['authaudit'].other_mismatch:,} exact attempts "
            "with another mechanism or reply code"
        )
    for name, s in scores.items():
        if s.examples:
            _out(f"\n{name} examples:")
            for ex in s.examples:
                _out(f"  {ex}")
    if report["authaudit_tls_sessions_found"] is not None:
        _out(
            f"\nauthaudit STARTTLS sessions reported: {report['authaudit_tls_sessions_found']:,} "
            f"of {cap['starttls_sessions']:,}"
        )
    _out("\ntargets (authaudit):")
    rows = []
    for name, t in report["targets"].items():
        value = t["value"]
        shown = "-" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)
        rows.append([name, t["target"], shown, t["verdict"]])
    _out(tabulate(rows, headers=["target", "wanted", "measured", "verdict"], disable_numparse=True))
    for run in runs:
        if run.error:
            _out(f"\n{run.name} failed ({run.error}); stderr tail:\n{run.stderr_tail}")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def tshark_argv(tshark: str, capture: Path, *, fair: bool) -> list[str]:
    """The one-pass tshark command; ``fair`` adds Decode-As 2525 and out-of-order reassembly."""
    argv = [tshark, "-o", "smtp.decryption:TRUE"]
    if fair:
        argv += ["-d", "tcp.port==2525,smtp", "-o", "tcp.reassemble_out_of_order:TRUE"]
    argv += ["-r", str(capture), "-Y", AUTH_FILTER + NTLM_FILTER, "-T", "fields"]
    argv += ["-E", "separator=/t", "-E", f"aggregator={_AGGREGATOR}"]
    for name in TSHARK_FIELDS:
        argv += ["-e", name]
    return argv


def _tls_found(path: Path, tls: Sequence[synth.TlsRow]) -> int:
    want = {
        (_norm_ip(r.client_ip), r.client_port, _norm_ip(r.server_ip), r.server_port) for r in tls
    }
    seen: set[_FlowKey] = set()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if '"tls_session"' not in line:
                continue
            try:
                obj = json.loads(line)
                key = (
                    _norm_ip(str(obj["client_ip"])),
                    int(obj["client_port"]),
                    _norm_ip(str(obj["server_ip"])),
                    int(obj["server_port"]),
                )
            except (ValueError, KeyError, TypeError):
                continue
            if key in want:
                seen.add(key)
    return len(seen)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="Benchmark authaudit pcap against tshark on a synthetic capture."
    )
    parser.add_argument(
        "--sessions", type=int, default=synth.DEFAULT_SESSIONS, help="SMTP sessions"
    )
    parser.add_argument("--seed", type=int, default=synth.DEFAULT_SEED, help="generator seed")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help=f"where files go (default {DEFAULT_WORKDIR})",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the capture (as a cache for later runs) and the tool outputs",
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON instead of tables"
    )
    parser.add_argument("--no-tshark", action="store_true", help="skip the tshark runs")
    parser.add_argument("--no-authaudit", action="store_true", help="skip the authaudit run")
    parser.add_argument(
        "--crack",
        action="store_true",
        help="let authaudit also crack the CRAM-MD5/NTLM exchanges (not comparable with tshark)",
    )
    parser.add_argument(
        "--authaudit-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for authaudit pcap (repeatable), e.g. --authaudit-arg=--jobs=2",
    )
    parser.add_argument("--tshark", default=shutil.which("tshark"), help="tshark binary")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run each tool N times and report the fastest (the machine may be shared)",
    )
    parser.add_argument(
        "--examples", type=int, default=5, help="mismatch examples to show per tool"
    )
    args = parser.parse_args(argv)

    workdir: Path = args.workdir
    capture = prepare_capture(workdir, args.sessions, args.seed)
    warm_cache(capture.path)
    outputs: list[Path] = []
    runs: list[RunResult] = []
    scores: dict[str, Score] = {}
    kinds: Counter[str] = Counter()
    tls_found: int | None = None

    if not args.no_authaudit:
        out = workdir / f"{capture.path.stem}.authaudit.jsonl"
        outputs.append(out)
        cmd = [sys.executable, "-m", "authaudit", "pcap", "--format", "jsonl", "--show-secrets"]
        cmd += [] if args.crack else ["--no-crack"]
        cmd += [*args.authaudit_arg, str(capture.path)]
        # Exit 1 only means "findings at or above --fail-on": the output is complete.
        run = run_repeated("authaudit", cmd, out, cwd=_ROOT, repeat=args.repeat, ok_codes=(0, 1))
        runs.append(run)
        if run.wall_s is not None:
            found, kinds, bad = parse_authaudit(out)
            if bad:
                _note(f"authaudit: {bad} output lines could not be parsed")
            if run.returncode != 0 and not kinds:
                run.error = f"exit status {run.returncode} and no JSON records on stdout"
            if not run.error:
                scores["authaudit"] = score_authaudit(capture.truth, found, args.examples)
                tls_found = _tls_found(out, capture.tls)

    if not args.no_tshark:
        if not args.tshark:
            _note("tshark not found: skipping the tshark runs")
        else:
            for name, fair in (("tshark", False), ("tshark-fair", True)):
                out = workdir / f"{capture.path.stem}.{name}.tsv"
                outputs.append(out)
                tshark_cmd = tshark_argv(args.tshark, capture.path, fair=fair)
                run = run_repeated(name, tshark_cmd, out, cwd=_ROOT, repeat=args.repeat)
                runs.append(run)
                if run.ok:
                    flows, bad = parse_tshark(out, synth.SMTP_PORTS)
                    if bad:
                        _note(f"{name}: {bad} output lines could not be parsed")
                    scores[name] = score_tshark(name, capture.truth, flows, args.examples)

    report = build_report(capture, runs, scores, kinds, tls_found)
    if args.json:
        _out(json.dumps(report, indent=1, default=str))
    else:
        print_report(report, scores, runs)

    if not args.keep:
        for path in outputs:
            path.unlink(missing_ok=True)
        if capture.created:
            for path in (
                capture.path,
                synth.truth_path_for(capture.path),
                synth.tls_path_for(capture.path),
                workdir / f"{capture.path.stem}.meta.json",
            ):
                path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
