"""Password strength as zxcvbn estimates it (AA208), with the account's own words as inputs.

zxcvbn (Wheeler, USENIX Security 2016) scores a password 0 to 4 from the number of guesses a
cracker trying dictionaries, keyboard patterns, dates and the user's own words would need; 0 and 1
mean under 10^6 guesses ("too guessable" / "very guessable"). The backend is ``zxcvbn-rs-py`` (the
Rust port, ~10x faster, no length limit); the pure-Python ``zxcvbn`` package is used when only it
is installed (it refuses passwords over 72 characters). Without either, :func:`password_strength`
says why instead of scoring.

zxcvbn matches user inputs as whole lower-cased tokens, so the inputs are split: the login, its
local part, the domain and its labels, and every GECOS word.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from authaudit.model import Account

__all__ = ["Strength", "password_strength", "strength_backend", "user_inputs"]

_SPLIT = re.compile(r"[\W_]+")

_Scorer = Callable[[str, list[str]], tuple[int, float]]


@dataclass(frozen=True, slots=True)
class Strength:
    """zxcvbn's verdict on one password, or why there is none."""

    score: int | None
    """0 (too guessable) to 4 (very unguessable); None when it could not be computed."""
    guesses_log10: float | None = None
    """log10 of zxcvbn's estimated number of guesses."""
    backend: str | None = None
    """``zxcvbn-rs-py`` or ``zxcvbn``."""
    reason: str | None = None
    """Why ``score`` is None."""


def user_inputs(account: Account) -> list[str]:
    """Words of the account that make a password guessable for it, without duplicates."""
    words = [account.address, account.username]
    words += _SPLIT.split(account.username)
    if account.domain:
        words.append(account.domain)
        words += account.domain.split(".")
    words += _SPLIT.split(account.gecos)
    out: dict[str, None] = {}
    for word in words:
        if word:
            out.setdefault(word, None)
    return list(out)


def _rust(module: Any) -> _Scorer:
    def score(password: str, inputs: list[str]) -> tuple[int, float]:
        result = module.zxcvbn(password, user_inputs=inputs)
        return int(result.score), float(result.guesses_log10)

    return score


def _python(module: Any) -> _Scorer:
    def score(password: str, inputs: list[str]) -> tuple[int, float]:
        result = module.zxcvbn(password, user_inputs=inputs)
        return int(result["score"]), float(result["guesses_log10"])

    return score


@cache
def _backend() -> tuple[str, _Scorer] | str:
    """(name, scorer) of the first importable backend, or why there is none."""
    for name, module_name, wrap in (
        ("zxcvbn-rs-py", "zxcvbn_rs_py", _rust),
        ("zxcvbn", "zxcvbn", _python),
    ):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        return name, wrap(module)
    return "neither zxcvbn-rs-py nor zxcvbn is installed"


def strength_backend() -> str | None:
    """The name of the backend :func:`password_strength` uses, or None when there is none."""
    backend = _backend()
    return None if isinstance(backend, str) else backend[0]


def password_strength(password: str, inputs: list[str] | None = None) -> Strength:
    """zxcvbn's score of ``password``, penalising the words in ``inputs``.

    Bytes that are not UTF-8 (kept as lone surrogates by the readers) are scored as U+FFFD.
    """
    backend = _backend()
    if isinstance(backend, str):
        return Strength(None, reason=backend)
    name, scorer = backend
    text = password.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    try:
        score, log10 = scorer(text, list(inputs or ()))
    except (ValueError, UnicodeError) as exc:
        return Strength(None, backend=name, reason=f"{name} refused the password: {exc}")
    return Strength(score, guesses_log10=round(log10, 2), backend=name)
