"""zxcvbn scores through zxcvbn-rs-py, the pure-Python fallback, and no backend at all."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from authaudit import strength
from authaudit.model import Account
from authaudit.strength import Strength, password_strength, strength_backend, user_inputs

ALICE = Account(
    source="s",
    store="dovecot-passwd",
    location="s:1",
    address="alice.liddell@example.com",
    username="alice.liddell",
    domain="example.com",
    gecos="Alice Liddell,Room 12",
)


@pytest.fixture
def fresh_backend() -> Iterator[None]:
    """Forget the cached backend before and after the test."""
    strength._backend.cache_clear()
    yield
    strength._backend.cache_clear()


def test_user_inputs_are_split_into_tokens() -> None:
    assert user_inputs(ALICE) == [
        "alice.liddell@example.com", "alice.liddell", "alice", "liddell", "example.com",
        "example", "com", "Alice", "Liddell", "Room", "12",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("password", "score"),
    [("Tr0ub4dor&3", 4), ("P@ssw0rd", 0), ("summer2019", 1), ("correct horse battery staple", 4)],
)
def test_rust_backend_scores(password: str, score: int) -> None:
    assert strength_backend() == "zxcvbn-rs-py"
    result = password_strength(password)
    assert result.score == score
    assert result.backend == "zxcvbn-rs-py"
    assert result.reason is None


def test_user_inputs_lower_the_score() -> None:
    zorg = Account(
        source="s",
        store="dovecot-passwd",
        location="s:2",
        address="zorgwell.tamsk@qubitron.io",
        username="zorgwell.tamsk",
        domain="qubitron.io",
        gecos="Zorgwell Tamsk",
    )
    for password, alone in (("tamskzorgwell", 4), ("qubitron1", 3), ("Tamsk2019", 2)):
        assert password_strength(password).score == alone
        assert password_strength(password, user_inputs(zorg)).score == 1


def test_undecodable_bytes_are_scored_not_refused() -> None:
    assert password_strength("ab\udcff").score == 0


def _only(name: str, module: ModuleType | None) -> Any:
    real = importlib.import_module

    def fake(wanted: str, package: str | None = None) -> ModuleType:
        if wanted in ("zxcvbn_rs_py", "zxcvbn"):
            if wanted == name and module is not None:
                return module
            raise ImportError(wanted)
        return real(wanted, package)

    return fake


@pytest.mark.usefixtures("fresh_backend")
def test_pure_python_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str]]] = []

    def zxcvbn(password: str, user_inputs: list[str]) -> dict[str, object]:
        calls.append((password, user_inputs))
        if len(password) > 72:
            raise ValueError("Password exceeds max length of 72 characters.")
        return {"score": 1, "guesses_log10": 4.234}

    module = ModuleType("zxcvbn")
    module.zxcvbn = zxcvbn  # type: ignore[attr-defined]
    monkeypatch.setattr(importlib, "import_module", _only("zxcvbn", module))
    assert strength_backend() == "zxcvbn"
    assert password_strength("summer2019", ["alice"]) == Strength(1, 4.23, "zxcvbn")
    assert calls == [("summer2019", ["alice"])]
    refused = password_strength("x" * 73)
    assert refused.score is None
    assert refused.reason == (
        "zxcvbn refused the password: Password exceeds max length of 72 characters."
    )


@pytest.mark.usefixtures("fresh_backend")
def test_no_backend_gives_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib, "import_module", _only("none", None))
    assert strength_backend() is None
    assert password_strength("test") == Strength(
        None, reason="neither zxcvbn-rs-py nor zxcvbn is installed"
    )


@pytest.mark.usefixtures("fresh_backend")
def test_rust_result_object_is_read_through_score_and_log10(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = ModuleType("zxcvbn_rs_py")
    module.zxcvbn = lambda p, user_inputs: SimpleNamespace(score=3, guesses_log10=9.0)  # type: ignore[attr-defined]
    monkeypatch.setattr(importlib, "import_module", _only("zxcvbn_rs_py", module))
    assert password_strength("whatever") == Strength(3, 9.0, "zxcvbn-rs-py")
