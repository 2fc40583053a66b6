"""Every format renders the same report; golden files pin the renderings; secrets stay redacted."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from authaudit.checks import Evidence, run_checks
from authaudit.formats import FORMATS
from authaudit.model import (
    Account,
    AccountActivity,
    AccountResult,
    FoundBy,
    Incident,
    InputFile,
    Outcome,
    Report,
    Severity,
    Skipped,
    TlsKind,
    TlsSession,
)
from authaudit.redact import Redactor, Secret, SecretKind
from tests.factories import T0, make_attempt, make_flow, make_report

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
KEY = b"0123456789abcdef"
PASSWORD = "Sup3r:secret|pipe"


def sample_report() -> Report:
    """A report with one of each record kind."""
    attempts = (
        make_attempt(secret=Secret(PASSWORD, SecretKind.CLEARTEXT)),
        make_attempt(
            mechanism="CRAM-MD5",
            username="bob",
            outcome=Outcome.FAILURE,
            secret=Secret("$cram_md5$PDE+$Ym9iIDAw", SecretKind.CRAM_MD5),
            reply_code=535,
            reply_text="5.7.8 Error: authentication failed",
            flags=("no-server-reply",),
        ),
    )
    tls = (
        TlsSession(
            capture="dump.pcap",
            time=T0,
            kind=TlsKind.STARTTLS,
            reply_code=220,
            reply_text="2.0.0 Ready to start TLS",
            sni="mail.example.org",
            flow=make_flow(server_ip="2001:db8::25", client_ip="2001:db8::1"),
        ),
    )
    account = AccountResult(
        account=Account(
            source="vpasswd",
            store="vpopmail",
            location="vpasswd:3",
            address="test@victim.org",
            username="test",
            domain="victim.org",
            scheme="MD5-CRYPT",
            password_hash=Secret("$1$k3Jd8sQa$Sup3rHashValue", SecretKind.HASH),
            last_auth_ip="82.128.32.42",
            last_auth_at=T0,
        ),
        password=Secret(PASSWORD, SecretKind.CLEARTEXT),
        found_by=FoundBy.USERNAME,
        candidates_tried=3,
    )
    activity = AccountActivity(
        account="test@victim.org", logins=3, failures=2, login_ips=("82.128.32.42", "192.0.2.9"),
        failure_ips=("82.128.32.42",), networks=2, max_ips_per_day=2, messages=4, recipients=9,
        foreign_recipients=8, foreign_domains=7, max_recipients_per_hour=8,
        max_messages_per_day=4, max_foreign_domains_per_day=7, deferred=5, bounced=1,
        senders=("kbradford@philadefender.org",), services=("smtp",), max_failures_in_window=2,
        failures_before_success=2, first_seen=T0, last_seen=T0,
        evidence=("maillog:7: vpopmail[12]: vchkpw-smtp: (LOGIN) login success test@victim.org:"
                  "82.128.32.42",),
    )
    incident = Incident(
        rank=1, severity=Severity.CRITICAL, kind="compromised-account", subject="test@victim.org",
        domain="victim.org", summary="password equals the username (AA201); relayed 4 messages",
        check_ids=("AA102", "AA201", "AA301"), sources=("store", "capture", "logs"),
        first_seen=T0, last_seen=T0, ips=("82.128.32.42", "192.0.2.9"), ip_count=2, messages=4,
        recipients=9, foreign_domains=7, last_auth_ip="82.128.32.42",
        evidence=("maillog:9: CHKUSER relaying rcpt: from <x@y.example:test:> | pipe",),
        remediation=("Change the password.",), secret=Secret(PASSWORD, SecretKind.CLEARTEXT),
    )
    return make_report(
        incidents=(incident,),
        activity=(activity,),
        accounts=(account,),
        inputs=(InputFile(path="dump.pcap", kind="capture", sha256="ab" * 32, size=1234),),
        attempts=attempts,
        tls_sessions=tls,
        findings=run_checks(Evidence(attempts=attempts, tls_sessions=tls)),
        skipped=(Skipped(source="dump.pcap", where="packets", reason="truncated frame", count=3),),
        stats=(("packets", 42), ("smtp_sessions", 2)),
    )


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_rendering_matches_golden(name: str, update_golden: bool) -> None:
    text = FORMATS[name].render(sample_report(), Redactor(key=KEY))
    path = GOLDEN / f"report.{name}"
    if update_golden:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_no_secret_leaks_without_show_secrets(name: str) -> None:
    text = FORMATS[name].render(sample_report(), Redactor(key=KEY))
    assert "Sup3r" not in text
    assert "cram_md5" not in text
    assert "$1$" not in text
    assert "redacted:" in text


@pytest.mark.parametrize("name", ["json", "jsonl", "csv"])
def test_show_secrets_reveals(name: str) -> None:
    text = FORMATS[name].render(sample_report(), Redactor(show_secrets=True))
    assert PASSWORD in text or json.dumps(PASSWORD)[1:-1] in text


def test_jsonl_records_follow_the_contract() -> None:
    lines = FORMATS["jsonl"].render(sample_report(), Redactor(key=KEY)).splitlines()
    objs = [json.loads(line) for line in lines]
    assert [o["kind"] for o in objs] == [
        "report",
        "input",
        "incident",
        "auth_attempt",
        "auth_attempt",
        "tls_session",
        "account",
        "activity",
        "finding",
        "finding",
        "finding",
        "skipped",
    ]
    attempt = objs[3]
    incident = objs[2]
    assert incident["account"] == "test@victim.org"
    assert incident["incident_kind"] == "compromised-account"
    assert incident["check_ids"] == ["AA102", "AA201", "AA301"]
    assert incident["secret"] == "redacted:473cfa81"
    assert objs[7]["kind"] == "activity" and objs[7]["deferred"] == 5
    assert list(attempt) == [
        "kind",
        "capture",
        "time",
        "client_ip",
        "client_port",
        "server_ip",
        "server_port",
        "mechanism",
        "username",
        "authzid",
        "secret",
        "secret_kind",
        "cracked",
        "outcome",
        "reply_code",
        "reply_text",
        "tls",
        "flags",
    ]
    assert attempt["time"] == "2026-11-01T12:00:00Z"
    assert attempt["secret_kind"] == "cleartext"
    assert objs[0]["schema_version"] == 1


def test_csv_has_one_row_per_record_and_a_kind_column() -> None:
    text = FORMATS["csv"].render(sample_report(), Redactor(key=KEY))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["kind"] for r in rows] == [
        "input",
        "incident",
        "auth_attempt",
        "auth_attempt",
        "tls_session",
        "account",
        "activity",
        "finding",
        "finding",
        "finding",
        "skipped",
    ]
    assert json.loads(rows[3]["flags"]) == ["no-server-reply"]


def test_json_document_sections() -> None:
    doc = json.loads(FORMATS["json"].render(sample_report(), Redactor(key=KEY)))
    assert list(doc) == [
        "schema_version",
        "tool_version",
        "generated_at",
        "command",
        "inputs",
        "stats",
        "incidents",
        "auth_attempts",
        "tls_sessions",
        "accounts",
        "activity",
        "findings",
        "skipped",
    ]
    assert doc["stats"] == {"packets": 42, "smtp_sessions": 2}
    assert [f["check_id"] for f in doc["findings"]] == ["AA101", "AA101", "AA102"]
