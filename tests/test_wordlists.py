"""Wordlist loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from authaudit.errors import SourceError
from authaudit.wordlists import bundled_wordlists, load_wordlists


def test_load_dedupes_skips_comments_keeps_spaces(tmp_path: Path) -> None:
    a = tmp_path / "a.lst"
    a.write_bytes(b"#!comment: hi\npassword\r\n with space\npassword\n\n\xff\xfe\n")
    b = tmp_path / "b.lst"
    b.write_bytes(b"letmein\npassword\n")
    words = load_wordlists([a, b])
    assert words == ["password", " with space", "\udcff\udcfe", "letmein"]


def test_unreadable_wordlist_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read wordlist"):
        load_wordlists([tmp_path / "missing.lst"])


def test_bundled_john_list_loads() -> None:
    lists = bundled_wordlists()
    assert [p.name for p in lists] == ["john-password.lst", "zxcvbn-passwords-30k.txt"]
    assert len(load_wordlists(lists[:1])) == 3545
    zxcvbn = load_wordlists(lists[1:])
    assert len(zxcvbn) == 30000
    assert zxcvbn[:4] == ["123456", "password", "12345678", "qwerty"]
    words = load_wordlists(lists)
    assert len(words) == 31819
    assert words[:3] == ["123456", "12345", "password"]
