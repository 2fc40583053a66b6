"""Benchmark authaudit's weak-credential engine against John the Ripper on the same real hashes.

1. A Dovecot passwd-file gets real ``doveadm pw`` hashes (SHA512-CRYPT, MD5-CRYPT, BLF-CRYPT cost
   5, DES-CRYPT), one domain per scheme: planted weak passwords (AA201 the username, three AA202
   variants, AA203 empty, two AA204 wordlist words) among ``--strong`` random ones, plus two
   ``{PLAIN}`` accounts (AA205). John gets the same hashes (``login:hash:uid:gid:gecos:home:``,
   formats ``crypt`` (core John has no sha512crypt of its own; it calls crypt(3)), ``md5crypt``,
   ``bcrypt``, ``descrypt``) and both get the top ``--words`` of the bundled wordlists.
2. One-core speed: authaudit's verifications per CPU second of ``make_verifier`` on one strong
   hash per scheme; John's ``--test`` "virtual" c/s with ``OMP_NUM_THREADS=1`` (for sha512crypt,
   which ``--test`` cannot select, the c/s John reports after a one-thread ``--wordlist`` run).
3. authaudit's default profile over the store with ``--jobs`` processes; John ``--single``
   then ``--wordlist`` on every file with all CPUs (each run stopped after ``--john-timeout``):
   planted passwords found, and wall time.
4. Scaling on even work: ``--scaling-accounts`` (4 x jobs) strong SHA512-CRYPT accounts with a
   0.5 s budget each, 1 vs ``--jobs`` processes, fork server warmed up.

PASS/MISS against the targets: >= 0.8x John's per-core rate per scheme, parallel efficiency
(speed-up / jobs) >= 0.8, every planted AA201-AA205 account found by the default profile. It
measures, it does not judge: the exit status is 0 unless the command line is wrong.

Core John keeps its pot in ``~/.john`` of the passwd entry (it ignores ``$HOME``, has no
``--pot``): as root it runs in a private mount namespace (``unshare --mount``) with a directory of
the work directory bound over that home, so nothing outside the work directory is touched;
otherwise the report says the real pot grew.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import re
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from tabulate import tabulate

_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from authaudit.accounts.dovecot import DovecotPasswdSource  # noqa: E402
from authaudit.accounts.schemes import identify, make_verifier  # noqa: E402
from authaudit.cpus import usable_cpus  # noqa: E402
from authaudit.guess import GuessOptions, guess_accounts  # noqa: E402
from authaudit.model import Account, FoundBy  # noqa: E402
from authaudit.redact import Secret, SecretKind  # noqa: E402
from authaudit.wordlists import bundled_wordlists, load_wordlists  # noqa: E402

RATE_TARGET: Final = 0.8
EFFICIENCY_TARGET: Final = 0.8
SCHEMES: Final = {
    # Dovecot scheme: (domain tag, John format, how John's one-core rate is measured)
    "SHA512-CRYPT": ("sha512", "crypt", "run"),
    "MD5-CRYPT": ("md5", "md5crypt", "test"),
    "BLF-CRYPT": ("blf", "bcrypt", "test"),
    "DES-CRYPT": ("des", "descrypt", "test"),
}
EXPECTED: Final = {"AA201": FoundBy.USERNAME, "AA202": FoundBy.VARIANT, "AA203": FoundBy.EMPTY}
EXPECTED["AA204"] = FoundBy.WORDLIST
_JOHN_CS = re.compile(r"^(?:Raw|Many salts):\s+\d+K? c/s real, (\d+)(K?) c/s virtual", re.MULTILINE)
_JOHN_STATUS_CS = re.compile(r"\s(\d+(?:\.\d+)?)(K?)c/s\s")


Row = dict[str, Any]
"""One JSON object of the report."""


@dataclass(frozen=True, slots=True)
class Planted:
    """One account of the bench store and the check its password should trigger."""

    login: str
    password: str
    stored: str
    """The passwd-file password field (``{SCHEME}hash``)."""
    scheme: str
    check: str
    """``AA201``..``AA205`` for planted weak passwords, ``strong`` for the others."""
    gecos: str = ""


@dataclass
class Report:
    """Everything the run measured, as printed and as ``--json``."""

    jobs: int
    words: int
    accounts: int
    rates: list[Row] = field(default_factory=list)
    authaudit: Row = field(default_factory=dict)
    john: Row = field(default_factory=dict)
    scaling: Row = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _weak_set(year: int) -> list[tuple[str, str, str, str]]:
    """(user, password, check, gecos) of the planted weak accounts of one scheme."""
    return [
        ("sales", "sales", "AA201", ""),
        ("jsmith", "jsmith123", "AA202", "John Smith"),
        ("office", f"Office{year - 1}", "AA202", ""),
        ("mike", "ekim", "AA202", "Mike"),
        ("guest", "", "AA203", ""),
        ("info", "letmein", "AA204", ""),
        ("web", "dragon", "AA204", ""),
    ]


def _strong() -> str:
    alphabet = string.ascii_letters + string.digits + "#%&*+-=?@^_"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def doveadm_pw(scheme: str, password: str) -> str:
    """``{SCHEME}hash`` from ``doveadm pw``."""
    out = subprocess.run(
        ["doveadm", "pw", "-s", scheme, "-p", password], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def build_store(workdir: Path, schemes: Sequence[str], strong: int, year: int) -> list[Planted]:
    """Write ``users`` (passwd-file) and the John files; return what was planted."""
    planted: list[Planted] = []
    for scheme in schemes:
        tag = SCHEMES[scheme][0]
        rows = [*_weak_set(year), *((f"user{i}", _strong(), "strong", "") for i in range(strong))]
        for user, password, check, gecos in rows:
            stored = doveadm_pw(scheme, password)
            login = f"{user}@{tag}-example.org"
            planted.append(Planted(login, password, stored, scheme, check, gecos))
    for user, password in (("plain", _strong()), ("test", "test")):
        login = f"{user}@plain-example.org"
        planted.append(Planted(login, password, "{PLAIN}" + password, "PLAIN", "AA205"))
    lines = [f"{p.login}:{p.stored}:1000:1000:{p.gecos}:{_home(p.login)}::" for p in planted]
    (workdir / "users").write_text("\n".join(lines) + "\n")
    for scheme in schemes:
        mine = [p for p in planted if p.scheme == scheme]
        text = "".join(
            f"{p.login}:{p.stored.split('}', 1)[1]}:1000:1000:{p.gecos}:{_home(p.login)}:\n"
            for p in mine
        )
        (workdir / f"john-{SCHEMES[scheme][0]}.pw").write_text(text)
    return planted


def _home(login: str) -> str:
    user, _, domain = login.partition("@")
    return f"/var/mail/{domain}/{user}"


def authaudit_rate(scheme: str, seconds: float) -> float:
    """Verifications per CPU second of one strong ``scheme`` hash, on this process's core."""
    verify = make_verifier(identify(doveadm_pw(scheme, _strong())))
    assert verify is not None
    n, start = 0, time.process_time()
    while True:
        for i in range(64):
            verify(f"rate{n + i}")
        n += 64
        spent = time.process_time() - start
        if spent >= seconds:
            return n / spent


