"""The weak-credential engine: which accounts of a store an attacker would guess first.

:func:`guess_accounts` turns :class:`~authaudit.model.Account` records into
:class:`~authaudit.model.AccountResult` records (password found or not, how, after how many
candidates, and whether the whole profile was tried). Per account (details in
:mod:`authaudit.guess_worker`): a password stored in clear is classed directly, without hashing;
otherwise the hash is identified and the candidates are verified in this order, stopping at the
first match: the empty password (AA203), the username forms (AA201), the variants of the username
and the GECOS words (AA202; :mod:`authaudit.guess_candidates`), then the wordlist (AA204).

**Budget.** Guessing costs hash time, so the wordlist is sized by the scheme's estimated seconds
per guess (``SchemeInfo.cost_seconds``, a static per-scheme model; the budget is therefore the
same on every machine and every run gives the same results):

* cheap schemes (under 0.1 ms a guess: DES-crypt, every unsalted or salted digest, CRAM-MD5 ...)
  get every candidate;
* slower schemes get all their user-derived candidates (always; about 100 per name word, 200 to
  600 for a typical account) plus as many wordlist entries from the top as fit in what is left of
  ``budget_seconds_per_account`` (default 2 s of one core), and never fewer than the top
  ``wordlist_floor`` (100);
* ``thorough=True`` tries everything everywhere.

The default of 2 s gives each SHA512-CRYPT account (vpopmail 5.6 and PostfixAdmin's default) the
top ~1 300 of the wordlist, Dovecot's default BLF-CRYPT cost 5 ~900, MD5-CRYPT ~18 000, and keeps a
1 000-account SHA512-CRYPT store near 20 minutes on two cores. Schemes built to be slow (bcrypt
cost 10 and more, argon2, yescrypt) get their user candidates and the top 100 only, and still
cost 10 s to a minute per account: the price their owners chose. An account whose wordlist was
cut gets ``complete=False``.

**Parallelism.** Accounts that need hashing go to a process pool (``jobs`` workers, default: the
CPUs this process may use) in chunks, the costliest first; results come back in input order.
Small runs (under ``pool_min_seconds`` of estimated hashing, one account, or ``jobs=1``) stay in
this process, as starting workers costs more than it saves. Workers are started by a fork server
(never a fork of this possibly threaded process) and build their verifiers themselves.

Nothing is ever written to a store.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime

from authaudit.cpus import usable_cpus
from authaudit.guess_worker import GuessContext, estimate_seconds, guess_one
from authaudit.model import Account, AccountResult

__all__ = [
    "DEFAULT_BUDGET_SECONDS",
    "DEFAULT_WORDLIST_FLOOR",
    "GuessOptions",
    "GuessProgress",
    "guess_accounts",
]

DEFAULT_BUDGET_SECONDS = 2.0
"""Estimated single-core hashing seconds per account before the wordlist is cut (slow schemes)."""
DEFAULT_WORDLIST_FLOOR = 100
"""Wordlist entries every hashed account gets, whatever its scheme costs."""
POOL_MIN_SECONDS = 1.0
"""Estimated hashing below which a run stays in one process."""

GuessProgress = Callable[[int, int], None]
"""Called as ``progress(accounts_done, accounts_total)`` in the calling process."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GuessOptions:
    """How hard to guess: the profile, the budget, the wordlist and the number of processes."""

    thorough: bool = False
    """Try every candidate on every account, whatever the scheme costs."""
    budget_seconds_per_account: float = DEFAULT_BUDGET_SECONDS
    wordlist_floor: int = DEFAULT_WORDLIST_FLOOR
    jobs: int | None = None
    """Worker processes; None: every CPU this process may run on."""
    wordlist: Sequence[str] = ()
    """Candidate passwords, most likely first (``load_wordlists`` output)."""
    default_scheme: str | None = None
    """Scheme of values without ``{SCHEME}`` prefix (Dovecot's passdb default: ``CRYPT``,
    ``MD5`` for 2.3 SQL ...); None: per store (CRYPT for passwd-file, any crypt(3) for vpopmail)."""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    """Clock for the year suffixes of the variants."""
    pool_min_seconds: float = POOL_MIN_SECONDS


def _context(options: GuessOptions) -> GuessContext:
    return GuessContext(
        wordlist=tuple(options.wordlist),
        year=options.now.year,
        default_scheme=options.default_scheme,
        thorough=options.thorough,
        budget_seconds=options.budget_seconds_per_account,
        wordlist_floor=options.wordlist_floor,
    )


