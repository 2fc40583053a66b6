"""Tests of the synthetic maillog generator behind the log benchmark (``bench/logsynth.py``).

The small mode (``lines=5000``, about 9,000 lines with the planted incident at its minimum size)
takes a fraction of a second, so each test generates its own log.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from authaudit.logs.syslog import parse_line
from bench import logsynth

SEED = 3
LINES = 5000

_QID = re.compile(r"^([0-9A-F]{10,12}): ")
_INTRO = re.compile(r"^([0-9A-F]{10,12}): (?:client=|uid=\d+ from=)")
_NOTICE = re.compile(r"sender non-delivery notification: ([0-9A-F]{10,12})$")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    path = tmp_path_factory.mktemp("logsynth") / "mail.log"
    res = logsynth.generate(path, logsynth.LogSynthConfig(lines=LINES, seed=SEED))
    return path, res.truth


def _messages(path: Path) -> list[tuple[str, str]]:
    """(program, message) of every line."""
    out = []
    for raw in path.read_bytes().splitlines():
        env = parse_line(raw)
        assert env is not None
        out.append((env.program or "", env.message))
    return out


def test_same_seed_same_bytes(tmp_path: Path, small: tuple[Path, dict[str, object]]) -> None:
    path, truth = small
    again = tmp_path / "again.log"
    res = logsynth.generate(again, logsynth.LogSynthConfig(lines=LINES, seed=SEED))
    assert again.read_bytes() == path.read_bytes()
    assert {**res.truth, "file": ""} == {**truth, "file": ""}
    other = tmp_path / "other.log"
    logsynth.generate(other, logsynth.LogSynthConfig(lines=LINES, seed=SEED + 1))
    assert other.read_bytes() != path.read_bytes()


def test_truth_file_and_mtime(small: tuple[Path, dict[str, object]]) -> None:
    path, truth = small
    written = json.loads(logsynth.truth_path_for(path).read_text(encoding="utf-8"))
    assert written == truth
    data = path.read_bytes()
    assert truth["bytes"] == len(data)
    assert truth["lines"] == data.count(b"\n")
    end = datetime.fromisoformat(str(truth["end"])).timestamp()
    assert os.stat(path).st_mtime == end + 120


def test_every_line_has_an_rfc3164_header(small: tuple[Path, dict[str, object]]) -> None:
    path, _ = small
    lines = path.read_bytes().splitlines()
    assert len(lines) > 5000
    for raw in lines:
        env = parse_line(raw)
        assert env is not None, raw
        assert env.yearless is not None and env.ts is None
        assert env.host == "mx1"
        assert env.program is not None and env.message
        assert env.yearless.month == 10 and env.yearless.day in (5, 6)


def test_queue_ids_are_consistent(small: tuple[Path, dict[str, object]]) -> None:
    """Every delivery line's queue id was introduced before (by ``client=``, ``pickup`` or a
    bounce notice); an id is never introduced again while its message is still queued, and
    ids of removed messages come back now and then."""
    path, truth = small
    live: set[str] = set()
    seen: set[str] = set()
    reused = deliveries = 0
    for program, msg in _messages(path):
        intro = _INTRO.match(msg)
        if intro:
            qid = intro[1]
            assert qid not in live, msg
            reused += qid in seen
            live.add(qid)
            seen.add(qid)
            continue
        notice = _NOTICE.search(msg)
        if notice:
            assert notice[1] not in live
            live.add(notice[1])
            seen.add(notice[1])
            continue
        qid_match = _QID.match(msg)
        if qid_match is None:
            continue
        qid = qid_match[1]
        if msg.endswith(": removed"):
            assert qid in live, msg
            live.discard(qid)
        elif " to=<" in msg:
            deliveries += 1
            assert qid in live, msg
        elif program.endswith("qmgr") and " from=<" in msg and "status=expired" not in msg:
            # a bounce notice is queued (cleanup, qmgr from=<>) before bounce names its id
            assert qid in live or " from=<>, " in msg, msg
    assert deliveries > 1000
    assert reused == truth["queue_ids_reused"]


def test_planted_incident(small: tuple[Path, dict[str, object]]) -> None:
    path, truth = small
    planted = truth["planted"]
    assert isinstance(planted, dict)
    account = planted["account"]
    assert str(account).startswith("test@")
    lines = _messages(path)
    clients = [m for _, m in lines if m.endswith(f"sasl_username={account}") and "client=" in m]
    assert len(clients) == planted["messages"] >= 40
    ips = {m.split("client=unknown[", 1)[1].split("]", 1)[0] for m in clients}
    assert len(ips) == planted["ip_count"] >= 24
    assert planted["guess_ip"] in ips
    failures = [m for _, m in lines
                if "authentication failed" in m and m.endswith(f"sasl_username={account}")]
    first_success = next(i for i, (_, m) in enumerate(lines) if m in clients)
    before = [m for _, m in lines[:first_success]
              if "authentication failed" in m and m.endswith(f"sasl_username={account}")]
    assert len(before) == planted["failures_before_success"] == len(failures) > 20
    assert f"client=unknown[{planted['guess_ip']}]" in lines[first_success][1]
    # the recipients: one delivery line per recipient reaches a final status in the truth
    statuses = planted["statuses"]
    assert isinstance(statuses, dict)
    assert sum(statuses.values()) == planted["recipients"]
    assert statuses["sent"] < planted["recipients"] / 2


def test_spray_local_injection_and_upgrade(small: tuple[Path, dict[str, object]]) -> None:
    path, truth = small
    lines = _messages(path)
    spray = truth["spray"]
    assert isinstance(spray, dict)
    tried = [m for _, m in lines if f"unknown[{spray['ip']}]: SASL" in m]
    assert len(tried) == spray["attempts"] == spray["accounts"] >= 14
    assert len({m.rsplit("sasl_username=", 1)[1] for m in tried}) == spray["accounts"]
    local = truth["local_injection"]
    assert isinstance(local, dict)
    pickups = [m for p, m in lines if p == "postfix/pickup" and " uid=33 from=<www-data>" in m]
    assert len(pickups) == local["messages"] >= 10
    brute = truth["brute_force"]
    assert isinstance(brute, dict)
    old = sum(1 for _, m in lines if m.endswith(("authentication failed: UGFzc3dvcmQ6",
                                                 "authentication failed: authentication failure")))
    new = Counter(m.rsplit("sasl_username=", 1)[1] for _, m in lines
                  if "authentication failed:" in m and "sasl_username=" in m)
    assert old == brute["failures_old_form"]
    assert sum(new.values()) == brute["failures_new_form"]
    assert dict(new) == brute["users"]
    upgrade = [i for i, (p, m) in enumerate(lines) if p == "postfix/master" and "3.9.1" in m]
    assert len(upgrade) == 1
    assert all("sasl_username=" not in m for _, m in lines[: upgrade[0]]
               if "authentication failed" in m)


def test_amavis_chains_carry_the_original_queue_id(small: tuple[Path, dict[str, object]]) -> None:
    path, truth = small
    lines = _messages(path)
    requeued = {m.split("queued as ", 1)[1].rstrip(")") for _, m in lines
                if "relay=127.0.0.1[127.0.0.1]:10024" in m}
    reinjected = {m.split(":", 1)[0] for _, m in lines
                  if "client=localhost[127.0.0.1], orig_queue_id=" in m}
    counts = truth["counts"]
    assert isinstance(counts, dict)
    assert requeued == reinjected
    assert len(reinjected) == counts["amavis_requeued"] > 20


def test_cli_small_mode(tmp_path: Path) -> None:
    out = tmp_path / "cli.log"
    assert logsynth.main([str(out), "--lines", "2000", "--seed", "5"]) == 0
    assert out.stat().st_size > 100_000
    assert logsynth.truth_path_for(out).exists()