class John:
    """Runs core John the Ripper with its state (pot, sessions) kept in the work directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.home = workdir / "john-home"
        self.home.mkdir(exist_ok=True)
        self.private = os.geteuid() == 0 and shutil.which("unshare") is not None
        self.timeout: float | None = None
        self.stopped: list[str] = []
        """Runs ended by the timeout (their cracks so far are in the pot)."""

    def cmd(self, *args: str) -> list[str]:
        """The command line running ``john args`` (in a private mount namespace as root)."""
        if not self.private:
            return ["john", *args]
        real_home = pwd.getpwuid(os.getuid()).pw_dir
        script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
        binding = ["sh", "-c", script, "sh", str(self.home), real_home]
        return ["unshare", "--mount", "--propagation", "private", *binding, "john", *args]

    def run(self, *args: str, threads: int | None = None) -> tuple[str, float]:
        """(output, wall seconds) of one John run, stopped after ``self.timeout`` seconds."""
        env = dict(os.environ)
        if threads is not None:
            env["OMP_NUM_THREADS"] = str(threads)
        wall = time.perf_counter()
        try:
            out = subprocess.run(
                self.cmd(*args),
                capture_output=True,
                text=True,
                env=env,
                cwd=self.workdir,
                check=False,
                timeout=self.timeout,
            )
            text = out.stdout + out.stderr
        except subprocess.TimeoutExpired as exc:
            self.stopped.append(" ".join(args[:2]))
            text = str(exc.stdout or "") + str(exc.stderr or "")
        return text, time.perf_counter() - wall

    def test_rate(self, fmt: str, seconds: int) -> float | None:
        """c/s per CPU second from ``john --test`` ("virtual"), one thread."""
        text, _ = self.run(f"--test={seconds}", f"--format={fmt}", threads=1)
        m = _JOHN_CS.search(text)
        if m is None:
            return None
        return float(m.group(1)) * (1000 if m.group(2) else 1)

    def run_rate(self, scheme: str, fmt: str, count: int) -> float | None:
        """c/s of a one-thread ``--wordlist`` run of ``count`` words on one strong hash, from
        John's final status line (its own clock, start-up and self-test excluded)."""
        pw = self.workdir / "john-rate.pw"
        pw.write_text(f"rate:{doveadm_pw(scheme, _strong()).split('}', 1)[1]}\n")
        words = self.workdir / "john-rate.lst"
        words.write_text("".join(f"rate{i}\n" for i in range(count)))
        session = f"--session={self.workdir / 'john-rate'}"
        text, _ = self.run(f"--wordlist={words}", f"--format={fmt}", session, str(pw), threads=1)
        found = _JOHN_STATUS_CS.findall(text)
        if not found:
            return None
        value, kilo = found[-1]
        return float(value) * (1000 if kilo else 1)

    def crack(self, tag: str, fmt: str, words: Path) -> tuple[set[str], float]:
        """Logins John cracks with --single then --wordlist, and the wall time of both."""
        pw = self.workdir / f"john-{tag}.pw"
        total = 0.0
        for mode in ("--single", f"--wordlist={words}"):
            session = f"--session={self.workdir / f'john-{tag}-{mode[2:8]}'}"
            _, wall = self.run(mode, f"--format={fmt}", session, str(pw))
            total += wall
        shown, _ = self.run("--show", f"--format={fmt}", str(pw))
        cracked = {line.split(":", 1)[0] for line in shown.splitlines() if line.count(":") >= 6}
        return cracked, total


