"""Candidate passwords derived from an account's own name, in the spirit of John the Ripper's
"single crack" mode: people pick their login, its parts and trivial changes of it.

The order matters: the cheapest and most likely guesses come first, so a small budget on a slow
hash still covers them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

__all__ = ["name_parts", "user_candidates"]

_LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"})
_SUFFIXES = ("1", "12", "123", "1234", "12345", "123456", "!", "01", "2", "0", "!1", "11")
_SPLIT = re.compile(r"[._\-+@\\ ]+")


def name_parts(username: str, extra: Iterable[str] = ()) -> list[str]:
    """The strings a person derives passwords from: the login, its local part, the user part of
    ``DOMAIN\\user``, the domain's first label, the pieces between dots and dashes, and ``extra``
    words (GECOS, real name). Duplicates removed, order kept."""
    out: dict[str, None] = {}

    def add(word: str) -> None:
        word = word.strip()
        if word:
            out.setdefault(word, None)

    add(username)
    user = username.rsplit("\\", 1)[-1]
    add(user)
    local, _, domain = user.partition("@")
    add(local)
    for piece in _SPLIT.split(local):
        if len(piece) >= 3:
            add(piece)
    if domain:
        add(domain.split(".", 1)[0])
    for word in extra:
        for piece in _SPLIT.split(word):
            if len(piece) >= 3:
                add(piece)
    return list(out)


def _case_forms(word: str) -> Iterator[str]:
    yield word
    yield word.lower()
    yield word.capitalize()
    yield word.upper()


def user_candidates(
    username: str, extra: Iterable[str] = (), *, years: Iterable[int] = ()
) -> list[str]:
    """Candidate passwords for ``username``, most likely first, without duplicates.

    ``years`` adds ``name<year>`` and ``name<yy>`` suffixes (pass recent years; the caller knows the
    date, this module does not read the clock)."""
    parts = name_parts(username, extra)
    out: dict[str, None] = {}
    # 1. the names themselves, in the usual case forms (AA201 territory)
    for part in parts:
        for form in _case_forms(part):
            out.setdefault(form, None)
    year_suffixes = [s for y in years for s in (str(y), f"{y % 100:02d}")]
    # 2. simple variants (AA202 territory)
    for part in parts:
        low = part.lower()
        for form in (low, part.capitalize()):
            for suffix in (*_SUFFIXES, *year_suffixes):
                out.setdefault(form + suffix, None)
        out.setdefault(low[::-1], None)
        out.setdefault(part[::-1], None)
        out.setdefault(low + low, None)
        out.setdefault(low.translate(_LEET), None)
        out.setdefault(low.capitalize().translate(_LEET), None)
    return list(out)
