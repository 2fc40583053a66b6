"""The check a user-given ``--query`` must pass: one plain ``SELECT``, nothing that writes or locks.

This is an early refusal with a clear message, not the protection itself: every query runs in a
read-only session and transaction (:mod:`authaudit.accounts.sql_session`), which the server
enforces whatever the text says.
"""

from __future__ import annotations

import itertools
import re

from authaudit.errors import UsageError

__all__ = ["MAX_QUERY", "QueryRejected", "check_select"]

MAX_QUERY = 64 * 1024
"""Longest query accepted (characters); an account listing needs far less."""


class QueryRejected(UsageError, ValueError):
    """A user-given query is not a single plain ``SELECT``."""


_COMMENT_RE = re.compile(r"--[ \t][^\n]*|--$|#[^\n]*|/\*.*?\*/", re.DOTALL | re.MULTILINE)
_TOKEN_RE = re.compile(
    r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`|[A-Za-z_][A-Za-z0-9_$]*|;|.",
    re.DOTALL,
)
_WRITE_WORDS = frozenset(
    "into outfile dumpfile update delete insert drop alter create truncate grant revoke rename "
    "call load lock unlock handler load_file get_lock release_lock release_all_locks sleep "
    "benchmark".split()
)
_DOVECOT_VARIABLE_RE = re.compile(r"(?:[@._-]*(?:%[A-Za-z]?[A-Za-z]|%\{[^}]*\}))+[@._-]*")


def check_select(sql: str) -> str:
    """Return ``sql`` (without a trailing ``;``) if it is one plain ``SELECT``; else raise.

    Refused with :class:`QueryRejected`: anything not starting with ``SELECT``/``WITH``, several
    statements, MySQL executable comments (``/*! ... */``), ``INTO OUTFILE``/``INTO @var``,
    locking reads, write keywords, server-file and lock functions, and Dovecot variables such as
    ``'%u'`` (give a query listing every account, not a per-login ``password_query``). This is a
    clear early refusal; the read-only transaction is what actually prevents writes.
    """
    if len(sql) > MAX_QUERY:
        raise QueryRejected(f"query is longer than {MAX_QUERY} characters")
    if "\x00" in sql:
        raise QueryRejected("query holds a NUL character")
    if re.search(r"/\*[!M]", sql):
        raise QueryRejected("query holds a MySQL executable comment (/*! ... */)")
    parts = [part for part in _TOKEN_RE.findall(_strip_comments(sql)) if not part.isspace()]
    while parts and parts[-1] == ";":
        parts.pop()
    words = [part.lower() for part in parts if part[0].isalpha() or part.startswith("_")]
    first = next((part for part in parts if part != "("), "").lower()
    if first not in ("select", "with"):
        raise QueryRejected("only a SELECT query can be used (it must start with SELECT)")
    if ";" in parts:
        raise QueryRejected("query holds more than one statement (';')")
    bad = sorted(set(words) & _WRITE_WORDS)
    if bad:
        raise QueryRejected(f"query uses {bad[0].upper()}, not allowed in a read-only scan")
    if any(a == "for" and b in ("update", "share") for a, b in itertools.pairwise(words)):
        raise QueryRejected("query is a locking read (FOR UPDATE / FOR SHARE)")
    for part in parts:
        if part[0] in "'\"" and _DOVECOT_VARIABLE_RE.fullmatch(part[1:-1]):
            raise QueryRejected(
                f"query uses the Dovecot variable {part}: give a query that lists every "
                "account (like iterate_query, with the password column)"
            )
    return sql.strip().rstrip(";").rstrip()


def _strip_comments(sql: str) -> str:
    """``sql`` with comments blanked out, leaving quoted strings alone."""
    out: list[str] = []
    pos = 0
    quoted = re.compile(r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|`(?:[^`]|``)*`", re.DOTALL)
    while pos < len(sql):
        literal = quoted.match(sql, pos)
        if literal:
            out.append(literal.group())
            pos = literal.end()
            continue
        comment = _COMMENT_RE.match(sql, pos)
        if comment:
            out.append(" ")
            pos = comment.end()
            continue
        out.append(sql[pos])
        pos += 1
    return "".join(out)