def run_authaudit(store: Path, words: Sequence[str], jobs: int, planted: list[Planted]) -> Row:
    """Default profile over the store: wall time and what it found of the planted accounts."""
    accounts = [r for r in DovecotPasswdSource(store).collect() if isinstance(r, Account)]
    start = time.perf_counter()
    results = guess_accounts(accounts, GuessOptions(wordlist=words, jobs=jobs))
    wall = time.perf_counter() - start
    by_login = {r.account.address: r for r in results}
    found, wrong = [], []
    for p in planted:
        r = by_login[p.login]
        if p.check == "strong" or r.password is None:
            continue
        found.append(p.login)
        if p.check in EXPECTED and r.found_by is not EXPECTED[p.check]:
            wrong.append(f"{p.login}: {r.found_by}")
    return {"wall_s": round(wall, 2), "found": sorted(found), "misclassified": wrong}


def run_scaling(jobs: int, accounts: int) -> Row:
    """Wall time of the same hashing work (``accounts`` strong SHA512-CRYPT accounts, 0.5 s
    budget each) with 1 and ``jobs`` processes, after a warm-up that starts the fork server."""
    stored = [doveadm_pw("SHA512-CRYPT", _strong()) for _ in range(accounts)]
    users = [
        Account(source="scaling", store="dovecot-passwd", location=f"scaling:{i}",
                address=f"user{i}@scale-example.org", username=f"user{i}",
                domain="scale-example.org", password_hash=Secret(s, SecretKind.HASH))
        for i, s in enumerate(stored)
    ]  # fmt: skip
    words = [f"scale{i}" for i in range(2000)]
    warm = GuessOptions(wordlist=(), jobs=jobs, pool_min_seconds=0.0, budget_seconds_per_account=0)
    guess_accounts(users[:2], warm)
    walls = {}
    for n in (1, jobs):
        options = GuessOptions(wordlist=words, jobs=n, budget_seconds_per_account=0.5)
        start = time.perf_counter()
        guess_accounts(users, options)
        walls[n] = time.perf_counter() - start
    speedup = walls[1] / walls[jobs]
    return {
        "accounts": accounts,
        "jobs_1_s": round(walls[1], 2),
        f"jobs_{jobs}_s": round(walls[jobs], 2),
        "speedup": round(speedup, 2),
        "efficiency": round(speedup / jobs, 2),
    }


