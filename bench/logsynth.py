"""Deterministic generator of a large synthetic Debian maillog (Postfix + Dovecot) with one
planted incident and exact ground truth.

The log is what ``/var/log/mail.log`` of a small hosting company's mail server (host ``mx1``,
a few hundred mailboxes in a few dozen domains) looks like over two days, with RFC 3164 yearless
stamps:

* authenticated submissions (port 587 and 25) from each user's 1-3 usual addresses:
  ``client=… sasl_username=…`` → cleanup → opendkim → qmgr ``from=`` → ``smtp to=`` → ``removed``;
  about a third go through amavis (10024 out, re-queued on 10025 as a new queue id with
  ``orig_queue_id=``); inbound mail through postscreen to Dovecot LMTP or Postfix ``virtual``;
* thousands of deferred messages (greylisting, full mailboxes, dead domains) with retries on
  Postfix's backoff schedule; dead domains expire after a day (``maximal_queue_lifetime = 1d``)
  and bounce; hard bounces with non-delivery notifications;
* SASL brute force bursts from random IPs; the Postfix 3.7 → 3.9 upgrade at 40 % of the log
  changes the failure line from ``…failed: UGFzc3dvcmQ6`` to ``…, sasl_username=NAME``;
  a password spray (one IP, many accounts); relay attempts (``Relay access denied``);
  postscreen, dnsblog, anvil, TLS, connect/disconnect noise; Dovecot IMAP/POP3 logins,
  logouts and failures; cron (uid 0) and an abused contact form (uid 33, ``www-data``)
  queuing mail through ``pickup``;
* the planted incident: ``test@`` a hosted domain is brute-forced from six botnet IPs, one of
  them logs in and sends a test message, then the whole botnet (hundreds of IPs over many /16
  networks) relays spam through the account for six hours to hundreds of foreign domains, most
  of it deferred or bounced.

Queue ids are Postfix-style hex (microseconds + inode), unique while the message is queued and
occasionally reused afterwards. The truth (``OUT.truth.json``) holds the planted account, its IP,
message, recipient and domain counts, the spray IP, the brute-forced users, the local injection
and totals. The file's mtime is set just after its last line so that year inference finds the
right year. The same seed and size always give the same bytes.

Usage: ``python bench/logsynth.py OUT [--mb 120 | --lines 5000] [--seed 1] [--days 2]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

_ROOT: Final = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from bench.logsynth_core import Gen  # noqa: E402
from bench.logsynth_plan import Incident, plan  # noqa: E402
from bench.logsynth_world import build_world  # noqa: E402

__all__ = [
    "DEFAULT_MB",
    "DEFAULT_SEED",
    "GENERATOR_VERSION",
    "LogSynthConfig",
    "LogSynthResult",
    "generate",
    "main",
    "truth_path_for",
]

GENERATOR_VERSION: Final = 1
"""Bumped whenever the bytes produced for a given seed and size change (the bench caches on it)."""
DEFAULT_SEED: Final = 1
DEFAULT_MB: Final = 120.0
DEFAULT_START: Final = datetime(2026, 10, 5, tzinfo=UTC)
LINES_PER_MB: Final = 6170
"""Calibrated: the lines of a 120 MB log, divided by 120 (the ``--lines`` of ``--mb``)."""
_LINES_PER_DAY: Final = 442_000
"""Ordinary traffic at ``per_day = 1`` gives about this many lines a day."""
_REFERENCE_LINES: Final = 740_000
"""The 120 MB default, where the world and the incident have their full size."""


@dataclass(frozen=True, slots=True)
class LogSynthConfig:
    """Size, seed and time span of a log."""

    mb: float = DEFAULT_MB
    lines: int | None = None
    """Approximate line count; overrides ``mb`` (the small mode for tests)."""
    seed: int = DEFAULT_SEED
    days: float = 2.0
    start: datetime = DEFAULT_START

    @property
    def target_lines(self) -> int:
        """The line count aimed at."""
        return self.lines if self.lines is not None else round(self.mb * LINES_PER_MB)


@dataclass(slots=True)
class LogSynthResult:
    """What was written."""

    path: Path
    lines: int
    size: int
    truth: dict[str, Any] = field(default_factory=dict)


def truth_path_for(path: Path) -> Path:
    """Where the ground truth of log ``path`` is written."""
    return path.with_name(path.name + ".truth.json")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _slash16(ip: str) -> str:
    a, b, _, _ = ip.split(".")
    return f"{a}.{b}.0.0/16"


def _truth(cfg: LogSynthConfig, g: Gen, inc: Incident, spray: dict[str, object],
           web: dict[str, object], path: Path) -> dict[str, Any]:
    world, tr = g.world, g.truth
    planted = world.planted
    users = dict(sorted(tr.brute_force_users.items(), key=lambda kv: (-kv[1], kv[0])))
    web_tally = web.pop("tally")
    assert isinstance(web_tally, dict)
    return {
        "generator": "bench/logsynth.py",
        "version": GENERATOR_VERSION,
        "seed": cfg.seed,
        "target_lines": cfg.target_lines,
        "file": path.name,
        "lines": g.lines,
        "bytes": g.bytes,
        "year": cfg.start.year,
        "start": _iso(g.start),
        "end": _iso(g.end),
        "host": world.host,
        "fqdn": world.fqdn,
        "domains": len(world.domains),
        "users": len(world.users),
        "postfix_upgrade": _iso(g.upgrade),
        "planted": {
            "account": planted.address,
            "domain": planted.domain,
            "guess_ip": world.guess_ip,
            "guess_ips": world.botnet[:6],
            "failures_before_success": inc.failures_before_success,
            "success_time": _iso(inc.success_time),
            "first_abuse": _iso(inc.first_abuse),
            "last_abuse": _iso(inc.last_abuse),
            "ip_count": len(inc.ips),
            "slash16_count": len({_slash16(ip) for ip in inc.ips}),
            "sessions": inc.sessions,
            "messages": inc.messages,
            "recipients": inc.recipients,
            "distinct_recipients": len(inc.addresses),
            "foreign_domains": len(inc.domains),
            "statuses": dict(sorted(inc.tally.items())),
        },
        "spray": spray,
        "brute_force": {
            "failures_old_form": tr.failures_old_form,
            "failures_new_form": tr.failures_new_form,
            "ips": len(tr.brute_force_ips),
            "users": users,
        },
        "local_injection": {**web, "statuses": dict(sorted(web_tally.items()))},
        "counts": dict(sorted(tr.counts.items())),
        "queue_ids_reused": g.qids.reused,
    }


def generate(path: Path, cfg: LogSynthConfig | None = None) -> LogSynthResult:
    """Write the log to ``path`` and its truth next to it."""
    cfg = cfg or LogSynthConfig()
    rng = random.Random(cfg.seed)
    target = cfg.target_lines
    scale = target / _REFERENCE_LINES
    world = build_world(rng, scale)
    start = cfg.start.timestamp()
    end = start + cfg.days * 86400
    per_day = target / cfg.days / _LINES_PER_DAY
    g = Gen(rng, world, start, end)
    inc = Incident()
    spray: dict[str, object] = {}
    web: dict[str, object] = {}
    entries = plan(rng, world, start, end, per_day, min(scale, scale**0.5), spray, web, inc)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="ascii", newline="\n") as out:
        for t, _, flow, args in entries:
            g.drain(t, out)
            g.qids.horizon = t
            flow(g, t, *args)
        g.drain(float("inf"), out)
    os.utime(path, (end + 120, end + 120))
    truth = _truth(cfg, g, inc, spray, web, path)
    truth_path_for(path).write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return LogSynthResult(path=path, lines=g.lines, size=g.bytes, truth=truth)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Write a synthetic Postfix+Dovecot maillog.")
    parser.add_argument("out", type=Path, help="log file to write (truth goes to OUT.truth.json)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--mb", type=float, default=DEFAULT_MB, help="approximate size in MB")
    size.add_argument("--lines", type=int, help="approximate line count instead of --mb")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--days", type=float, default=2.0, help="time span (default 2 days)")
    args = parser.parse_args(argv)
    cfg = LogSynthConfig(mb=args.mb, lines=args.lines, seed=args.seed, days=args.days)
    started = time.perf_counter()
    res = generate(args.out, cfg)
    took = time.perf_counter() - started
    planted = res.truth["planted"]
    sys.stdout.write(
        f"{res.path}: {res.lines:,} lines, {res.size / 1e6:.1f} MB in {took:.1f} s; planted "
        f"{planted['account']}: {planted['messages']} messages, {planted['recipients']} "
        f"recipients, {planted['ip_count']} IPs\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
