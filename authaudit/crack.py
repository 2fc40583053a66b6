"""Offline recovery of weak passwords from captured challenge-response exchanges.

For each CRAM-MD5 / NTLM / DIGEST-MD5 / SCRAM attempt, candidates derived from the username are
tried first, then the wordlists. The result is a new attempt with ``cracked`` filled in. Identical
secrets (the same exchange seen twice) are only attacked once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime

from authaudit.candidates import user_candidates
from authaudit.checks.exposures import CLEARTEXT_KINDS
from authaudit.model import AuthAttempt
from authaudit.redact import Secret, SecretKind
from authaudit.smtp.verify import make_verifier

__all__ = ["crack_attempts"]


def crack_attempts(
    attempts: Sequence[AuthAttempt],
    wordlist: Sequence[str],
    *,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> list[AuthAttempt]:
    """``attempts`` with ``cracked`` set where a candidate verifies the captured exchange."""
    years = range(now.year - 6, now.year + 1)
    results: dict[str, str | None] = {}
    out: list[AuthAttempt] = []
    for attempt in attempts:
        secret = attempt.secret
        if secret is None or secret.kind in CLEARTEXT_KINDS or secret.kind is SecretKind.HASH:
            out.append(attempt)
            continue
        if secret.value not in results:
            results[secret.value] = _crack_one(secret, attempt.username or "", wordlist, years)
            if progress is not None:
                progress(1)
        found = results[secret.value]
        if found is not None:
            attempt = dataclasses.replace(attempt, cracked=Secret(found, SecretKind.CLEARTEXT))
        out.append(attempt)
    return out


def _crack_one(secret: Secret, username: str, wordlist: Sequence[str], years: range) -> str | None:
    verifier = make_verifier(secret)
    if verifier is None:
        return None
    for candidate in user_candidates(username, years=years):
        if verifier(candidate):
            return candidate
    for candidate in wordlist:
        if verifier(candidate):
            return candidate
    return None
