"""Real traffic: ``authaudit pcap`` must report exactly the SMTP AUTH attempts the lab sent.

The module-scoped fixture runs the lab once (:mod:`tests.lab.lab`: private Postfix + Dovecot on
loopback, swaks and smtplib clients, tcpdump capture, ground-truth TSV); the tests then run the
decoder on the capture and compare its JSON lines with the ground truth, attempt by attempt.
Skipped only when one of the lab's programs is not installed (``make test`` installs them).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.lab import lab
from tests.lab.lab import Attempt, LabResult, Outcome

pytestmark = pytest.mark.lab

REPO_ROOT = Path(__file__).resolve().parents[2]
DECODER_TIMEOUT = 120.0
CLEARTEXT_MECHANISMS = frozenset({"LOGIN", "PLAIN"})
EXIT_FINDINGS = 1
"""``authaudit`` exit status when findings exist (cleartext AUTH without TLS is AA101, high)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """One run of ``authaudit pcap --format jsonl``."""

    returncode: int
    stdout: str
    stderr: str
    records: tuple[dict[str, Any], ...]

    @property
    def attempts(self) -> list[dict[str, Any]]:
        return [record for record in self.records if record["kind"] == "auth_attempt"]


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> LabResult:
    missing = lab.missing_programs()
    if missing:
        pytest.skip(
            f"the lab needs {', '.join(missing)} (apt-get install postfix dovecot-core swaks"
            " tcpdump; `make test` installs them)"
        )
    return lab.run_lab(tmp_path_factory.mktemp("lab"))


def decode(result: LabResult, *options: str) -> Decoded:
    command = [
        sys.executable,
        "-m",
        "authaudit",
        "pcap",
        "--format",
        "jsonl",
        "--wordlist",
        str(result.wordlist),
        *options,
        str(result.capture),
    ]
    done = subprocess.run(
        command,
        cwd=REPO_ROOT,
        capture_output=True,
        encoding="utf-8",
        timeout=DECODER_TIMEOUT,
        check=False,
    )
    records: list[dict[str, Any]] = []
    for number, line in enumerate(done.stdout.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"stdout line {number} is not JSON ({exc}): {line!r}\n{done.stderr}")
        assert isinstance(record, dict) and "kind" in record, f"line {number}: {line!r}"
        records.append(record)
    # A crash also exits with 1, the "findings" status: make it fail loudly instead.
    assert "Traceback (most recent call last)" not in done.stderr, done.stderr
    assert records, f"no output (exit status {done.returncode}):\n{done.stderr}"
    return Decoded(done.returncode, done.stdout, done.stderr, tuple(records))


@pytest.fixture(scope="module")
def decoded(lab_run: LabResult) -> Decoded:
    return decode(lab_run, "--show-secrets")


@pytest.fixture(scope="module")
def decoded_redacted(lab_run: LabResult) -> Decoded:
    return decode(lab_run)


# ------------------------------------------------------------------------------------------
# The harness itself: the ground truth is what the issue asks for.


def test_ground_truth_round_trips_through_the_tsv(lab_run: LabResult) -> None:
    assert lab.read_truth(lab_run.truth) == list(lab_run.attempts)
    words = lab_run.wordlist.read_text(encoding="utf-8").splitlines()
    assert {a.password for a in lab_run.attempts if a.password} <= set(words)


def test_ground_truth_covers_the_matrix(lab_run: LabResult) -> None:
    attempts = lab_run.attempts
    covered = {(a.tool, a.server_port, a.mechanism, a.outcome) for a in attempts}
    for tool in ("swaks", "smtplib"):
        for port in (lab.SMTP_PORT, lab.SUBMISSION_PORT):
            for mechanism in ("LOGIN", "PLAIN", "CRAM-MD5"):
                for outcome in (Outcome.SUCCESS, Outcome.FAILURE):
                    assert (tool, port, mechanism, outcome) in covered
    outcomes = Counter(a.outcome for a in attempts)
    assert outcomes[Outcome.REJECTED] >= 1
    assert outcomes[Outcome.CANCELLED] >= 1
    assert any(not a.password.isascii() for a in attempts)
    per_connection = Counter((a.client_port, a.server_port) for a in attempts)
    assert max(per_connection.values()) >= 2, "no connection with several attempts"
    assert {a.server_ip for a in attempts} == {lab_run.server_ip}
    assert lab_run.server_ip.startswith("127.")
    assert lab_run.duration < 60


# ------------------------------------------------------------------------------------------
# The decoder against the ground truth.


