"""Tests of the bundled demo mail logs and vpopmail home (scripts/make_demo_logs.py).

The files under tests/data/demo/logs and tests/data/demo/vpopmail are generated; these tests
check that the generator still writes exactly them, that the incident they tell is the one of
pcaps/demo/relay-spam-test-test.pcap (same times, addresses, pids), and that the counts in
logs/planted.json are what the files hold.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from authaudit.accounts.vpopmail import VpopmailSource
from authaudit.logs.syslog import Envelope, parse_line
from authaudit.model import Account, Skipped
from authaudit.pcap.reader import iter_frames

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "tests" / "data" / "demo"
LOGS = DEMO / "logs"
HOME = DEMO / "vpopmail"
CAPTURE = ROOT / "pcaps" / "demo" / "relay-spam-test-test.pcap"
TARGET = ("CHKUSER relaying rcpt: from <kbradford@philadefender.org:test:> remote "
          "<User:unknown:82.128.32.42> rcpt <aikens_l@msn.com> : client allowed to relay")
FILES = ("qmail-smtpd/current", "qmail-send/current", "maillog", "postfix/mail.log")


def _envelopes(rel: str) -> list[Envelope]:
    out = []
    for raw in (LOGS / rel).read_bytes().splitlines():
        env = parse_line(raw)
        assert env is not None, raw
        out.append(env)
    return out


def _time(env: Envelope) -> datetime:
    if env.ts is not None:
        return env.ts
    assert env.yearless is not None
    when = env.yearless.with_year(2026, UTC)
    assert when is not None
    return when


def _planted() -> dict[str, Any]:
    data = json.loads((LOGS / "planted.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_generator_writes_the_committed_files(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_logs.py"), "--out",
                           str(tmp_path)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    for sub in ("logs", "vpopmail"):
        assert _tree(tmp_path / sub) == _tree(DEMO / sub), sub
    for line in (tmp_path / "vpopmail" / "lastauth-times.tsv").read_text().splitlines()[1:]:
        rel, when = line.split("\t")
        mtime = (tmp_path / "vpopmail" / rel).stat().st_mtime
        assert mtime == datetime.fromisoformat(when).timestamp()


def test_every_line_has_a_header_and_the_set_is_small() -> None:
    total = 0
    for rel in FILES:
        envs = _envelopes(rel)
        assert envs
        if rel.endswith("current"):
            assert all(e.ts is not None and e.host is None for e in envs)
        else:
            assert all(e.yearless is not None and e.program is not None for e in envs)
        times = [_time(e) for e in envs]
        assert times == sorted(times)
        assert times[0] >= datetime(2026, 11, 13, tzinfo=UTC)
        assert times[-1] < datetime(2026, 11, 16, 8, tzinfo=UTC)
        total += (LOGS / rel).stat().st_size
    assert total < 1_100_000


def test_target_line_is_the_first_relaying_line_of_test_and_appears_once() -> None:
    everything = "".join((LOGS / rel).read_text(encoding="ascii") for rel in FILES)
    assert everything.count(TARGET) == 1
    relaying = [e for e in _envelopes("qmail-smtpd/current")
                if e.message.startswith("CHKUSER relaying rcpt: ") and ":test:> " in e.message]
    assert relaying[0].message == TARGET
    assert len(relaying) == _planted()["incident"]["chkuser_relaying_lines"] == 900


def _capture_times() -> dict[str, float]:
    """When the capture shows the two logins, the RCPT TO and the queue's answer."""
    marks: dict[str, float] = {}
    for frame in iter_frames(str(CAPTURE)):
        payload = frame.data[54:]
        for key, needle in (("start", b"220 "), ("fail", b"535 "), ("ok", b"235 "),
                            ("rcpt", b"RCPT TO:<aikens_l@msn.com>"), ("queued", b"250 ok 1")):
            if payload.startswith(needle):
                marks.setdefault(key, frame.ts)
                if key == "queued":
                    marks["qp"] = float(payload.split(b" qp ")[1])
    return marks


def test_times_and_pids_match_the_capture() -> None:
    if not CAPTURE.exists():
        pytest.skip("bundled capture missing")
    cap = _capture_times()
    target = next(e for e in _envelopes("qmail-smtpd/current") if e.message == TARGET)
    assert abs(_time(target).timestamp() - cap["rcpt"]) < 0.05
    vchkpw = [e for e in _envelopes("maillog") if "82.128.32.42" in e.message]
    assert vchkpw[0].message == ("vchkpw-smtp: vpopmail user not found "
                                 "admin@victim.org:82.128.32.42")
    assert int(_time(vchkpw[0]).timestamp()) == int(cap["fail"])
    assert vchkpw[1].message == "vchkpw-smtp: (PLAIN) login success test@victim.org:82.128.32.42"
    assert int(_time(vchkpw[1]).timestamp()) == int(cap["ok"])
    assert all("test@victim.org" not in e.message for e in _envelopes("maillog")
               if _time(e) < _time(vchkpw[1]))
    qp = int(cap["qp"])
    info = [e for e in _envelopes("qmail-send/current") if f" qp {qp} uid 7791" in e.message]
    assert len(info) == 1
    assert "from <kbradford@philadefender.org>" in info[0].message
    assert abs(_time(info[0]).timestamp() - cap["queued"]) < 0.05
    smtpd = [e.message for e in _envelopes("qmail-smtpd/current")]
    assert "ok 4240 mail.victim.org:192.0.2.25:25 :82.128.32.42::50318" in smtpd
    assert "ok 4237 mail.victim.org:192.0.2.25:25 :82.128.32.42::50312" in smtpd


