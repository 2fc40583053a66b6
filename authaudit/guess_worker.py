"""Guessing the password of one account: the work each process of the pool does.

For one :class:`~authaudit.model.Account`, :func:`guess_one`:

1. identifies the stored value (:func:`identify_account`; ``Account.scheme`` is filled in on the
   result so that the checks see the scheme);
2. a Dovecot ``nopassword`` extra field means any password logs in: class EMPTY;
3. a password stored in clear (``Account.cleartext``, or a ``{PLAIN}``/``.b64``/``.hex`` value) is
   classed directly (:func:`~authaudit.guess_candidates.classify_known`), nothing is hashed;
4. no usable hash (none stored, locked, unknown scheme, no verifier): a ``problem``, no guess;
5. otherwise candidates are verified in order, stopping at the first match: the empty password,
   the username forms, the variants, then the wordlist. The found class is the phase of the match,
   so a password that is both the username and in the wordlist is USERNAME.

User-derived candidates are always all tried. The wordlist is cut by :func:`wordlist_allowance`.
Candidates that a scheme cannot tell apart (DES-crypt reads 8 bytes, bcrypt 72) are verified once.
Nothing here reads the clock or writes anywhere.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import islice

from authaudit.accounts.schemes import (
    CostClass,
    Problem,
    SchemeInfo,
    UnknownScheme,
    Verifier,
    identify,
    make_verifier,
)
from authaudit.guess_candidates import classify_known, username_forms, variant_candidates
from authaudit.model import Account, AccountResult, FoundBy
from authaudit.redact import Secret, SecretKind

__all__ = [
    "STORE_DEFAULT_SCHEMES",
    "GuessContext",
    "estimate_seconds",
    "guess_one",
    "identify_account",
    "wordlist_allowance",
]

STORE_DEFAULT_SCHEMES: dict[str, str] = {"dovecot-passwd": "CRYPT"}
"""Scheme of a value without ``{SCHEME}`` prefix, per store kind, when nothing else says it.
Stores not listed (vpopmail) accept any crypt(3) string, as vpopmail's ``vauth_crypt()`` does."""