def cram_md5_verdict(secret: object, username: str, password: str) -> object:
    """``"valid"`` when ``secret`` is a ``$cram_md5$`` line whose response is ``username``'s
    HMAC-MD5 of the challenge keyed with ``password``; otherwise ``secret`` itself (so that a
    failing comparison shows it)."""
    if not isinstance(secret, str):
        return secret
    parts = secret.split("$")
    if len(parts) != 4 or parts[:2] != ["", "cram_md5"]:
        return secret
    try:
        challenge = binascii.a2b_base64(parts[2], strict_mode=True)
        response = binascii.a2b_base64(parts[3], strict_mode=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return secret
    user, _, digest = response.rpartition(" ")
    expected = hmac.new(password.encode("utf-8"), challenge, hashlib.md5).hexdigest()
    if user == username and hmac.compare_digest(digest, expected):
        return "valid"
    return secret


def expected_record(attempt: Attempt) -> dict[str, Any]:
    cleartext = attempt.mechanism in CLEARTEXT_MECHANISMS
    if cleartext:
        secret: object = attempt.password or None
        secret_kind = "cleartext" if attempt.password else None
        cracked = None
    else:
        secret = "valid" if attempt.password else None
        secret_kind = "cram-md5" if attempt.password else None
        # Every password sent (right or wrong) is in the wordlist, so each is recovered.
        cracked = attempt.password or None
    return {
        "client_ip": attempt.client_ip,
        "client_port": attempt.client_port,
        "server_ip": attempt.server_ip,
        "server_port": attempt.server_port,
        "mechanism": attempt.mechanism,
        "username": attempt.username or None,
        "authzid": None,
        "secret": secret,
        "secret_kind": secret_kind,
        "cracked": cracked,
        "outcome": str(attempt.outcome),
        "reply_code": attempt.reply_code,
        "reply_text": attempt.reply_text,
        "tls": False,
    }


def actual_record(record: dict[str, Any], truth: Attempt | None) -> dict[str, Any]:
    keys = expected_record(truth).keys() if truth is not None else record.keys()
    actual = {key: record.get(key, "<missing>") for key in keys if key != "kind"}
    if truth is not None and truth.mechanism == "CRAM-MD5" and truth.password:
        actual["secret"] = cram_md5_verdict(record.get("secret"), truth.username, truth.password)
    return actual


def connection_order(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Attempts by connection (client port, server port), then by time within a connection;
    ties keep the decoder's order."""
    return sorted(records, key=lambda r: (r["client_port"], r["server_port"], r["time"]))


def test_decoder_reports_exactly_what_was_sent(lab_run: LabResult, decoded: Decoded) -> None:
    truth = sorted(lab_run.attempts, key=lambda a: (a.client_port, a.server_port))
    got = connection_order(decoded.attempts)
    assert [(r["client_port"], r["server_port"]) for r in got] == [
        (a.client_port, a.server_port) for a in truth
    ], "attempts per connection differ (missing or extra attempts)"
    assert [actual_record(r, a) for r, a in zip(got, truth, strict=True)] == [
        expected_record(a) for a in truth
    ]


def test_decoder_attempt_metadata(lab_run: LabResult, decoded: Decoded) -> None:
    assert len(decoded.attempts) == len(lab_run.attempts)
    for record in decoded.attempts:
        assert Path(record["capture"]).resolve() == lab_run.capture.resolve()
        when = datetime.fromisoformat(record["time"])
        assert when.utcoffset() == timedelta(0), record["time"]
        slack = timedelta(seconds=2)
        assert lab_run.started - slack <= when.astimezone(UTC) <= lab_run.finished + slack
        assert isinstance(record["flags"], list)
        assert "no-server-reply" not in record["flags"]


def test_decoder_reports_nothing_else(decoded: Decoded) -> None:
    kinds = Counter(record["kind"] for record in decoded.records)
    # A clean cleartext capture: no TLS sessions, nothing skipped.
    assert kinds["tls_session"] == 0
    assert [r for r in decoded.records if r["kind"] == "skipped"] == []


def test_decoder_exit_status_reports_cleartext_auth(decoded: Decoded) -> None:
    assert decoded.returncode == EXIT_FINDINGS, decoded.stderr
    cleartext = [
        r for r in decoded.records if r["kind"] == "finding" and r.get("check_id") == "AA101"
    ]
    # LOGIN and PLAIN reveal the password itself: high, which alone makes the exit status 1.
    # (CRAM-MD5 without TLS is AA101 too, at medium: see authaudit/checks/cleartext_auth.py.)
    assert "high" in {r.get("severity") for r in cleartext}, cleartext


def test_decoder_redacts_secrets_by_default(lab_run: LabResult, decoded_redacted: Decoded) -> None:
    assert decoded_redacted.returncode == EXIT_FINDINGS, decoded_redacted.stderr
    assert len(decoded_redacted.attempts) == len(lab_run.attempts)
    for password in lab_run.wordlist.read_text(encoding="utf-8").splitlines():
        assert password not in decoded_redacted.stdout
        assert password not in decoded_redacted.stderr
    for record in decoded_redacted.attempts:
        for key in ("secret", "cracked"):
            value = record[key]
            assert value is None or value.startswith("redacted:"), (key, value)


# ------------------------------------------------------------------------------------------
# The same run's real server logs: `authaudit logs` must count what was sent.


def test_real_postfix_and_dovecot_logs_give_one_failure_per_wrong_password(
    lab_run: LabResult,
) -> None:
    outdir = lab_run.capture.parent
    logs = [str(outdir / "lab.postfix.log"), str(outdir / "lab.dovecot.log")]
    done = subprocess.run(
        [sys.executable, "-m", "authaudit", "logs", "-q", "--format", "json", *logs],
        cwd=REPO_ROOT, capture_output=True, encoding="utf-8", timeout=DECODER_TIMEOUT,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    doc = json.loads(done.stdout)
    # every line of the real Postfix and Dovecot logs is understood
    assert doc["stats"]["log_lines_unrecognised"] == 0, doc["skipped"]
    wrong = Counter(a.username for a in lab_run.attempts if a.outcome is Outcome.FAILURE)
    # Postfix logs each failure (3.7 on Debian 12 already names the user) and Dovecot's passdb
    # logs it again (auth_verbose): the two lines count once.
    assert doc["stats"]["log_login_failures"] == sum(wrong.values())
    failures = {a["account"]: a["failures"] for a in doc["activity"]}
    assert failures == dict(wrong)
    for activity in doc["activity"]:
        assert activity["failure_ips"] == [lab_run.client_ip]
    # no message was sent, and Postfix logs sasl_username on success only with a queued message
    assert doc["stats"]["log_logins"] == 0
