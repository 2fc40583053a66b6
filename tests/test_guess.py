"""guess_accounts on real crypt(3) hashes: classes, order, budget, the pool, problems."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from authaudit import guess as guess_module
from authaudit.accounts import libcrypt
from authaudit.accounts.vpopmail import VpopmailSource
from authaudit.checks.account_username import AccountUsername
from authaudit.checks.interface import Evidence
from authaudit.guess import GuessOptions, guess_accounts
from authaudit.guess_candidates import username_forms, variant_candidates
from authaudit.guess_worker import VPOPMAIL_EMPTY
from authaudit.model import Account, AccountResult, FoundBy, Severity
from authaudit.redact import Secret, SecretKind

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WORDS = ("123456", "12345", "password", "letmein")
LIB = libcrypt.load()
PREFIXES = {"DES-CRYPT": ("", 0), "MD5-CRYPT": ("$1$", 0), "SHA512-CRYPT": ("$6$", 0),
            "BLF-CRYPT": ("$2y$", 5)}  # fmt: skip
STRONG = "Zq8#kLp2!vR"

pytestmark = pytest.mark.skipif(LIB is None, reason="no system libcrypt")


def crypt(password: str, scheme: str) -> str:
    """A fresh crypt(3) hash of ``password`` with the method Dovecot names ``scheme``."""
    assert LIB is not None
    prefix, count = PREFIXES[scheme]
    out = LIB.hash_password(password, prefix, count)
    assert out is not None
    return out


def account(stored: str | None, **kw: Any) -> Account:
    """test@victim.org in a Dovecot passwd-file with ``stored`` as its password field."""
    base: dict[str, Any] = {
        "source": "/etc/dovecot/users",
        "store": "dovecot-passwd",
        "location": "/etc/dovecot/users:1",
        "address": "test@victim.org",
        "username": "test",
        "domain": "victim.org",
        "password_hash": None if stored is None else Secret(stored, SecretKind.HASH),
    }
    base.update(kw)
    return Account(**base)


def options(**kw: Any) -> GuessOptions:
    base: dict[str, Any] = {"wordlist": WORDS, "now": NOW, "jobs": 1}
    base.update(kw)
    return GuessOptions(**base)


def guess(*accounts: Account, **kw: Any) -> list[AccountResult]:
    return guess_accounts(accounts, options(**kw))


def summary(result: AccountResult) -> tuple[object, ...]:
    password = None if result.password is None else result.password.value
    return (result.account.scheme, result.found_by, password, result.complete, result.problem)


@pytest.mark.parametrize("scheme", list(PREFIXES))
def test_test_test_is_username_on_every_crypt_scheme(scheme: str) -> None:
    (result,) = guess(account(crypt("test", scheme)))
    assert summary(result) == (scheme, FoundBy.USERNAME, "test", True, None)
    assert result.candidates_tried == 5  # "", then test@victim.org x3 case forms, then test
    assert result.password is not None
    assert result.password.kind is SecretKind.CLEARTEXT


@pytest.mark.parametrize("scheme", list(PREFIXES))
def test_classes_in_order_on_real_hashes(scheme: str) -> None:
    passwords = ["Test", "tset", "test123", "test2025", "", "password"]
    results = guess(*(account(crypt(p, scheme)) for p in passwords))
    assert [(r.found_by, r.password.value if r.password else None) for r in results] == [
        (FoundBy.USERNAME, "Test"),
        (FoundBy.VARIANT, "tset"),
        (FoundBy.VARIANT, "test123"),
        (FoundBy.VARIANT, "test2025"),
        (FoundBy.EMPTY, ""),
        (FoundBy.WORDLIST, "password"),
    ]
    assert results[4].candidates_tried == 1
    forms = username_forms(results[0].account)
    variants = variant_candidates(results[0].account, NOW.year)
    if scheme == "DES-CRYPT":  # DES reads 8 bytes: some long candidates are the same guess
        assert results[1].candidates_tried < 1 + len(forms) + variants.index("tset") + 1
        return
    assert results[1].candidates_tried == 1 + len(forms) + variants.index("tset") + 1
    # the wordlist comes after every user-derived candidate, "password" is its third entry
    assert results[5].candidates_tried == 1 + len(forms) + len(variants) + 3


def test_strong_password_on_cheap_scheme_tries_everything() -> None:
    (result,) = guess(account(crypt(STRONG, "DES-CRYPT")))
    assert summary(result) == ("DES-CRYPT", None, None, True, None)
    assert result.candidates_tried > len(WORDS)


def test_stored_plain_is_classed_without_hashing() -> None:
    (plain, b64, other) = guess(
        account("{PLAIN}test"), account("{PLAIN.b64}dGVzdDEyMw=="), account("{PLAIN}" + STRONG)
    )
    assert summary(plain) == ("PLAIN", FoundBy.USERNAME, "test", True, None)
    assert summary(b64) == ("PLAIN", FoundBy.VARIANT, "test123", True, None)
    assert summary(other) == ("PLAIN", FoundBy.STORED_CLEARTEXT, STRONG, True, None)
    assert plain.candidates_tried == b64.candidates_tried == other.candidates_tried == 0


def test_vpasswd_cleartext_field_wins_over_the_hash() -> None:
    a = account(crypt(STRONG, "SHA512-CRYPT"), store="vpopmail", cleartext=Secret("password"))
    (result,) = guess(a)
    assert summary(result) == ("SHA512-CRYPT", FoundBy.WORDLIST, "password", True, None)
    assert result.candidates_tried == 0


def test_nopassword_and_empty_fields() -> None:
    results = guess(
        account(crypt(STRONG, "MD5-CRYPT"), flags=("nopassword",)),
        account(None, flags=("empty-password",)),
        account(None, flags=("empty-password",), store="vpopmail"),
        account(None, flags=("no-password-field",)),
        account(None, flags=("empty-password",), scheme="PLAIN"),
    )
    assert [summary(r) for r in results] == [
        ("MD5-CRYPT", FoundBy.EMPTY, "", True, None),
        (None, None, None, True, "no password hash stored (crypt never matches empty data)"),
        (None, None, None, True, VPOPMAIL_EMPTY),
        (None, None, None, True, "no password stored"),
        ("PLAIN", FoundBy.EMPTY, "", True, None),
    ]


def test_unknown_locked_and_unverifiable_values_are_problems() -> None:
    results = guess(
        account("{FOO}bar"),
        account("!" + crypt("test", "MD5-CRYPT")),
        account("{RPA}" + "00" * 16),
        account("d41d8cd98f00b204e9800998ecf8427e", store="vpopmail"),
    )
    assert [(r.found_by, r.problem) for r in results] == [
        (None, "unknown password scheme 'FOO'"),
        (None, "account locked or disabled ('!' or '*' marker)"),
        (None, "cannot verify RPA hashes: no verifier: RPA's hash input is not implemented"),
        (None, results[3].problem),
    ]
    assert results[3].problem is not None
    assert results[3].problem.endswith("(looks like a hex digest: wrong passdb default?)")


def test_default_scheme_option_applies_to_bare_values() -> None:
    bare_md5 = "098f6bcd4621d373cade4e832627b4f6"  # PLAIN-MD5 of "test"
    (result,) = guess(account(bare_md5), default_scheme="MD5")
    assert summary(result) == ("PLAIN-MD5", FoundBy.USERNAME, "test", True, None)


def test_tiny_budget_on_slow_scheme_still_tries_user_candidates() -> None:
    words = tuple(f"word{i}" for i in range(50))
    slow = account(crypt(STRONG, "BLF-CRYPT"))
    found = account(crypt("test2025", "BLF-CRYPT"))
    miss, hit = guess(slow, found, wordlist=words, budget_seconds_per_account=0.0, wordlist_floor=3)
    users = 1 + len(username_forms(slow)) + len(variant_candidates(slow, NOW.year))
    assert summary(miss) == ("BLF-CRYPT", None, None, False, None)
    assert miss.candidates_tried == users + 3
    assert summary(hit) == ("BLF-CRYPT", FoundBy.VARIANT, "test2025", True, None)
    (thorough,) = guess(slow, wordlist=words, budget_seconds_per_account=0.0, thorough=True)
    assert summary(thorough) == ("BLF-CRYPT", None, None, True, None)
    assert thorough.candidates_tried == users + 50


def test_pool_gives_the_same_results_in_input_order(monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = [
        account(crypt(p, scheme), address=f"{user}@victim.org", username=user)
        for user, p, scheme in (
            ("test", "test", "SHA512-CRYPT"),
            ("sales", STRONG, "BLF-CRYPT"),
            ("info", "info2024", "MD5-CRYPT"),
            ("test", "", "DES-CRYPT"),
            ("admin", "letmein", "SHA512-CRYPT"),
            ("bob", STRONG, "SHA512-CRYPT"),
        )
    ]
    accounts.insert(2, account("{PLAIN}test"))
    accounts.insert(4, account("{FOO}x"))
    seen: list[tuple[int, int]] = []
    kw: dict[str, Any] = {"budget_seconds_per_account": 0.05}
    one = guess_accounts(accounts, options(jobs=1, **kw))
    pools: list[int] = []
    real_pool = guess_module._run_pool

    def spy(chunks: list[list[tuple[int, Account]]], jobs: int, *rest: Any) -> None:
        pools.append(sum(len(c) for c in chunks))
        real_pool(chunks, jobs, *rest)

    monkeypatch.setattr(guess_module, "_run_pool", spy)
    two = guess_accounts(
        accounts, options(jobs=2, pool_min_seconds=0.0, **kw), lambda d, t: seen.append((d, t))
    )
    assert pools == [6]  # the hashed accounts went to workers, {PLAIN} and {FOO} stayed here
    assert two == one
    assert [r.account.address for r in two] == [a.address for a in accounts]
    assert seen[0] == (0, 8)
    assert seen[-1] == (8, 8)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_relay_spam_vpopmail_test_test_gives_aa201_with_last_auth_ip(tmp_path: Path) -> None:
    home = tmp_path / "vpopmail"
    domain = home / "domains" / "victim.org"
    (domain / "test").mkdir(parents=True)
    (domain / "vpasswd").write_text(
        f"test:{crypt('test', 'MD5-CRYPT')}:1:0:test:/home/vpopmail/domains/victim.org/test:"
        "NOQUOTA\n"
    )
    lastauth = domain / "test" / "lastauth"
    lastauth.write_text("82.128.32.42")
    when = datetime(2026, 10, 30, 23, 59, 1, tzinfo=UTC)
    os.utime(lastauth, (when.timestamp(), when.timestamp()))
    accounts = [r for r in VpopmailSource(home).collect() if isinstance(r, Account)]
    results = guess_accounts(accounts, options())
    (finding,) = AccountUsername().run(Evidence(accounts=tuple(results)))
    assert finding.check_id == "AA201"
    assert finding.severity is Severity.CRITICAL
    assert finding.subject == "test@victim.org"
    assert finding.message == (
        "Password equals the local part of the login; last login from 82.128.32.42"
    )
    evidence = dict(finding.evidence)
    assert evidence["last_auth_ip"] == "82.128.32.42"
    assert evidence["last_auth_at"] == "2026-10-30T23:59:01+00:00"
    assert evidence["scheme"] == "MD5-CRYPT"
    assert evidence["found_by"] == "username"
    assert finding.time == when
    assert finding.secret == Secret("test", SecretKind.CLEARTEXT)
