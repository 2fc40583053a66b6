"""The user-derived candidate passwords of one mailbox account, and how a known password is classed.

Two sets, in the spirit of John the Ripper's "single crack" mode (its word sources are the login,
the GECOS field split on punctuation, the login split the same way and the home directory's last
component; ``src/loader.c`` ``ldr_init_words()``):

* **username forms** (AA201, :attr:`~authaudit.model.FoundBy.USERNAME`): the login as typed
  (``test@victim.org``), its local part (``test``), the domain (``victim.org``) and each domain
  label but the last (``victim``; labels shorter than 3 characters are left out), each in four
  letter cases: as written, lower case, upper case and capitalised (``Test``). When the password
  itself is known (stored in clear), "any case" is a case-insensitive comparison (``tEsT`` too).
* **variants** (AA202, :attr:`~authaudit.model.FoundBy.VARIANT`): built from the local part, its
  pieces between ``. _ - +``, the GECOS words, the domain labels and the home directory's last
  component (words of at least 3 characters): the GECOS words themselves in the four cases;
  common suffixes (``1``, ``123``, ``!``, ``1234`` ...) and the years from ``YEARS_BACK`` years ago
  up to the current year (``2025``, ``25``) after the lower-case and capitalised word; reversed,
  doubled, reflected (``testtset``); three leet spellings (``7357``, ``t3$t``, ``p@ssw0rd``); rarer
  suffixes; first-name/last-name pairs from the GECOS field (``JohnSmith``, ``john.smith``,
  ``jsmith``, ``smithj``). A known password is also matched case-insensitively against them.

Candidates come rule by rule (every word's ``1`` suffix before any word's rarer suffixes), so the
likeliest guesses are tried first. Each word gives about 100 variants; a typical account 200 to
600.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator

from authaudit.candidates import name_parts
from authaudit.model import Account, FoundBy

__all__ = [
    "YEARS_BACK",
    "classify_known",
    "username_forms",
    "variant_candidates",
    "variant_words",
]

YEARS_BACK = 10
"""How many years before the current one get year suffixes (``now.year - 10`` .. ``now.year``)."""

_MIN_PIECE = 3
_WORD_SPLIT = re.compile(r"[\W_]+")
"""John's single-mode separators: whitespace and punctuation."""
_TOP_SUFFIXES = ("1", "123", "12", "!", "1234", "2", "01", "12345", "123456", "0", "11", "1!")
_MORE_SUFFIXES = ("3", "!1", "123!", "00", "007", "69", "99", "!!", "@", "#", "$", ".", "*", "?")
_LEET = (
    str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}),
    str.maketrans({"a": "@", "e": "3", "i": "1", "o": "0", "s": "$"}),
    str.maketrans({"a": "@", "o": "0"}),
)


def _cases(word: str) -> Iterator[str]:
    yield word
    yield word.lower()
    yield word.upper()
    yield word.lower().capitalize()


def _domain_labels(domain: str | None) -> list[str]:
    """Labels of ``domain`` but the last (the TLD), at least 3 characters long."""
    if not domain:
        return []
    labels = domain.split(".")[:-1]
    return [label for label in labels if len(label) >= _MIN_PIECE]


def username_forms(account: Account) -> list[str]:
    """The AA201 candidates: login, local part, domain and domain labels in four letter cases."""
    bases = [account.address, account.username]
    if account.domain:
        bases.append(account.domain)
    bases += _domain_labels(account.domain)
    out: dict[str, None] = {}
    for base in bases:
        for form in _cases(base):
            if form:
                out.setdefault(form, None)
    return list(out)


def _gecos_words(gecos: str) -> list[str]:
    return [w for w in _WORD_SPLIT.split(gecos) if len(w) >= _MIN_PIECE]


