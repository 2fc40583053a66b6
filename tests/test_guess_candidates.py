"""AA201 username forms, AA202 variants and the classing of known passwords."""

from __future__ import annotations

from typing import Any

import pytest

from authaudit.guess_candidates import (
    YEARS_BACK,
    classify_known,
    username_forms,
    variant_candidates,
    variant_words,
)
from authaudit.model import Account, FoundBy


def account(**kw: Any) -> Account:
    """test@victim.org in a vpopmail store unless told otherwise."""
    base: dict[str, Any] = {
        "source": "/home/vpopmail",
        "store": "vpopmail",
        "location": "/home/vpopmail/domains/victim.org/vpasswd:1",
        "address": "test@victim.org",
        "username": "test",
        "domain": "victim.org",
        "gecos": "test",
        "home": "/home/vpopmail/domains/victim.org/test",
    }
    base.update(kw)
    return Account(**base)


def test_username_forms_are_login_local_part_and_domain_in_four_cases() -> None:
    assert username_forms(account()) == [
        "test@victim.org", "TEST@VICTIM.ORG", "Test@victim.org",
        "test", "TEST", "Test",
        "victim.org", "VICTIM.ORG", "Victim.org",
        "victim", "VICTIM", "Victim",
    ]  # fmt: skip
    assert username_forms(account(address="Admin", username="Admin", domain=None)) == [
        "Admin", "admin", "ADMIN",
    ]  # fmt: skip
    # labels shorter than 3 characters and the TLD are not words
    forms = username_forms(account(domain="mail.co.uk", address="x@mail.co.uk", username="x"))
    assert "mail" in forms
    assert "co" not in forms
    assert "uk" not in forms


def test_variant_words_come_from_login_gecos_home_and_domain() -> None:
    a = account(
        address="john.smith@example.org",
        username="john.smith",
        domain="example.org",
        gecos="John Smith,Room 12",
        home="/srv/mail/jsmith",
    )
    assert variant_words(a) == ["john.smith", "john", "smith", "Room", "jsmith", "example"]
    assert variant_words(account()) == ["test", "victim"]


def test_variants_cover_the_single_mode_rules_likeliest_first() -> None:
    variants = variant_candidates(account(), 2026)
    assert variants[:4] == ["test1", "Test1", "victim1", "Victim1"]
    for want in (
        "test123", "Test!", "test2026", "Test2016", "test25", "tset", "Tset", "testtest",
        "TestTest", "testtset", "7357", "t3$t", "test007", "TEST123", "victim2020",
    ):  # fmt: skip
        assert want in variants, want
    assert "test2015" not in variants  # YEARS_BACK years before 2026 at most
    assert "test2027" not in variants
    assert YEARS_BACK == 10
    assert not set(variants) & set(username_forms(account()))
    assert len(variants) == len(set(variants)) == 218
    assert "" not in variants


def test_gecos_names_give_words_and_name_pairs() -> None:
    a = account(
        address="js@example.org", username="js", domain="example.org", gecos="John Smith", home=None
    )
    variants = variant_candidates(a, 2026)
    for want in ("John", "SMITH", "john1", "Smith2026", "johnsmith", "JohnSmith", "john.smith",
                 "jsmith", "smithj", "JSmith", "htims"):  # fmt: skip
        assert want in variants, want


@pytest.mark.parametrize(
    ("password", "found_by"),
    [
        ("", FoundBy.EMPTY),
        ("test", FoundBy.USERNAME),
        ("Test", FoundBy.USERNAME),
        ("tEsT", FoundBy.USERNAME),
        ("TEST@victim.org", FoundBy.USERNAME),
        ("victim", FoundBy.USERNAME),
        ("tset", FoundBy.VARIANT),
        ("test123", FoundBy.VARIANT),
        ("TEST123", FoundBy.VARIANT),
        ("tEsT2025", FoundBy.VARIANT),
        ("password", FoundBy.WORDLIST),
        ("Password", FoundBy.STORED_CLEARTEXT),
        ("Zq8#kLp2!vR", FoundBy.STORED_CLEARTEXT),
    ],
)
def test_known_password_is_classed_without_hashing(password: str, found_by: FoundBy) -> None:
    wordlist = {"123456", "password", "test123"}
    assert classify_known(password, account(), year=2026, wordlist=wordlist) is found_by