def _found_counts(found: set[str] | list[str], planted: list[Planted]) -> dict[str, str]:
    out = {}
    for check in ("AA201", "AA202", "AA203", "AA204", "AA205"):
        mine = [p.login for p in planted if p.check == check]
        hit = sum(1 for login in mine if login in found)
        out[check] = f"{hit}/{len(mine)}"
    return out


def _rate_row(scheme: str, args: argparse.Namespace, john: John | None) -> Row:
    """One scheme's one-core speed for both tools."""
    _, fmt, how = SCHEMES[scheme]
    ours = authaudit_rate(scheme, args.rate_seconds)
    theirs = None
    if john is not None and how == "test":
        theirs = john.test_rate(fmt, args.john_test_seconds)
    elif john is not None:
        theirs = john.run_rate(scheme, fmt, max(100, int(800 * args.rate_seconds)))
    ratio = round(ours / theirs, 3) if theirs else None
    return {
        "scheme": scheme,
        "authaudit_per_core": round(ours),
        "john_per_core": None if theirs is None else round(theirs),
        "john_source": f"--test --format={fmt}" if how == "test" else f"{fmt} run",
        "ratio": ratio,
        "verdict": "n/a" if ratio is None else "PASS" if ratio >= RATE_TARGET else "MISS",
    }


def _john_crack(john: John, schemes: list[str], words: Path, planted: list[Planted]) -> Row:
    cracked: set[str] = set()
    per: Row = {}
    for scheme in schemes:
        tag, fmt, _ = SCHEMES[scheme]
        got, seconds = john.crack(tag, fmt, words)
        cracked |= got
        per[scheme] = {"wall_s": round(seconds, 2), "cracked": len(got)}
    found = _found_counts(cracked, planted)
    found["AA205"] = "n/a"  # {PLAIN} values are not hashes: nothing for John to crack
    wall = round(sum(v["wall_s"] for v in per.values()), 2)
    return {"wall_s": wall, "per_scheme": per, "found": sorted(cracked), "found_counts": found}


def measure(args: argparse.Namespace, workdir: Path) -> Report:
    """Build the store, run both tools, fill a :class:`Report`."""
    schemes = [s.strip().upper() for s in args.schemes.split(",") if s.strip()]
    planted = build_store(workdir, schemes, args.strong, datetime.now(UTC).year)
    words = load_wordlists(bundled_wordlists())[: args.words]
    words_file = workdir / "words.lst"
    words_file.write_text("\n".join(words) + "\n")
    jobs = args.jobs or usable_cpus()
    if args.scaling_accounts < 0:
        args.scaling_accounts = 4 * jobs
    report = Report(jobs=jobs, words=len(words), accounts=len(planted))
    john = None if args.no_john or shutil.which("john") is None else John(workdir)
    if john is not None:
        john.timeout = args.john_timeout
        if not john.private:
            report.notes.append("John ran without a private mount namespace: ~/.john grew")
    report.rates = [_rate_row(scheme, args, john) for scheme in schemes]
    many = run_authaudit(workdir / "users", words, jobs, planted)
    report.authaudit = {**many, "found_counts": _found_counts(many["found"], planted)}
    missed = sorted({p.login for p in planted if p.check != "strong"} - set(many["found"]))
    ok = not missed and not many["misclassified"]
    report.verdicts["planted AA201-AA205 found by default profile"] = (
        "PASS" if ok else f"MISS {missed} {many['misclassified']}"
    )
    if jobs > 1 and args.scaling_accounts:
        report.scaling = run_scaling(jobs, args.scaling_accounts)
        efficient = report.scaling["efficiency"] >= EFFICIENCY_TARGET
        report.verdicts[f"parallel efficiency >= {EFFICIENCY_TARGET} (scaling run)"] = (
            "PASS" if efficient else "MISS"
        )
    for rate in report.rates:
        report.verdicts[f"{rate['scheme']} >= {RATE_TARGET}x John per core"] = rate["verdict"]
    if john is not None:
        report.john = _john_crack(john, schemes, words_file, planted)
        report.notes += [f"John stopped by --john-timeout: {run}" for run in john.stopped]
    return report


