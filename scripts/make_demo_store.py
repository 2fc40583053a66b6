"""Write tests/data/demo/vuserinfo-victim.org.txt: the demo's account store.

A saved ``vuserinfo -D victim.org`` dump of the hosting customer whose account ``test`` relayed
spam: ``test`` has the password ``test`` and last logged in from 82.128.32.42, the address in the
demo capture. The other accounts show the other weak-credential checks next to strong ones.
Hashes are made with libpass and fixed salts, so the file is the same on every run:
``python scripts/make_demo_store.py`` from the repository root.
"""

from __future__ import annotations

import sys
from pathlib import Path

from passlib.hash import md5_crypt, sha512_crypt  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "data" / "demo" / "vuserinfo-victim.org.txt"

# name, hash, cleartext field, gecos, gid, last auth, last auth ip
USERS = [
    ("postmaster", sha512_crypt.using(salt="Pm7sQx2L", rounds=5000).hash("f4Rq!x9-LmZ2wT"), "",
     "Postmaster", 0, "Mon Nov 16 07:30:02 2026", "198.51.100.20"),
    ("test", md5_crypt.using(salt="k3Jd8sQa").hash("test"), "", "test account", 0,
     "Mon Nov 16 03:12:49 2026", "82.128.32.42"),
    ("sales", sha512_crypt.using(salt="Sa1esXyz", rounds=5000).hash("Sales2026"), "", "Sales",
     0, "Fri Nov 13 16:05:11 2026", "198.51.100.77"),
    ("jdoe", md5_crypt.using(salt="Jd0eSalt").hash("letmein"), "", "John Doe", 0,
     "Sun Nov 15 22:41:09 2026", "203.0.113.50"),
    ("backup", sha512_crypt.using(salt="Bk9pQr2s", rounds=5000).hash("Backup-7Tq#v2ZmW9"),
     "Backup-7Tq#v2ZmW9", "backup mailbox", 2048, "Never logged in", ""),
]


def record(name: str, hashed: str, clear: str, gecos: str, gid: int, last: str, ip: str) -> str:
    """One user as ``vuserinfo`` prints it."""
    lines = [
        "------------------------------------------",
        f"name:   {name}",
        f"passwd: {hashed}",
        f"clear passwd: {clear}",
        f"comment/gecos: {gecos}",
        "uid:    1",
        f"gid:    {gid}",
        f"flags:  {gid}",
        f"gecos: {gecos}",
        "limits: No user limits set.",
        f"dir:       /home/vpopmail/domains/victim.org/{name}",
        "quota:     NOQUOTA",
        "usage:     NOQUOTA",
        "account created: Tue Mar  3 10:00:00 2020",
        f"last auth: {last}",
    ]
    if ip:
        lines.append(f"last auth ip: {ip}")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Write the dump."""
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("".join(record(*u) for u in USERS), encoding="utf-8")
    sys.stdout.write(f"{OUT}: {len(USERS)} accounts\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
