"""AA201-AA208 on hand-built account results."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import pytest

from authaudit.accounts.vpasswd import NEVER_LOGGED_IN_IP
from authaudit.checks.account_cleartext import AccountCleartext
from authaudit.checks.account_empty import AccountEmpty
from authaudit.checks.account_low_cost import AccountLowCost
from authaudit.checks.account_username import AccountUsername
from authaudit.checks.account_variant import AccountVariant
from authaudit.checks.account_weak_scheme import AccountWeakScheme
from authaudit.checks.account_wordlist import AccountWordlist
from authaudit.checks.account_zxcvbn import AccountZxcvbn
from authaudit.checks.accounts_common import account_severity
from authaudit.checks.interface import Check, Evidence
from authaudit.model import Account, AccountResult, Confidence, FoundBy, Severity
from authaudit.redact import Secret, SecretKind

LAST = datetime(2026, 10, 30, 23, 59, 1, tzinfo=UTC)
MD5_TEST = "$1$saltsalt$uVUIpagfgoSJcvkiqfrtp/"  # any MD5-crypt string will do
CHECKS: tuple[Check, ...] = (
    AccountUsername(), AccountVariant(), AccountEmpty(), AccountWordlist(),
    AccountCleartext(), AccountWeakScheme(), AccountLowCost(), AccountZxcvbn(),
)  # fmt: skip


def account(**kw: Any) -> Account:
    """test@victim.org in vpopmail, MD5-crypt hash, last login from 82.128.32.42."""
    base: dict[str, Any] = {
        "source": "/home/vpopmail",
        "store": "vpopmail",
        "location": "/home/vpopmail/domains/victim.org/vpasswd:3",
        "address": "test@victim.org",
        "username": "test",
        "domain": "victim.org",
        "password_hash": Secret(MD5_TEST, SecretKind.HASH),
        "scheme": "MD5-CRYPT",
        "gecos": "test",
        "last_auth_ip": "82.128.32.42",
        "last_auth_at": LAST,
    }
    base.update(kw)
    return Account(**base)


def result(password: str | None, found_by: FoundBy | None, **kw: Any) -> AccountResult:
    tried = kw.pop("tried", 5)
    return AccountResult(
        account=account(**kw),
        password=None if password is None else Secret(password),
        found_by=found_by,
        candidates_tried=tried,
    )


def ids(*results: AccountResult) -> list[tuple[str, Severity, str]]:
    evidence = Evidence(accounts=results)
    return [(f.check_id, f.severity, f.message) for c in CHECKS for f in c.run(evidence)]


WEAK = "MD5-crypt: fixed 1000 MD5 rounds, refused by Dovecot 2.4 by default; crypt(5) says not to "
WEAK += "use it for new hashes"


def test_aa201_finding_names_account_source_last_login_and_secret() -> None:
    (finding,) = AccountUsername().run(Evidence(accounts=(result("test", FoundBy.USERNAME),)))
    assert finding.check_id == "AA201"
    assert finding.title == "Password equals the username or its local part (any case)"
    assert finding.severity is Severity.CRITICAL
    assert finding.confidence is Confidence.HIGH
    assert finding.subject == "test@victim.org"
    assert finding.message == (
        "Password equals the local part of the login; last login from 82.128.32.42"
    )
    assert finding.evidence == (
        ("source", "/home/vpopmail"),
        ("store", "vpopmail"),
        ("location", "/home/vpopmail/domains/victim.org/vpasswd:3"),
        ("scheme", "MD5-CRYPT"),
        ("last_auth_ip", "82.128.32.42"),
        ("last_auth_at", "2026-10-30T23:59:01+00:00"),
        ("found_by", "username"),
        ("candidates_tried", "5"),
    )
    assert finding.time == LAST
    assert finding.secret == Secret("test")
    assert finding.remediation.startswith("Change the password now")


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("test@victim.org", "Password equals the login"),
        ("TEST", "Password equals the local part of the login in another letter case"),
        ("Victim.org", "Password equals the domain name in another letter case"),
        ("victim", "Password equals a label of the domain name"),
    ],
)
def test_aa201_says_which_part_of_the_login(password: str, message: str) -> None:
    r = result(
        password, FoundBy.USERNAME, last_auth_ip=NEVER_LOGGED_IN_IP, flags=("never-logged-in",)
    )
    (finding,) = AccountUsername().run(Evidence(accounts=(r,)))
    assert finding.message == message  # 0.0.0.0: never logged in, no IP in the message
    assert ("flags", "never-logged-in") in finding.evidence


@pytest.mark.parametrize(
    ("flags", "aa201", "aa202"),
    [
        ((), Severity.CRITICAL, Severity.HIGH),
        (("NO_SMTP",), Severity.HIGH, Severity.MEDIUM),
        (("QA_ADMIN",), Severity.CRITICAL, Severity.CRITICAL),
        (("NO_SMTP", "SA_ADMIN"), Severity.CRITICAL, Severity.CRITICAL),
    ],
)
def test_flags_adjust_password_severities(
    flags: tuple[str, ...], aa201: Severity, aa202: Severity
) -> None:
    assert account_severity(Severity.CRITICAL, account(flags=flags)) is aa201
    assert account_severity(Severity.HIGH, account(flags=flags)) is aa202
    (finding,) = AccountUsername().run(
        Evidence(accounts=(result("test", FoundBy.USERNAME, flags=flags),))
    )
    assert finding.severity is aa201


def test_each_found_class_gives_exactly_its_check_plus_scheme_checks() -> None:
    ip = "; last login from 82.128.32.42"
    scheme = ("AA206", Severity.MEDIUM, "Weak password hash scheme MD5-CRYPT")
    assert ids(result("test", FoundBy.USERNAME)) == [
        ("AA201", Severity.CRITICAL, "Password equals the local part of the login" + ip),
        scheme,
    ]
    assert ids(result("test2025", FoundBy.VARIANT)) == [
        ("AA202", Severity.HIGH, "Password is a simple variant of the login or the real name" + ip),
        scheme,
    ]
    assert ids(result("", FoundBy.EMPTY)) == [
        ("AA203", Severity.CRITICAL, "The empty password logs in" + ip),
        scheme,
    ]
    assert ids(result("password", FoundBy.WORDLIST)) == [
        ("AA204", Severity.HIGH, "Password is in the wordlist" + ip),
        scheme,
    ]
    assert ids(result(None, None, tried=3600)) == [scheme]


def test_aa205_stored_cleartext_with_aa201_and_no_double_report() -> None:
    plain = result(
        "test",
        FoundBy.USERNAME,
        store="dovecot-passwd",
        password_hash=Secret("{PLAIN}test", SecretKind.HASH),
        scheme="PLAIN",
        tried=0,
    )
    assert ids(plain) == [
        ("AA201", Severity.CRITICAL, "Password equals the local part of the login; last login "
         "from 82.128.32.42"),
        ("AA205", Severity.MEDIUM, "Password stored in cleartext ({PLAIN} password value)"),
    ]  # fmt: skip
    (aa205,) = AccountCleartext().run(Evidence(accounts=(plain,)))
    assert aa205.secret == Secret("test")
    assert dict(aa205.evidence)["stored_as"] == "{PLAIN} password value"
    vpasswd = result("letmein", FoundBy.WORDLIST, cleartext=Secret("letmein"), tried=0)
    assert [i for i, _, _ in ids(vpasswd)] == ["AA204", "AA205", "AA206"]
    (aa205,) = AccountCleartext().run(Evidence(accounts=(vpasswd,)))
    assert aa205.message == "Password stored in cleartext (vpasswd field 8 (pw_clear_passwd))"
    encoded = result(
        "Zq8#kLp2!vR",
        FoundBy.STORED_CLEARTEXT,
        password_hash=Secret("{PLAIN.hex}5a7138236b4c7032217652"),
        scheme=None,
    )
    (aa205,) = AccountCleartext().run(Evidence(accounts=(encoded,)))
    assert aa205.message == "Password stored in cleartext ({PLAIN.hex} password value)"


def test_aa203_nopassword_and_vpopmail_empty_field() -> None:
    anyone = result("", FoundBy.EMPTY, store="dovecot-passwd", flags=("nopassword",))
    empty = AccountResult(
        account=account(password_hash=None, scheme=None, flags=("empty-password",)),
        problem="no password hash stored",
    )
    dovecot_empty = AccountResult(
        account=account(password_hash=None, scheme=None, store="dovecot-passwd",
                        flags=("empty-password",)),
        problem="no password hash stored",
    )  # fmt: skip
    findings = list(AccountEmpty().run(Evidence(accounts=(anyone, empty, dovecot_empty))))
    assert [(f.severity, f.confidence, f.message) for f in findings] == [
        (Severity.CRITICAL, Confidence.HIGH, "The passdb accepts any password (nopassword); "
         "last login from 82.128.32.42"),
        (Severity.HIGH, Confidence.LOW, "No password stored: anyone can set one at first login "
         "if vpopmail was built with --enable-learn-passwords"),
    ]  # fmt: skip
    assert findings[1].secret is None
    assert dict(findings[1].evidence)["scheme"] == "unknown"


def test_aa206_and_aa207_read_the_scheme() -> None:
    bcrypt = "$2y$05$" + "a" * 53
    low = result(None, None, password_hash=Secret(bcrypt, SecretKind.HASH), scheme=None)
    (aa207,) = AccountLowCost().run(Evidence(accounts=(low,)))
    assert aa207.severity is Severity.LOW
    assert aa207.message == "Low cost BLF-CRYPT hash: bcrypt cost 5 is below 10 (OWASP minimum)"
    assert dict(aa207.evidence)["cost"] == "5"
    assert list(AccountWeakScheme().run(Evidence(accounts=(low,)))) == []
    (aa206,) = AccountWeakScheme().run(Evidence(accounts=(result(None, None),)))
    assert dict(aa206.evidence)["weakness"] == WEAK
    assert aa206.secret is None
    strong = result(None, None, password_hash=Secret("$2y$10$" + "a" * 53), scheme="BLF-CRYPT")
    unknown = result(None, None, password_hash=Secret("{FOO}x"), scheme=None)
    assert ids(strong, unknown) == []


def test_aa208_only_for_otherwise_unexplained_cleartexts() -> None:
    weak = result("summer2019", FoundBy.STORED_CLEARTEXT, cleartext=Secret("summer2019"))
    strong = result("Tr0ub4dor&3", FoundBy.STORED_CLEARTEXT, cleartext=Secret("Tr0ub4dor&3"))
    listed = result("password", FoundBy.WORDLIST, cleartext=Secret("password"))
    findings = list(AccountZxcvbn().run(Evidence(accounts=(weak, strong, listed))))
    assert [(f.subject, f.severity, f.message) for f in findings] == [
        ("test@victim.org", Severity.MEDIUM,
         "Guessable password: zxcvbn score 1 of 4; last login from 82.128.32.42"),
    ]  # fmt: skip
    assert findings[0].evidence[-3:] == (
        ("zxcvbn_score", "1"),
        ("zxcvbn_guesses_log10", "4.23"),
        ("zxcvbn_backend", "zxcvbn-rs-py"),
    )
    assert findings[0].secret == Secret("summer2019")
    # the user's own words make a password guessable for that user only
    named = result("Liddell1", FoundBy.STORED_CLEARTEXT, gecos="Alice Liddell")
    assert [f.check_id for f in AccountZxcvbn().run(Evidence(accounts=(named,)))] == ["AA208"]


def test_one_finding_per_account_per_check_and_ids() -> None:
    everything = (
        result("test", FoundBy.USERNAME, password_hash=Secret("{PLAIN}test"), scheme="PLAIN"),
        result(None, None),
    )
    findings = [(c.id, f.subject) for c in CHECKS for f in c.run(Evidence(accounts=everything))]
    assert len(findings) == len(set(findings)) == 3
    assert [c.id for c in CHECKS] == [f"AA20{i}" for i in (1, 2, 3, 4, 5, 6, 7, 8)]
    for check in CHECKS:
        doc = sys.modules[type(check).__module__].__doc__ or ""
        assert doc.startswith(f"**{check.id} {check.title}.**"), check.id
        assert "References:" in doc
        assert "Example row:" in doc
