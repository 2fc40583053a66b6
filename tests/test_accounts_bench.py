"""Smoke test of bench/accounts_bench.py on a tiny store (DES-CRYPT only, no strong accounts)."""

from __future__ import annotations

import json
import shutil

import pytest

from bench import accounts_bench

pytestmark = pytest.mark.skipif(shutil.which("doveadm") is None, reason="needs doveadm")


def test_tiny_bench_finds_every_planted_account(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--schemes", "DES-CRYPT", "--strong", "0", "--words", "50"]
    argv += ["--rate-seconds", "0.05", "--john-test-seconds", "1", "--scaling-accounts", "2"]
    argv += ["--jobs", "2", "--json"]
    assert accounts_bench.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accounts"] == 7 + 2
    assert report["words"] == 50
    assert report["authaudit"]["found_counts"] == {
        "AA201": "1/1", "AA202": "3/3", "AA203": "1/1", "AA204": "2/2", "AA205": "2/2",
    }  # fmt: skip
    assert report["authaudit"]["misclassified"] == []
    assert report["scaling"]["accounts"] == 2
    assert report["scaling"]["speedup"] > 0
    assert report["verdicts"]["planted AA201-AA205 found by default profile"] == "PASS"
    assert [r["scheme"] for r in report["rates"]] == ["DES-CRYPT"]
    assert all(r["authaudit_per_core"] > 0 for r in report["rates"])
    if shutil.which("john") is not None:
        assert report["john"]["found_counts"]["AA205"] == "n/a"
        assert report["john"]["found_counts"]["AA201"] == "1/1"
        assert all(r["john_per_core"] for r in report["rates"])


def test_bad_scheme_is_a_usage_error() -> None:
    assert accounts_bench.main(["--schemes", "ROT13"]) == 2
