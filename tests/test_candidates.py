"""User-derived candidate passwords."""

from __future__ import annotations

from authaudit.candidates import name_parts, user_candidates


def test_name_parts_cover_login_forms() -> None:
    assert name_parts("john.smith@example.org") == [
        "john.smith@example.org", "john.smith", "john", "smith", "example"]
    assert name_parts("SMTPDOM\\jack") == ["SMTPDOM\\jack", "jack"]
    assert name_parts("test", ["Test User"]) == ["test", "Test", "User"]


def test_most_likely_candidates_come_first() -> None:
    c = user_candidates("test@victim.org")
    assert c[:4] == ["test@victim.org", "Test@victim.org", "TEST@VICTIM.ORG", "test"]
    assert c.index("test") < c.index("test123")
    assert len(c) == len(set(c))


def test_variants_include_years_reverse_double_leet() -> None:
    c = user_candidates("admin", years=[2025, 2026])
    for want in ("admin2026", "admin26", "Admin2025", "nimda", "adminadmin", "4dm1n", "admin123",
                 "ADMIN", "Admin!"):
        assert want in c, want
