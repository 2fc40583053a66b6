"""Offline recovery of weak passwords from captured challenge-response exchanges.

For each CRAM-MD5 / NTLM / DIGEST-MD5 / SCRAM attempt, candidates derived from the username are
tried first, then the wordlists. The result is a new attempt with ``cracked`` filled in. Identical
exchanges are attacked once. With more than a few exchanges the work is spread over a process pool
(one worker per core by default): every candidate costs one or two HMACs per exchange, so a
capture with thousands of exchanges takes minutes on one core.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from authaudit.candidates import user_candidates
from authaudit.checks.exposures import CLEARTEXT_KINDS
from authaudit.model import AuthAttempt
from authaudit.redact import Secret, SecretKind
from authaudit.smtp.verify import make_verifier

__all__ = ["crack_attempts"]

_POOL_MIN = 16
"""Fewer exchanges than this are cracked in-process: a pool costs more to start."""
_CHUNK = 8

_Job = tuple[str, str, str]
"""(secret kind, secret value, username) of one exchange."""

_words: Sequence[str] = ()
_years: range = range(0)


def _init(words: Sequence[str], years: range) -> None:
    global _words, _years  # per-process state of a pool worker
    _words, _years = words, years


def _crack_job(job: _Job) -> str | None:
    kind, value, username = job
    verifier = make_verifier(Secret(value, SecretKind(kind)))
    if verifier is None:
        return None
    for candidate in ("", *user_candidates(username, years=_years)):
        if verifier(candidate):
            return candidate
    for candidate in _words:
        if verifier(candidate):
            return candidate
    return None


def crack_attempts(
    attempts: Sequence[AuthAttempt],
    wordlist: Sequence[str],
    *,
    now: datetime,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[AuthAttempt]:
    """``attempts`` with ``cracked`` set where a candidate verifies the captured exchange."""
    years = range(now.year - 6, now.year + 1)
    todo: dict[tuple[str, str], _Job] = {}
    for a in attempts:
        s = a.secret
        if s is None or s.kind in CLEARTEXT_KINDS or s.kind is SecretKind.HASH:
            continue
        todo.setdefault((s.value, a.username or ""), (str(s.kind), s.value, a.username or ""))
    keys = list(todo)
    jobs_list = [todo[k] for k in keys]
    workers = jobs or os.cpu_count() or 1
    found: list[str | None] = []
    if len(jobs_list) < _POOL_MIN or workers == 1:
        _init(wordlist, years)
        for i, job in enumerate(jobs_list, 1):
            found.append(_crack_job(job))
            if progress is not None:
                progress(i, len(jobs_list))
    else:
        # spawn, not fork: the caller may run threads (a progress bar), and forking a threaded
        # process can deadlock.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init, initargs=(wordlist, years)
        ) as pool:
            for i, result in enumerate(pool.map(_crack_job, jobs_list, chunksize=_CHUNK), 1):
                found.append(result)
                if progress is not None:
                    progress(i, len(jobs_list))
    cracked = dict(zip(keys, found, strict=True))
    out: list[AuthAttempt] = []
    for a in attempts:
        s = a.secret
        password = cracked.get((s.value, a.username or "")) if s is not None else None
        if password is not None:
            a = dataclasses.replace(a, cracked=Secret(password, SecretKind.CLEARTEXT))
        out.append(a)
    return out
