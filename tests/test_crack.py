"""Offline cracking of captured challenge-response exchanges."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from authaudit.crack import crack_attempts
from authaudit.model import AuthAttempt
from authaudit.redact import Secret, SecretKind
from tests.factories import make_attempt

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def cram(user: str, password: str, n: int) -> AuthAttempt:
    """A CRAM-MD5 attempt by ``user`` whose response was made with ``password``."""
    challenge = f"<{n}.1700000000@mx.example.org>".encode()
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    line = "$cram_md5${}${}".format(
        base64.b64encode(challenge).decode(),
        base64.b64encode(f"{user} {digest}".encode()).decode(),
    )
    return make_attempt(
        mechanism="CRAM-MD5", username=user, secret=Secret(line, SecretKind.CRAM_MD5)
    )


def cracked(attempts: list[AuthAttempt]) -> list[str | None]:
    return [a.cracked.value if a.cracked else None for a in attempts]


@pytest.mark.parametrize("jobs", [1, 2])
def test_candidates_from_user_and_wordlist(jobs: int) -> None:
    forms = ["{u}", "{U}", "{r}", "{u}@example.org", "{u}2026", "letmein", "", "Zq8!kd-no"]
    people = []
    for i in range(24):
        u = f"user{i}"
        pw = forms[i % len(forms)].format(u=u, U=u.capitalize(), r=u[::-1])
        people.append((f"{u}@example.org", pw))
    attempts = [cram(u, p, i) for i, (u, p) in enumerate(people)]
    attempts.append(make_attempt())  # cleartext: left alone
    out = crack_attempts(attempts, ["123456", "letmein"], now=NOW, jobs=jobs)
    want: list[str | None] = [p if p != "Zq8!kd-no" else None for _, p in people]
    assert cracked(out) == [*want, None]
    assert out[-1] == attempts[-1]


def test_progress_counts_distinct_exchanges() -> None:
    a = cram("bob", "bob", 1)
    seen: list[tuple[int, int]] = []
    crack_attempts(
        [a, a, cram("bob", "x9", 2)], [], now=NOW, jobs=1, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]
