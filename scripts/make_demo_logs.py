"""Write the demo's mail logs and vpopmail home under tests/data/demo/ (deterministic).

* ``logs/qmail-smtpd/current``, ``logs/qmail-send/current`` (multilog, TAI64N) and
  ``logs/maillog`` (syslog, vpopmail's vchkpw lines) of the qmail toaster mail.victim.org, where
  the account ``test`` (password ``test``) is guessed at 03:12:49 UTC on 16 Nov 2026 (the session
  of pcaps/demo/relay-spam-test-test.pcap) and then relays spam for two hours; see
  :mod:`demo_logs_victim`;
* ``logs/postfix/mail.log`` of the same company's Postfix + Dovecot server mx2, where
  info@shop.example is brute-forced and then logged into (see :mod:`demo_logs_postfix`);
* ``logs/planted.json``: the exact counts of what was planted, for tests;
* ``vpopmail/``: the toaster's vpopmail home (``users/assign``, ``domains/*/vpasswd`` with the
  hashes of scripts/make_demo_store.py, a ``lastauth`` file per user whose mtime is the last
  login), and ``vpopmail/lastauth-times.tsv`` with those mtimes, which git does not keep.

Run ``python scripts/make_demo_logs.py [--out DIR]`` from the repository root; the same code
always writes the same bytes (and sets the same mtimes).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from demo_logs_postfix import build_postfix  # noqa: E402
from demo_logs_qmail import write_maillog, write_send, write_smtpd  # noqa: E402
from demo_logs_victim import ATTACKER, CAPTURE, TARGET_LINE, build  # noqa: E402
from make_demo_store import USERS  # noqa: E402
from passlib.hash import sha512_crypt  # type: ignore[import-untyped]  # noqa: E402

SEED = 20261116
HOME = "/home/vpopmail"

# shop.example moved its mailboxes to mx2 in October; the accounts stay on the toaster
# (name, hash, gecos, last auth (ISO, UTC) or None, last auth ip)
SHOP_USERS = [
    ("info", sha512_crypt.using(salt="Sh0pInf0", rounds=5000).hash("Kv8#mT2q-Lz9wXr"),
     "Shop info", "2026-10-28T09:14:55+00:00", "198.51.100.140"),
    ("orders", sha512_crypt.using(salt="0rd3rsQx", rounds=5000).hash("pQ7!orders-Zk4m"),
     "Orders", "2026-10-28T08:02:31+00:00", "198.51.100.140"),
    ("webmaster", sha512_crypt.using(salt="W3bM4str", rounds=5000).hash("Rj5$webm-9TqLx2"),
     "Webmaster", None, ""),
]
NEVER = "0.0.0.0"  # noqa: S104 - vpopmail's "never logged in" address, not a bind
CREATED = "2020-03-03T10:00:00+00:00"
"""When vadduser made the accounts that never logged in (``lastauth`` holds 0.0.0.0)."""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def _vpasswd(domain: str, name: str, hashed: str, gid: int, gecos: str, clear: str) -> str:
    """One line of a vpopmail built with --enable-clear-passwd (8 fields)."""
    return f"{name}:{hashed}:1:{gid}:{gecos}:{HOME}/domains/{domain}/{name}:NOQUOTA:{clear}\n"


def write_vpopmail(out: Path, test_lastauth: float) -> list[tuple[str, str]]:
    """The vpopmail home; returns (relative path, ISO time) of every lastauth file."""
    home = out / "vpopmail"
    (home / "users").mkdir(parents=True, exist_ok=True)
    (home / "users" / "assign").write_text(
        "".join(f"+{d}-:{d}:89:89:{HOME}/domains/{d}:-::\n" for d in ("victim.org", "shop.example"))
        + ".\n", encoding="ascii")
    times: list[tuple[str, str]] = []
    lines: list[str] = []
    last_by_name = {
        "postmaster": ("2026-11-16T07:30:02+00:00", "198.51.100.20"),
        "test": (_iso(test_lastauth), ATTACKER),
        "sales": ("2026-11-13T16:05:11+00:00", "198.51.100.77"),
        "jdoe": ("2026-11-15T22:41:09+00:00", "203.0.113.50"),
        "backup": (CREATED, NEVER),
    }
    for name, hashed, clear, gecos, gid, _last, _ip in USERS:
        lines.append(_vpasswd("victim.org", name, hashed, gid, gecos, clear))
        when, ip = last_by_name[name]
        times.append(_lastauth(home, "victim.org", name, ip, when))
    (home / "domains" / "victim.org" / "vpasswd").write_text("".join(lines), encoding="ascii")
    lines = []
    for name, hashed, gecos, shop_when, shop_ip in SHOP_USERS:
        lines.append(_vpasswd("shop.example", name, hashed, 0, gecos, ""))
        times.append(_lastauth(home, "shop.example", name, shop_ip or NEVER, shop_when or CREATED))
    (home / "domains" / "shop.example" / "vpasswd").write_text("".join(lines), encoding="ascii")
    (home / "lastauth-times.tsv").write_text(
        "# path (relative to this directory)\tmtime of the lastauth file (UTC)\n"
        + "".join(f"{path}\t{when}\n" for path, when in times), encoding="ascii")
    return times


def _lastauth(home: Path, domain: str, name: str, ip: str, when: str) -> tuple[str, str]:
    """``<dir>/lastauth`` as vset_lastauth writes it: the IP, no newline; mtime = the login."""
    rel = f"domains/{domain}/{name}/lastauth"
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ip, encoding="ascii")
    stamp = datetime.fromisoformat(when).timestamp()
    os.utime(path, (stamp, stamp))
    return rel, when


def _slash16(ip: str) -> str:
    return ".".join(ip.split(".")[:2]) + ".0.0/16"


def _planted(truth: dict[str, Any], mx2: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    inc = truth["incident"]
    smtpd = files["qmail-smtpd/current"]
    relaying = [line.split(" ", 1)[1] for line in smtpd.splitlines()
                if "CHKUSER relaying rcpt: " in line and ":test:>" in line]
    return {
        "capture": {
            "admin_failure": _iso(CAPTURE),
            "test_login": _iso(CAPTURE + 4.21),
            "target_line": TARGET_LINE,
            "target_time": _iso(CAPTURE + 4.3),
            "qp": 4242,
        },
        "incident": {
            "account": "test@victim.org",
            "auth_field": "test",
            "password": "test",
            "messages": inc["messages"],
            "recipients": inc["recipients"],
            "chkuser_relaying_lines": len(relaying),
            "distinct_recipients": len({line.split("rcpt <", 1)[1].split(">", 1)[0]
                                        for line in relaying}),
            "foreign_domains": len(inc["domains"]),
            "ips": len(inc["ips"]),
            "slash16_networks": len({_slash16(ip) for ip in inc["ips"]}),
            "botnet_ips_besides_attacker": len(truth["botnet"]),
            "vchkpw_login_success": sum(1 for line in files["maillog"].splitlines()
                                        if "login success test@victim.org:" in line),
            "first_relay": _iso(CAPTURE + 4.3),
            "last_login": _iso(int(truth["last_abuse"] + 0.21)),
            "delivery_statuses": dict(sorted(inc["statuses"].items())),
        },
        "brute_force": truth["brute_force"],
        "spray": truth["spray"],
        "local_injection": {"uid": 10003, "sender": "noreply@shop.example",
                            "messages": truth["web"]["messages"],
                            "delivery_statuses": dict(sorted(truth["web"]["statuses"].items()))},
        "postfix": {"account": mx2["account"], "ip": mx2["ip"], "failures": mx2["failures"],
                    "success": _iso(mx2["success"]), "messages": mx2["messages"]},
    }


def main(argv: list[str] | None = None) -> int:
    """Write everything under ``--out`` (default tests/data/demo)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "demo")
    args = parser.parse_args(argv)
    out: Path = args.out
    toaster, truth = build(SEED)
    postfix_text, mx2 = build_postfix(SEED)
    files = {
        "qmail-smtpd/current": write_smtpd(toaster.smtpd),
        "qmail-send/current": write_send(toaster.send, 48_211),
        "maillog": write_maillog(toaster.maillog, "mail"),
        "postfix/mail.log": postfix_text,
    }
    planted = _planted(truth, mx2, files)
    files["planted.json"] = json.dumps(planted, indent=1) + "\n"
    for rel, text in files.items():
        path = out / "logs" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii", newline="\n")
    write_vpopmail(out, float(int(truth["last_abuse"] + 0.21)))
    total = sum(len(t) for t in files.values())
    sys.stdout.write(f"{out}/logs: {len(files)} files, {total:,} bytes; {out}/vpopmail\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
