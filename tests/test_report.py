"""``authaudit report`` and ``authaudit logs`` end to end on the bundled demo data and public logs.

The demo data (tests/data/demo, made by scripts/make_demo_logs.py; counts in
logs/planted.json) reproduces the target case: the first incident must be test@victim.org,
password = username, accepted in clear on the wire, relaying from its last-auth IP.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from authaudit._cli import main
from tests.conftest import ROOT

DEMO = ROOT / "tests" / "data" / "demo"
LOGS = sorted(str(p) for p in (DEMO / "logs").rglob("*") if p.is_file() and p.suffix != ".json")
CAPTURE = str(ROOT / "pcaps" / "demo" / "relay-spam-test-test.pcap")
PLANTED = json.loads((DEMO / "logs" / "planted.json").read_text(encoding="utf-8"))
LIGHTMETER = ROOT.parent / "shared" / "logs-public" / "lightmeter" / "logs_sample"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo_doc() -> dict[str, Any]:
    """``authaudit demo --format json``, run once for the module."""
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["demo", "-q", "--format", "json", "--no-crack"])
    assert code == 0
    doc: dict[str, Any] = json.loads(buf.getvalue())
    return doc


def test_first_incident_is_the_target_case(demo_doc: dict[str, Any]) -> None:
    first = demo_doc["incidents"][0]
    planted = PLANTED["incident"]
    assert first["rank"] == 1
    assert first["account"] == planted["account"] == "test@victim.org"
    assert first["severity"] == "critical"
    assert first["incident_kind"] == "compromised-account"
    assert {"AA102", "AA201", "AA301", "AA306", "AA307"} <= set(first["check_ids"])
    assert first["sources"] == ["store", "capture", "logs"]
    assert first["messages"] == planted["messages"] == 300
    assert first["recipients"] == planted["recipients"] == 900
    assert first["foreign_domains"] == planted["foreign_domains"] == 260
    assert first["ip_count"] == planted["ips"] == 41
    assert first["last_auth_ip"] == "82.128.32.42"
    assert first["secret"].startswith("redacted:")
    assert any(PLANTED["capture"]["target_line"] in line for line in first["evidence"])
    assert any("AUTH LOGIN user test -> 235" in line for line in first["evidence"])
    text = " ".join(first["remediation"]).lower()
    assert "change the password" in text
    assert "tls" in text
    assert "queue" in text


def test_qmail_delivery_outcomes_are_the_accounts(demo_doc: dict[str, Any]) -> None:
    """qmail-send's results, paired with the CHKUSER recipients by envelope, are test's own."""
    (act,) = [a for a in demo_doc["activity"] if a["account"] == "test@victim.org"]
    statuses = PLANTED["incident"]["delivery_statuses"]
    assert (act["deferred"], act["bounced"]) == (statuses["deferral"], statuses["failure"])
    assert act["recipients"] == sum(statuses.values())


def test_other_planted_incidents(demo_doc: dict[str, Any]) -> None:
    by_subject = {i["account"]: i for i in demo_doc["incidents"]}
    spray = by_subject[PLANTED["spray"]["ip"]]
    assert spray["incident_kind"] == "password-spray"
    assert "failed on 14 accounts" in spray["summary"]
    local = by_subject[f"uid {PLANTED['local_injection']['uid']}"]
    assert local["incident_kind"] == "local-injection"
    assert "queued 60 messages to 60 foreign recipients" in local["summary"]
    slow = by_subject[PLANTED["brute_force"]["account"]]
    assert slow["incident_kind"] == "brute-force"
    assert slow["summary"].startswith("slow brute force: 25 failed logins from 4 IPs")  # 24 + spray
    guessed = by_subject["info@shop.example"]
    assert "AA304" in guessed["check_ids"]
    assert "logged in from 91.92.241.118" in guessed["summary"]
    # the bounces qmail-send queued itself (null sender) are not a local script
    assert not any(s.startswith("uid 7796") for s in by_subject)


def test_logged_passwords_never_reach_the_report(demo_doc: dict[str, Any]) -> None:
    text = json.dumps(demo_doc)
    assert PLANTED["spray"]["password"] not in text
    assert "(pass: '<secret>')" in text


def test_activity_counts_for_the_abused_account(demo_doc: dict[str, Any]) -> None:
    (test,) = [a for a in demo_doc["activity"] if a["account"] == "test@victim.org"]
    assert test["messages"] == 300
    assert test["recipients"] == 900
    assert test["logins"] == PLANTED["incident"]["vchkpw_login_success"]
    assert len(test["login_ips"]) == 41
    assert test["networks"] == PLANTED["incident"]["slash16_networks"]
    assert test["senders"]  # spoofed envelope senders
    assert demo_doc["stats"]["log_lines_unrecognised"] == 0


def test_by_domain_writes_one_0600_file_per_customer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    args = ["report", "-q", "--no-crack", "--year", "2026", "--by-domain", "--format", "json",
            "-o", str(out), "--vuserinfo", str(DEMO / "vuserinfo-victim.org.txt"),
            "--pcap", CAPTURE]
    for log in LOGS:
        args += ["--logs", log]
    code, _, _ = run(capsys, *args)
    assert code == 1
    names = sorted(p.name for p in out.iterdir())
    assert names == ["_server.json", "shop.example.json", "victim.org.json"]
    for path in out.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    victim = json.loads((out / "victim.org.json").read_text(encoding="utf-8"))
    assert victim["incidents"][0]["account"] == "test@victim.org"
    assert all(i["domain"] == "victim.org" for i in victim["incidents"])
    # the capture's bare login "test" is this customer's mailbox: its attempts and findings too
    assert {a["username"] for a in victim["auth_attempts"]} == {"test"}
    assert {"AA101", "AA102"} <= {f["check_id"] for f in victim["findings"]}
    server = json.loads((out / "_server.json").read_text(encoding="utf-8"))
    assert "test" not in {a["username"] for a in server["auth_attempts"]}
    assert {i["account"] for i in server["incidents"]} >= {"125.9.73.102", "uid 10003"}


def test_by_domain_to_stdout_needs_a_human_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "logs", "-q", "--by-domain", "--format", "json", LOGS[0])
    assert code == 2
    assert "-o DIR" in err
    code, out, _ = run(capsys, "logs", "-q", "--year", "2026", "--by-domain", *LOGS)
    assert code == 1
    assert "=== victim.org ===" in out
    assert "=== _server ===" in out


def test_bad_log_options_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "logs", "--tz", "Mars/Olympus", LOGS[0])[0] == 2
    code, _, err = run(capsys, "logs", "--threshold", "nope=1", LOGS[0])
    assert code == 2
    assert "unknown threshold" in err
    code, _, err = run(capsys, "logs", str(tmp_path / "missing.log"))
    assert code == 2
    assert "missing.log" in err
    assert run(capsys, "report")[0] == 2


def test_threshold_changes_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["logs", "-q", "--year", "2026", "--format", "json"]
    _, out, _ = run(capsys, *base, *LOGS)
    assert any(f["check_id"] == "AA303" for f in json.loads(out)["findings"])
    _, out, _ = run(capsys, *base, "--threshold", "spray_accounts=15", *LOGS)
    assert not any(f["check_id"] == "AA303" for f in json.loads(out)["findings"])


def test_garbage_and_binary_lines_are_counted_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "mail.log"
    log.write_bytes(
        b"\x00\xff garbage\n"
        b"Nov 16 03:12:49 mx postfix/smtpd[1]: something postfix never wrote\n"
        b"Nov 16 03:12:50 mx postfix/smtpd[1]: warning: unknown[192.0.2.9]: SASL LOGIN "
        b"authentication failed: UGFzc3dvcmQ6, sasl_username=admin\n"
        b"Nov 16 03:12:51 mx sshd[2]: Accepted password for root\n"
    )
    code, out, _ = run(capsys, "logs", "-q", "--year", "2026", "--strict", "--format", "json",
                       str(log))
    assert code == 2  # --strict: something was skipped
    doc = json.loads(out)
    assert doc["stats"]["log_login_failures"] == 1
    reasons = {(s["where"], s["reason"], s["count"]) for s in doc["skipped"]}
    assert ("program postfix/smtpd", "line format not recognised", 1) in reasons
    assert ("program sshd", "not a program authaudit reads", 1) in reasons
    assert (f"{log}:2", "not recognised: something postfix never wrote", 1) in reasons
    assert any(s["reason"] == "no known log header" for s in doc["skipped"])


# the upstream mtimes of the Lightmeter set (its README): the live file was last written on
# 2021-01-28, mail.warn.4.gz (Dec 27 to Jan 3) on 2021-01-03
_MTIMES = {"mail.warn.4.gz": "2021-01-03T12:00:00", "mail.warn.3.gz": "2021-01-10T12:00:00",
           "mail.warn.2.gz": "2021-01-17T12:00:00", "mail.warn.1": "2021-01-24T12:00:00",
           "mail.err.4.gz": "2021-01-03T12:00:00", "mail.err.3.gz": "2021-01-10T12:00:00",
           "mail.err.2.gz": "2021-01-17T12:00:00", "mail.err.1": "2021-01-24T12:00:00",
           "mail.log.1": "2021-01-27T23:59:00"}


def _lightmeter_copy(tmp_path: Path) -> list[Path]:
    import shutil
    from datetime import UTC, datetime

    out = []
    for src in sorted(LIGHTMETER.iterdir()):
        dst = tmp_path / src.name
        shutil.copyfile(src, dst)
        when = datetime.fromisoformat(_MTIMES.get(src.name, "2021-01-28T23:59:00"))
        stamp = when.replace(tzinfo=UTC).timestamp()
        os.utime(dst, (stamp, stamp))
        out.append(dst)
    return out


@pytest.mark.skipif(not LIGHTMETER.is_dir(), reason="../shared/logs-public not present")
def test_real_rotated_set_with_year_crossing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from authaudit.logs.parsers import default_parsers
    from authaudit.logs.scan import scan_logs
    from authaudit.model import LoginEvent

    files = _lightmeter_copy(tmp_path)
    events: list[object] = []
    stats = scan_logs(files, default_parsers(), events.append)
    failures = [e for e in events if isinstance(e, LoginEvent) and e.source.endswith(".4.gz")]
    years = sorted({(e.time.year, e.time.month) for e in failures if e.time is not None})
    assert years[0] == (2020, 12) and years[-1] == (2021, 1)  # rolled over inside the file
    assert stats.years[str(tmp_path / "mail.warn.4.gz")] == "2021 (mtime)"

    code, out, _ = run(capsys, "logs", "-q", "--format", "json", *map(str, files))
    doc = json.loads(out)
    assert doc["stats"]["log_files"] == 12
    assert doc["stats"]["log_logins"] == 941
    assert doc["stats"]["log_login_failures"] == 1271  # grep -c "authentication failed"
    assert doc["stats"]["log_messages"] == 157
    assert doc["stats"]["log_lines_unrecognised"] == 0
    busiest = {a["account"]: a for a in doc["activity"]}
    sender = busiest["h-aaf4c@h-ffeb17e38996c.com"]
    assert sender["messages"] == 47
    assert sender["first_seen"] == "2021-01-27T07:00:04Z"
    # hourly automation from one address is not abuse
    assert not [i for i in doc["incidents"] if i["severity"] in ("high", "critical")]
    assert code == 0


def test_geoip_database_that_cannot_be_read_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "logs", "-q", "--geoip", str(tmp_path / "none.mmdb"), LOGS[0])
    assert code == 2
    assert "none.mmdb" in err


def test_strict_listing_of_unrecognised_lines_cuts_passwords(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "maillog"
    log.write_text("Nov 16 03:12:49 mx vpopmail[9]: vchkpw-smtp: password fail "
                   "(pass: 'Hunter2Secret') bob@victim.org\n", encoding="utf-8")
    code, out, err = run(capsys, "logs", "--strict", "-v", "--year", "2026", "--format", "jsonl",
                         str(log))
    assert code == 2
    assert "Hunter2Secret" not in out + err
    assert "(pass: '<secret>')" in out


def test_synthetic_maillog_report_matches_its_ground_truth(tmp_path: Path) -> None:
    """The bench's generator in its small mode: the planted account, exactly as planted."""
    from authaudit.audit import AuditOptions
    from authaudit.audit_report import LogOptions, audit_logs
    from bench import logsynth

    path = tmp_path / "mail.log"
    truth = logsynth.generate(path, logsynth.LogSynthConfig(lines=5000, seed=7)).truth
    planted = truth["planted"]
    report = audit_logs([path], LogOptions(jobs=1), AuditOptions())
    first = report.incidents[0]
    assert (first.subject, str(first.severity)) == (planted["account"], "critical")
    (act,) = [a for a in report.activity if a.account == planted["account"]]
    assert act.messages == planted["messages"]
    assert act.recipients == planted["recipients"]
    assert act.foreign_domains == planted["foreign_domains"]
    assert len(act.relay_ips) == planted["ip_count"]
    assert act.networks == planted["slash16_count"]
    assert act.deferred == planted["statuses"]["deferred"]
    assert act.bounced == planted["statuses"]["bounced"]
    assert act.guessed_from == planted["guess_ip"]
    spray = [i for i in report.incidents if i.subject == truth["spray"]["ip"]]
    assert spray and spray[0].kind == "password-spray"
