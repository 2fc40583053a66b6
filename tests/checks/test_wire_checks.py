"""AA101, AA102 and AA103 on hand-made attempts."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from authaudit.checks import CHECKS, Evidence, run_checks
from authaudit.model import Outcome, Severity
from authaudit.redact import Secret, SecretKind
from tests.factories import T0, make_attempt, make_flow

ROOT = Path(__file__).resolve().parents[2]


def _ids(evidence: Evidence) -> list[tuple[str, Severity, str]]:
    return [(f.check_id, f.severity, f.subject) for f in run_checks(evidence)]


def test_check_registry_ids_are_stable_unique_and_documented() -> None:
    assert list(CHECKS) == [
        "AA101", "AA102", "AA103", "AA201", "AA202", "AA203", "AA204", "AA205", "AA206", "AA207",
        "AA208", "AA301", "AA302", "AA303", "AA304", "AA305", "AA306", "AA307",
    ]
    docs = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    for cid, check in CHECKS.items():
        assert re.fullmatch(r"AA\d{3}", cid)
        assert check.id == cid
        assert f"## {cid} " in docs, cid


def test_accepted_cleartext_login_gives_aa101_and_aa102() -> None:
    ev = Evidence(attempts=(make_attempt(),))
    assert _ids(ev) == [
        ("AA101", Severity.HIGH, "test on 192.0.2.25:25"),
        ("AA102", Severity.CRITICAL, "test on 192.0.2.25:25"),
    ]


def test_repeated_attempts_are_grouped_with_counts() -> None:
    attempts = tuple(
        make_attempt(
            time=T0 + timedelta(seconds=i),
            flow=make_flow(client_ip=f"10.0.0.{i % 7}"),
            outcome=Outcome.FAILURE if i else Outcome.SUCCESS,
        )
        for i in range(10)
    )
    (aa101,) = [f for f in run_checks(Evidence(attempts=attempts)) if f.check_id == "AA101"]
    ev = dict(aa101.evidence)
    assert ev["attempts"] == "10"
    assert ev["outcomes"] == "failure 9, success 1"
    assert ev["clients"] == "10.0.0.0, 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4 (+2 more)"
    assert ev["first_seen"] == T0.isoformat()
    assert ev["last_seen"] == (T0 + timedelta(seconds=9)).isoformat()


def test_failed_login_is_aa101_only_and_tls_is_nothing() -> None:
    failed = make_attempt(outcome=Outcome.FAILURE, reply_code=535)
    assert [i for i, _, _ in _ids(Evidence(attempts=(failed,)))] == ["AA101"]
    assert _ids(Evidence(attempts=(make_attempt(tls=True),))) == []
    assert _ids(Evidence(attempts=(make_attempt(secret=None, outcome=Outcome.REJECTED),))) == []


def test_challenge_response_is_medium_and_cracked_is_aa103() -> None:
    cram = make_attempt(mechanism="CRAM-MD5", secret=Secret("$cram_md5$x$y", SecretKind.CRAM_MD5))
    assert _ids(Evidence(attempts=(cram,))) == [("AA101", Severity.MEDIUM, "test on 192.0.2.25:25")]
    cracked = make_attempt(
        mechanism="CRAM-MD5",
        secret=Secret("$cram_md5$x$y", SecretKind.CRAM_MD5),
        cracked=Secret("test"),
    )
    assert _ids(Evidence(attempts=(cracked,))) == [
        ("AA101", Severity.MEDIUM, "test on 192.0.2.25:25"),
        ("AA103", Severity.CRITICAL, "test on 192.0.2.25:25"),
    ]
    failed = make_attempt(
        mechanism="CRAM-MD5",
        secret=Secret("$cram_md5$x$y", SecretKind.CRAM_MD5),
        cracked=Secret("test"),
        outcome=Outcome.FAILURE,
    )
    (aa103,) = [f for f in run_checks(Evidence(attempts=(failed,))) if f.check_id == "AA103"]
    assert aa103.severity is Severity.HIGH
    assert aa103.secret == Secret("test")


def test_findings_keep_secret_for_the_redactor_not_in_text() -> None:
    for f in run_checks(Evidence(attempts=(make_attempt(secret=Secret("s3cr3t!")),))):
        assert "s3cr3t!" not in f.message
        assert all("s3cr3t!" not in v for _, v in f.evidence)
        assert f.secret == Secret("s3cr3t!")


def test_checks_doc_is_generated_from_the_code() -> None:
    from authaudit.checks.docs import checks_markdown

    assert (ROOT / "docs" / "checks.md").read_text(encoding="utf-8") == checks_markdown()