VPOPMAIL_EMPTY = (
    "no password hash stored: vchkpw refuses the login, unless vpopmail was built with "
    "--enable-learn-passwords (then the first password presented becomes the password)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GuessContext:
    """What guessing needs besides the account, fixed for a whole run (sent once per worker)."""

    wordlist: tuple[str, ...] = ()
    year: int
    """Current year: the last year suffix of the variants."""
    default_scheme: str | None = None
    """Scheme for values without ``{SCHEME}`` prefix; None: per store (STORE_DEFAULT_SCHEMES)."""
    thorough: bool = False
    budget_seconds: float = 2.0
    wordlist_floor: int = 100
    wordlist_set: frozenset[str] = field(init=False, repr=False, compare=False)
    """The wordlist as a set, for classifying stored cleartexts."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "wordlist_set", frozenset(self.wordlist))


def identify_account(
    account: Account, default_scheme: str | None = None
) -> SchemeInfo | UnknownScheme | None:
    """The scheme of ``account``'s stored value; None when no value is stored at all.

    The default for a value without prefix is ``account.scheme`` when a reader or an earlier run
    set it, else ``default_scheme``, else the store's (STORE_DEFAULT_SCHEMES). A scheme name the
    prefix table does not know (``YESCRYPT``) falls back to "any crypt(3) string". An empty field
    (flag ``empty-password``) is identified as the empty string.
    """
    if account.password_hash is not None:
        stored = account.password_hash.value
    elif "empty-password" in account.flags:
        stored = ""
    else:
        return None
    default = account.scheme or default_scheme or STORE_DEFAULT_SCHEMES.get(account.store)
    info = identify(stored, default_scheme=default)
    if (
        isinstance(info, UnknownScheme)
        and info.problem is Problem.UNKNOWN_SCHEME
        and default is not None
        and info.declared == default.upper()
    ):
        return identify(stored, default_scheme=None)
    return info


def wordlist_allowance(info: SchemeInfo, user_candidates: int, ctx: GuessContext) -> int:
    """How many entries from the top of the wordlist an account with scheme ``info`` gets.

    Everything when thorough or the scheme is cheap (under 0.1 ms a guess). Otherwise what is
    left of the per-account budget after the ``user_candidates`` (always all tried), at the
    scheme's estimated seconds per guess, and never fewer than ``ctx.wordlist_floor``.
    """
    total = len(ctx.wordlist)
    if ctx.thorough or info.cost_class is CostClass.CHEAP or info.cost_seconds <= 0:
        return total
    spare = ctx.budget_seconds - info.cost_seconds * user_candidates
    fit = int(spare / info.cost_seconds) if spare > 0 else 0
    return min(total, max(fit, ctx.wordlist_floor))


def _user_phases(account: Account, year: int) -> tuple[tuple[FoundBy, list[str]], ...]:
    return (
        (FoundBy.EMPTY, [""]),
        (FoundBy.USERNAME, username_forms(account)),
        (FoundBy.VARIANT, variant_candidates(account, year)),
    )


def estimate_seconds(account: Account, ctx: GuessContext) -> float:
    """Estimated single-core seconds :func:`guess_one` hashes for ``account`` (0: no hashing)."""
    info = identify_account(account, ctx.default_scheme)
    if not isinstance(info, SchemeInfo) or info.cleartext is not None:
        return 0.0
    if account.cleartext is not None or "nopassword" in account.flags:
        return 0.0
    users = sum(len(c) for _, c in _user_phases(account, ctx.year))
    return info.cost_seconds * (users + wordlist_allowance(info, users, ctx))


def guess_one(account: Account, ctx: GuessContext) -> AccountResult:
    """What guessing learns about ``account`` (see the module docstring for the order)."""
    info = identify_account(account, ctx.default_scheme)
    if isinstance(info, SchemeInfo) and account.scheme != info.name:
        account = dataclasses.replace(account, scheme=info.name)
    if "nopassword" in account.flags:
        return AccountResult(account=account, password=Secret(""), found_by=FoundBy.EMPTY)
    clear = account.cleartext
    if clear is None and isinstance(info, SchemeInfo):
        clear = info.cleartext
    if clear is not None:
        found_by = classify_known(clear.value, account, year=ctx.year, wordlist=ctx.wordlist_set)
        return AccountResult(account=account, password=clear, found_by=found_by)
    if info is None:
        return AccountResult(account=account, problem="no password stored")
    if isinstance(info, UnknownScheme):
        empty_vpopmail = info.problem is Problem.EMPTY and account.store.startswith("vpopmail")
        return AccountResult(
            account=account, problem=VPOPMAIL_EMPTY if empty_vpopmail else info.reason
        )
    verify = make_verifier(info, username=account.address)
    if verify is None:
        why = "; ".join(info.notes) or "no backend implements it here"
        return AccountResult(account=account, problem=f"cannot verify {info.name} hashes: {why}")
    return _attack(account, info, verify, ctx)


def _keyer(limit: int | None) -> Callable[[str], object]:
    """What makes two candidates the same guess: the text, or its first ``limit`` bytes."""
    if limit is None:
        return str

    def key(candidate: str) -> object:
        try:
            return candidate.encode("utf-8", "surrogateescape")[:limit]
        except UnicodeEncodeError:
            return candidate

    return key


def _attack(
    account: Account, info: SchemeInfo, verify: Verifier, ctx: GuessContext
) -> AccountResult:
    key = _keyer(info.truncates_at)
    seen: set[object] = set()
    tried = 0

    def first_match(candidates: Iterable[str]) -> str | None:
        nonlocal tried
        for candidate in candidates:
            k = key(candidate)
            if k in seen:
                continue
            seen.add(k)
            tried += 1
            if verify(candidate):
                return candidate
        return None

    for found_by, candidates in _user_phases(account, ctx.year):
        match = first_match(candidates)
        if match is not None:
            return _found(account, match, found_by, tried)
    allowance = wordlist_allowance(info, tried, ctx)
    match = first_match(islice(ctx.wordlist, allowance))
    if match is not None:
        return _found(account, match, FoundBy.WORDLIST, tried)
    return AccountResult(
        account=account, candidates_tried=tried, complete=allowance >= len(ctx.wordlist)
    )


def _found(account: Account, password: str, found_by: FoundBy, tried: int) -> AccountResult:
    return AccountResult(
        account=account,
        password=Secret(password, SecretKind.CLEARTEXT),
        found_by=found_by,
        candidates_tried=tried,
    )
