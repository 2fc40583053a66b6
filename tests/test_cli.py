"""The command line: exit codes, output files, formats, redaction and bad input."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from authaudit import __version__
from authaudit._build import describe
from authaudit._cli import main
from tests.conftest import PUBLIC, ROOT

GURPARTAP = PUBLIC / "smtp-auth-login_gurpartap.pcap"
NEGATIVE = PUBLIC / "smtp-noauth_negative-control.pcap"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_exit_1_and_clean_capture_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pcap", "-q", str(GURPARTAP))
    assert code == 1
    assert "gurpartap@patriots.in" in out
    assert "punjab@123" not in out
    code, out, _ = run(capsys, "pcap", "-q", str(NEGATIVE))
    assert code == 0
    assert "findings: none" in out


def test_fail_on_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "pcap", "-q", "--fail-on", "never", str(GURPARTAP))[0] == 0
    assert run(capsys, "pcap", "-q", "--fail-on", "critical", str(GURPARTAP))[0] == 1
    cram = str(PUBLIC / "smtp-auth-cram-md5.pcap")
    # AA101 medium and AA103 critical (cracked with the bundled list and accepted)
    assert run(capsys, "pcap", "-q", "--fail-on", "critical", cram)[0] == 1
    assert run(capsys, "pcap", "-q", "--no-crack", "--fail-on", "high", cram)[0] == 0


def test_show_secrets_and_jsonl(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "pcap", "-q", "--format", "jsonl", "--show-secrets", str(GURPARTAP))
    assert code == 1
    objs = [json.loads(line) for line in out.splitlines()]
    (attempt,) = [o for o in objs if o["kind"] == "auth_attempt"]
    assert attempt["username"] == "gurpartap@patriots.in"
    assert attempt["secret"] == "punjab@123"
    assert attempt["outcome"] == "success"
    assert attempt["reply_code"] == 235
    assert attempt["time"] == "2009-10-05T06:06:08.568729Z"
    assert [o["check_id"] for o in objs if o["kind"] == "finding"] == ["AA101", "AA102"]


def test_output_file_is_created_0600(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o644)
    code, out, _ = run(capsys, "pcap", "-q", "--format", "json", "-o", str(target), str(GURPARTAP))
    assert code == 1
    assert out == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    doc = json.loads(target.read_text())
    assert doc["auth_attempts"][0]["secret"].startswith("redacted:")
    new = tmp_path / "new.csv"
    run(capsys, "pcap", "-q", "--format", "csv", "-o", str(new), str(GURPARTAP))
    assert stat.S_IMODE(new.stat().st_mode) == 0o600


def test_unreadable_inputs_exit_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"this is not a capture at all\n")
    code, out, err = run(capsys, "pcap", str(garbage))
    assert code == 2
    assert out == ""
    assert "not a pcap or pcapng file" in err
    code, _, err = run(capsys, "pcap", str(tmp_path / "missing.pcap"))
    assert code == 2
    assert "missing.pcap" in err


def test_one_bad_file_among_good_ones_is_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.pcap"
    garbage.write_bytes(b"\x00" * 64)
    code, out, _ = run(capsys, "pcap", "-q", "--format", "jsonl", str(garbage), str(GURPARTAP))
    assert code == 1
    kinds = [json.loads(line)["kind"] for line in out.splitlines()]
    assert kinds.count("auth_attempt") == 1
    assert kinds.count("skipped") == 1
    assert run(capsys, "pcap", "-q", "--strict", str(garbage), str(GURPARTAP))[0] == 2


def test_truncated_capture_keeps_results_before_the_damage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = GURPARTAP.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) - 100])
    code, out, _ = run(capsys, "pcap", "-q", "--format", "jsonl", str(cut))
    assert code == 1
    objs = [json.loads(line) for line in out.splitlines()]
    assert [o["username"] for o in objs if o["kind"] == "auth_attempt"] == ["gurpartap@patriots.in"]
    (skip,) = [o for o in objs if o["kind"] == "skipped"]
    assert "truncated" in skip["reason"]


def test_checks_lists_every_id(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "checks")
    assert code == 0
    for cid in ("AA101", "AA102", "AA103"):
        assert cid in out


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["pcap", "--format", "nope", str(GURPARTAP)])
    assert exc.value.code == 2


def test_module_entry_point_and_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "authaudit", "--version"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"authaudit {__version__} ({describe()})"


def test_progress_never_on_stdout() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "authaudit", "pcap", "--format", "jsonl", str(GURPARTAP)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    for line in proc.stdout.splitlines():
        json.loads(line)


def test_demo_runs_on_bundled_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "-q")
    assert code == 0
    assert "AA102" in out
    assert "82.128.32.42:50318" in out
    assert "235 2.0.0 OK Authenticated" in out
    assert "dGVzdA" not in out


def test_accounts_relay_spam_case(capsys: pytest.CaptureFixture[str]) -> None:
    store = ROOT / "tests" / "data" / "demo" / "vuserinfo-victim.org.txt"
    code, out, _ = run(capsys, "accounts", "-q", "--format", "jsonl", "--vuserinfo", str(store))
    assert code == 1
    objs = [json.loads(line) for line in out.splitlines()]
    (aa201,) = [o for o in objs if o["kind"] == "finding" and o["check_id"] == "AA201"]
    assert aa201["subject"] == "test@victim.org"
    assert aa201["severity"] == "critical"
    assert aa201["evidence"]["last_auth_ip"] == "82.128.32.42"
    assert aa201["secret"].startswith("redacted:")
    accounts = {o["address"]: o for o in objs if o["kind"] == "account"}
    assert accounts["test@victim.org"]["found_by"] == "username"
    assert accounts["test@victim.org"]["last_auth_at"] == "2026-11-16T03:12:49Z"
    assert "test" not in {o.get("password") for o in objs}


def test_accounts_needs_a_store_and_reports_unreadable_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "accounts")[0] == 2
    code, _, err = run(capsys, "accounts", "--vpopmail", str(tmp_path / "nowhere"))
    assert code == 2
    assert "nowhere" in err


def test_demo_secrets_share_fingerprints_across_reports(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "demo", "-q", "--format", "jsonl")
    assert code == 0
    objs = [json.loads(line) for line in out.splitlines()]
    wire = [o["secret"] for o in objs if o["kind"] == "auth_attempt" and o["username"] == "test"]
    store = [o["password"] for o in objs if o["kind"] == "account" and o["username"] == "test"]
    assert wire == store
    assert wire[0].startswith("redacted:")