def variant_words(account: Account) -> list[str]:
    """The words AA202 variants are built from, without duplicates (case-insensitively)."""
    extra = _gecos_words(account.gecos)
    if account.home:
        extra.append(account.home.rstrip("/").rsplit("/", 1)[-1])
    parts = name_parts(account.username, extra) + _domain_labels(account.domain)
    out: dict[str, str] = {}
    for part in parts:
        if len(part) >= _MIN_PIECE and "@" not in part:
            out.setdefault(part.lower(), part)
    return list(out.values())


def _rules(
    words: list[str], gecos: list[str], pairs: list[tuple[str, str]], years: Iterable[int]
) -> Iterator[str]:
    """Every variant, rule by rule; may repeat and may include username forms."""
    low = [w.lower() for w in words]
    cap = [w.capitalize() for w in low]
    both = [x for pair in zip(low, cap, strict=True) for x in pair]
    for word in gecos:
        yield from _cases(word)
    for suffix in _TOP_SUFFIXES:
        yield from (w + suffix for w in both)
    for year in years:
        yield from (w + str(year) for w in both)
        yield from (w + f"{year % 100:02d}" for w in both)
    for w, orig in zip(low, words, strict=True):
        yield w[::-1]
        yield w[::-1].capitalize()
        yield orig[::-1]
        yield w + w
        yield w.capitalize() * 2
        yield w.capitalize() + w
        yield w + w[::-1]
    for table in _LEET:
        yield from (w.translate(table) for w in both)
    for suffix in _MORE_SUFFIXES:
        yield from (w + suffix for w in both)
    yield from (w.upper() + s for w in low for s in ("1", "123", "!"))
    for first, last in pairs:
        yield from _pairs(first.lower(), last.lower())


def _name_pairs(account: Account) -> list[tuple[str, str]]:
    """(first name, last name) from the GECOS full name (before the first comma, the Unix
    convention) and from the local part's pieces (``john.smith``)."""
    out: list[tuple[str, str]] = []
    for text in (account.gecos.split(",", 1)[0], account.username):
        words = [w for w in _WORD_SPLIT.split(text) if w]
        if len(words) >= 2 and (words[0], words[-1]) not in out:
            out.append((words[0], words[-1]))
    return out


def _pairs(first: str, last: str) -> Iterator[str]:
    yield first + last
    yield first.capitalize() + last.capitalize()
    for sep in (".", "_", "-"):
        yield first + sep + last
    yield first[0] + last
    yield last + first[0]
    yield last + first
    yield first + last[0]
    yield first[0].upper() + last.capitalize()


def variant_candidates(account: Account, year: int) -> list[str]:
    """The AA202 candidates of ``account`` (``year`` is the current year), likeliest first.

    Username forms are left out (they belong to AA201), and so are duplicates and empty strings.
    """
    skip = set(username_forms(account))
    years = range(year, year - YEARS_BACK - 1, -1)
    out: dict[str, None] = {}
    rules = _rules(variant_words(account), _gecos_words(account.gecos), _name_pairs(account), years)
    for cand in rules:
        if cand and cand not in skip:
            out.setdefault(cand, None)
    return list(out)


def classify_known(
    password: str, account: Account, *, year: int, wordlist: Container[str]
) -> FoundBy:
    """The weakest class a known password falls in: EMPTY, USERNAME, VARIANT, WORDLIST, or
    STORED_CLEARTEXT when it is none of them.

    Username forms and variants are compared case-insensitively (``str.casefold``); the wordlist
    is compared exactly, like a cracker's dictionary. Nothing is hashed.
    """
    if password == "":
        return FoundBy.EMPTY
    folded = password.casefold()
    if folded in {form.casefold() for form in username_forms(account)}:
        return FoundBy.USERNAME
    variants = variant_candidates(account, year)
    if password in variants or folded in {v.casefold() for v in variants}:
        return FoundBy.VARIANT
    if password in wordlist:
        return FoundBy.WORDLIST
    return FoundBy.STORED_CLEARTEXT