_RATE_COLUMNS = ("scheme", "authaudit_per_core", "john_per_core", "john_source", "ratio", "verdict")
_RATE_HEADERS = ("scheme", "authaudit", "John", "John figure", "ratio", f">= {RATE_TARGET}")
_FOUND_HEADERS = ("", "AA201", "AA202", "AA203", "AA204", "AA205", "wall s")


def render(report: Report) -> str:
    """The human-readable report."""
    aa, scaling = report.authaudit, report.scaling
    rows = [[f"authaudit, {report.jobs} processes", *aa["found_counts"].values(), aa["wall_s"]]]
    if report.john:
        john = report.john
        rows.append(["John --single, --wordlist", *john["found_counts"].values(), john["wall_s"]])
    out = [
        f"accounts: {report.accounts}, wordlist: top {report.words}, jobs: {report.jobs}",
        "",
        "one core, verifications per CPU second:",
        tabulate([[r[k] for k in _RATE_COLUMNS] for r in report.rates], headers=_RATE_HEADERS),
        "",
        "planted weak passwords found (all schemes) and wall time:",
        tabulate(rows, headers=_FOUND_HEADERS),
        "",
        f"scaling run: {scaling.get('accounts', 0)} accounts, {scaling.get('jobs_1_s')} s with 1 "
        f"process, {scaling.get(f'jobs_{report.jobs}_s')} s with {report.jobs}: speed-up "
        f"{scaling.get('speedup')}",
        "",
        *(f"{verdict:6} {target}" for target, verdict in report.verdicts.items()),
        *(f"note: {n}" for n in report.notes),
    ]
    return "\n".join(out) + "\n"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    p.add_argument("--strong", type=int, default=2, help="strong accounts per scheme (2)")
    p.add_argument("--words", type=int, default=2000, help="top wordlist entries used (2000)")
    p.add_argument("--jobs", type=int, default=0, help="processes for the parallel run (all)")
    p.add_argument("--schemes", default=",".join(SCHEMES), help="comma-separated schemes")
    p.add_argument(
        "--scaling-accounts", type=int, default=-1, help="accounts in the scaling run (4 x jobs)"
    )
    p.add_argument("--rate-seconds", type=float, default=3.0, help="CPU seconds per rate (3)")
    p.add_argument("--john-test-seconds", type=int, default=5, help="john --test=N (5)")
    p.add_argument("--john-timeout", type=float, default=600.0, help="seconds per John run")
    p.add_argument("--no-john", action="store_true", help="do not run John the Ripper")
    p.add_argument("--workdir", type=Path, help="keep files here (default: a temporary dir)")
    p.add_argument("--keep", action="store_true", help="do not delete the work directory")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; always 0 unless the command line is wrong."""
    args = _parser().parse_args(argv)
    unknown = [s for s in args.schemes.split(",") if s.strip().upper() not in SCHEMES]
    if unknown or shutil.which("doveadm") is None:
        sys.stderr.write(f"accounts_bench: unknown schemes {unknown} or no doveadm\n")
        return 2
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="authaudit-accounts-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        report = measure(args, workdir)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.stdout.write(json.dumps(asdict(report), indent=2) + "\n" if args.json else render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