def test_planted_counts_match_the_logs() -> None:
    inc = _planted()["incident"]
    relaying = [e.message for e in _envelopes("qmail-smtpd/current")
                if e.message.startswith("CHKUSER relaying rcpt: ") and ":test:> " in e.message]
    rcpts = [m.split(" rcpt <", 1)[1].split(">", 1)[0] for m in relaying]
    ips = {m.split(":unknown:", 1)[1].split(">", 1)[0] for m in relaying}
    senders = {m.split("from <", 1)[1].split(":", 1)[0] for m in relaying}
    assert len(rcpts) == inc["recipients"] == 900
    assert len(set(rcpts)) == inc["distinct_recipients"]
    domains = {r.rpartition("@")[2] for r in rcpts}
    assert len(domains) == inc["foreign_domains"] >= 250
    assert {"msn.com", "hotmail.com", "yahoo.com", "gmail.com"} <= domains
    assert len(ips) == inc["ips"] == 41
    nets = {ipaddress.ip_network(f"{ip}/16", strict=False) for ip in ips}
    assert len(nets) == inc["slash16_networks"] >= 30
    queued = [e.message for e in _envelopes("qmail-send/current")
              if e.message.startswith("info msg ") and e.message.endswith(" uid 7791")
              and e.message.split("from <", 1)[1].split(">", 1)[0] in senders]
    assert len(queued) == inc["messages"] == 300
    logins = [e for e in _envelopes("maillog") if "login success test@victim.org:" in e.message]
    assert len(logins) == inc["vchkpw_login_success"]
    assert {e.message.rsplit(":", 1)[1] for e in logins} == ips
    assert _time(logins[-1]).isoformat() == inc["last_login"]
    assert logins[-1].message.endswith(":82.128.32.42")


def test_other_planted_events() -> None:
    planted = _planted()
    maillog = [e.message for e in _envelopes("maillog")]
    brute = planted["brute_force"]
    fails = [m for m in maillog if "password fail (pass: '" in m
             and m.endswith(tuple(f"postmaster@victim.org:{ip}" for ip in brute["ips"]))]
    assert len(fails) == brute["failures"] == 24
    spray = planted["spray"]
    tried = [m for m in maillog if m.endswith(f":{spray['ip']}")]
    assert len(tried) == len({m.rsplit(" ", 1)[1] for m in tried}) == spray["accounts"] == 14
    assert {m.rsplit(" ", 1)[1].split("@")[1].split(":")[0] for m in tried} == {
        "victim.org", "shop.example"}
    send = [e.message for e in _envelopes("qmail-send/current")]
    assert sum(m.endswith(" uid 10003") for m in send) == planted["local_injection"]["messages"]
    pf = planted["postfix"]
    mx2 = [e.message for e in _envelopes("postfix/mail.log")]
    failed = [m for m in mx2 if m.endswith(f"SASL LOGIN authentication failed: UGFzc3dvcmQ6, "
                                           f"sasl_username={pf['account']}")]
    assert len(failed) == pf["failures"] == 23
    assert all(f"unknown[{pf['ip']}]" in m for m in failed)
    success = [m for m in mx2 if f"client=unknown[{pf['ip']}]" in m]
    assert len(success) == 1 and success[0].endswith(f"sasl_username={pf['account']}")
    assert any(f"user=<{pf['account']}>, method=PLAIN, rip={pf['ip']}" in m for m in mx2)
    assert any("orig_queue_id=" in m for m in mx2)


def _accounts(home: Path) -> tuple[dict[str, Account], list[Skipped]]:
    accounts: dict[str, Account] = {}
    skipped: list[Skipped] = []
    for record in VpopmailSource(home).collect():
        if isinstance(record, Skipped):
            skipped.append(record)
        else:
            accounts[record.address] = record
    return accounts, skipped


def test_vpopmail_home_reads_cleanly_and_matches_the_logs(tmp_path: Path) -> None:
    home = tmp_path / "vpopmail"
    shutil.copytree(HOME, home)
    for line in (home / "lastauth-times.tsv").read_text().splitlines()[1:]:
        rel, when = line.split("\t")
        stamp = datetime.fromisoformat(when).timestamp()
        os.utime(home / rel, (stamp, stamp))
    accounts, skipped = _accounts(home)
    assert skipped == []
    assert sorted(accounts) == sorted(
        [f"{n}@victim.org" for n in ("postmaster", "test", "sales", "jdoe", "backup")]
        + [f"{n}@shop.example" for n in ("info", "orders", "webmaster")])
    dump = (DEMO / "vuserinfo-victim.org.txt").read_text()
    for login, account in accounts.items():
        if login.endswith("@victim.org"):
            assert account.password_hash is not None
            assert f"passwd: {account.password_hash.value}\n" in dump
    test = accounts["test@victim.org"]
    assert test.last_auth_ip == "82.128.32.42"
    assert test.last_auth_at is not None
    assert test.last_auth_at.isoformat() == _planted()["incident"]["last_login"]
    # every lastauth is the last vchkpw success of that user in the maillog
    last: dict[str, tuple[datetime, str]] = {}
    for env in _envelopes("maillog"):
        if "login success " in env.message:
            user, ip = env.message.rsplit(" ", 1)[1].rsplit(":", 1)
            last[user] = (_time(env), ip)
    for login, (seen_at, seen_ip) in last.items():
        assert accounts[login].last_auth_ip == seen_ip
        assert accounts[login].last_auth_at == seen_at