def _safe_guess(account: Account, ctx: GuessContext) -> AccountResult:
    """:func:`guess_one`, with a bug on one account recorded as its problem, not a crash."""
    try:
        return guess_one(account, ctx)
    except Exception as exc:  # one bad record must not end a store-wide audit
        return AccountResult(
            account=account, problem=f"internal error while guessing: {type(exc).__name__}"
        )


_WORKER_CONTEXT: list[GuessContext] = []


def _init_worker(ctx: GuessContext) -> None:
    _WORKER_CONTEXT[:] = [ctx]


def _run_chunk(chunk: list[tuple[int, Account]]) -> list[tuple[int, AccountResult]]:
    ctx = _WORKER_CONTEXT[0]
    return [(index, _safe_guess(account, ctx)) for index, account in chunk]


def _mp_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["authaudit.guess_worker"])
        return ctx
    return multiprocessing.get_context("spawn")


def _chunks(
    indices: list[int], estimates: list[float], accounts: list[Account], jobs: int
) -> list[list[tuple[int, Account]]]:
    """Chunks of about an eighth of a worker's share of the estimated seconds, costliest first
    (an account worth more than that is a chunk of its own)."""
    order = sorted(indices, key=lambda i: (-estimates[i], i))
    target = sum(estimates[i] for i in order) / (jobs * 8)
    chunks: list[list[tuple[int, Account]]] = []
    current: list[tuple[int, Account]] = []
    seconds = 0.0
    for i in order:
        current.append((i, accounts[i]))
        seconds += estimates[i]
        if seconds >= target:
            chunks.append(current)
            current, seconds = [], 0.0
    if current:
        chunks.append(current)
    return chunks


def guess_accounts(
    accounts: Iterable[Account], options: GuessOptions, progress: GuessProgress | None = None
) -> list[AccountResult]:
    """One :class:`AccountResult` per account, in input order (see the module docstring).

    ``progress(done, total)`` is called in this process after each account. When the pool is
    used, a program calling this from a script must guard its entry point with
    ``if __name__ == "__main__":``, as for any fork-server or spawn pool (``python -m`` and the
    installed ``authaudit`` command are fine).
    """
    items = list(accounts)
    total = len(items)
    ctx = _context(options)
    jobs = options.jobs if options.jobs is not None else usable_cpus()
    estimates = [estimate_seconds(a, ctx) for a in items]
    heavy = [i for i, seconds in enumerate(estimates) if seconds > 0]
    pooled = jobs > 1 and len(heavy) > 1 and sum(estimates) >= options.pool_min_seconds
    results: list[AccountResult | None] = [None] * total
    done = 0

    def record(index: int, result: AccountResult) -> None:
        nonlocal done
        results[index] = result
        done += 1
        if progress is not None:
            progress(done, total)

    if progress is not None:
        progress(0, total)
    inline = [i for i in range(total) if not pooled or estimates[i] <= 0]
    if pooled:
        _run_pool(_chunks(heavy, estimates, items, jobs), jobs, ctx, inline, items, record)
    else:
        for i in inline:
            record(i, _safe_guess(items[i], ctx))
    out = [r for r in results if r is not None]
    assert len(out) == total
    return out


def _run_pool(
    chunks: list[list[tuple[int, Account]]],
    jobs: int,
    ctx: GuessContext,
    inline: list[int],
    items: list[Account],
    record: Callable[[int, AccountResult], None],
) -> None:
    """Hash ``chunks`` in worker processes while this process does the ``inline`` accounts."""
    pending: dict[Future[list[tuple[int, AccountResult]]], list[tuple[int, Account]]] = {}
    workers = min(jobs, len(chunks))
    try:
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=_mp_context(), initializer=_init_worker, initargs=(ctx,)
        ) as pool:
            pending = {pool.submit(_run_chunk, chunk): chunk for chunk in chunks}
            for i in inline:
                record(i, _safe_guess(items[i], ctx))
            inline = []
            for future in as_completed(pending):
                for index, result in future.result():
                    record(index, result)
                del pending[future]
    except BrokenProcessPool:
        # A worker died (killed, out of memory): finish what is left here, one at a time.
        for i in inline:
            record(i, _safe_guess(items[i], ctx))
        for chunk in pending.values():
            for index, account in chunk:
                record(index, _safe_guess(account, ctx))
