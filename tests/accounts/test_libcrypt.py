"""The ctypes binding to the system libcrypt (libxcrypt on Debian 12)."""

from __future__ import annotations

import threading

import pytest

from authaudit.accounts import libcrypt
from authaudit.accounts.libcrypt import LibCrypt

PASSWORD = "Tr0ub4dor&3"
VPOPMAIL_SHA512 = (
    "$6$Ab3dEf9h$XuzJmfX1DtjxWvFUOjI9HaIip9qPnn38f2XAR99Fo4qZeMlawKx85lFvr1bNSXIB.ZhMaIs7y"
    "HzwlvFua1sP3."
)


@pytest.fixture(scope="module")
def lib() -> LibCrypt:
    """The loaded library (every supported CI machine has libcrypt.so.1)."""
    loaded = libcrypt.load()
    assert loaded is not None
    return loaded


def test_loads_once_with_crypt_rn(lib: LibCrypt) -> None:
    assert libcrypt.load() is lib
    assert lib.entry == "crypt_rn"


def test_crypt_known_value(lib: LibCrypt) -> None:
    """The vpopmail sample from the research notes (libcrypt, 8-character salt)."""
    out = lib.crypt(PASSWORD.encode(), VPOPMAIL_SHA512.encode())
    assert out == VPOPMAIL_SHA512.encode()


def test_crypt_refusals(lib: LibCrypt) -> None:
    assert lib.crypt(b"a\0b", b"$1$salt$") is None
    assert lib.crypt(b"x" * 513, b"$1$salt$") is None
    assert lib.crypt(b"x", b"$6$rounds=10$salt$") is None  # libxcrypt: rounds >= 1000
    assert lib.crypt(b"x", b"$nope$") is None


@pytest.mark.parametrize(
    ("prefix", "count", "start"),
    [("$y$", 0, "$y$j9T$"), ("$y$", 3, "$y$j7T$"), ("$6$", 1000, "$6$rounds=1000$"), ("", 0, "")],
)
def test_gensalt_and_hash(lib: LibCrypt, prefix: str, count: int, start: str) -> None:
    hashed = lib.hash_password(PASSWORD, prefix, count)
    assert hashed is not None and hashed.startswith(start)
    verify = lib.verifier(hashed)
    assert verify is not None
    assert verify(PASSWORD) and not verify("X" + PASSWORD[1:])


def test_gensalt_refusals(lib: LibCrypt) -> None:
    assert lib.gensalt("$nope$") is None
    assert lib.gensalt("$2b$", 99) is None
    assert lib.gensalt("é") is None
    assert lib.gensalt("$6$", -1) is None


def test_verifier_refuses_unusable_settings(lib: LibCrypt) -> None:
    assert lib.verifier("$6$é$x") is None
    assert lib.verifier("a\0b") is None
    assert lib.supports(b"$y$j9T$salt$") and not lib.supports(b"$nope$")


def test_verifier_candidates(lib: LibCrypt) -> None:
    verify = lib.verifier(VPOPMAIL_SHA512)
    assert verify is not None
    assert not verify("\ud800") and not verify(PASSWORD + "\0") and not verify("x" * 600)


def test_threads_use_separate_buffers(lib: LibCrypt) -> None:
    """Concurrent verifications (each thread its own crypt_data) give the right answers."""
    hashes = [lib.hash_password(f"pw{i}", "$5$", 1000) for i in range(4)]
    verifiers = [lib.verifier(h) for h in hashes if h is not None]
    assert len(verifiers) == 4
    errors: list[str] = []

    def work(i: int) -> None:
        verify = verifiers[i]
        assert verify is not None
        wrong = sum(not verify(f"pw{i}") or verify(f"pw{(i + 1) % 4}") for _ in range(30))
        if wrong:
            errors.append(f"thread {i}: {wrong} wrong answers")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
