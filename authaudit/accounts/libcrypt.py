"""A ctypes binding to the system crypt(3) library: the fast path for every crypt(3) string.

Python 3.13 removed the ``crypt`` module and libpass 1.9 computes ``$1$``/``$5$``/``$6$``/DES in
pure Python (2x to 40x slower than C), and nothing in Python computes yescrypt ``$y$`` at all. The
system library (libxcrypt's ``libcrypt.so.1`` on Linux) does all of them, so this module calls it
directly.

Entry points, in order of preference:

* ``crypt_rn(phrase, setting, data, size)`` (libxcrypt): reentrant, returns NULL on failure;
* ``crypt_r(phrase, setting, struct crypt_data *)`` (glibc before libxcrypt, libxcrypt): reentrant,
  returns NULL or a string starting with ``*`` on failure.

Each thread gets its own zeroed scratch buffer (``struct crypt_data``), allocated once, so the
functions here are thread-safe and the hashing itself releases the GIL (ctypes does so for every
foreign call).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LibCrypt", "load"]

_LIBRARY_NAMES = ("libcrypt.so.1", "libcrypt.so.2", "libcrypt.so")
"""Sonames tried in order: libxcrypt (Linux), then whatever ``find_library`` reports."""

_CRYPT_DATA_SIZE = 32768
"""``sizeof(struct crypt_data)`` in libxcrypt (its crypt.h makes it add up to exactly 32 KiB)."""

_CRYPT_R_DATA_SIZE = 256 * 1024
"""Buffer for the ``crypt_r`` fallback: glibc's own ``struct crypt_data`` is ~128 KiB."""

_GENSALT_OUTPUT_SIZE = 192
"""``CRYPT_GENSALT_OUTPUT_SIZE`` from crypt.h."""

_MAX_PHRASE = 512
"""``CRYPT_MAX_PASSPHRASE_SIZE``: libxcrypt refuses longer passphrases (returns an error)."""

_CRYPT_SALT_OK = 0
_CRYPT_SALT_METHOD_LEGACY = 3
"""``crypt_checksalt`` results meaning "this library hashes with that setting"."""


@dataclass(frozen=True, slots=True)
class LibCrypt:
    """A loaded crypt(3) library: which file, which entry point, and the calls built on it."""

    path: str
    """The shared object that was loaded (``libcrypt.so.1``)."""
    entry: str
    """``crypt_rn`` or ``crypt_r``: the reentrant function used for hashing."""
    _crypt: Callable[[bytes, bytes], bytes | None]
    _gensalt: Callable[[bytes, int], bytes | None] | None
    _checksalt: Callable[[bytes], int] | None

    def crypt(self, phrase: bytes, setting: bytes) -> bytes | None:
        """``crypt(phrase, setting)``: the full hash string, or None when the library refuses.

        ``setting`` is a stored hash or a salt string; None means an unsupported or malformed
        setting, a phrase with a NUL byte, or a phrase longer than the library accepts.
        """
        if b"\0" in phrase or b"\0" in setting or len(phrase) > _MAX_PHRASE:
            return None
        return self._crypt(phrase, setting)

    def verifier(self, stored: str) -> Callable[[str], bool] | None:
        """A closure telling whether a candidate password hashes to ``stored``; None if unusable.

        The stored string is hashed once with a known phrase to check that this library supports
        its method at all (yescrypt needs libxcrypt, ``$2b$`` needs a new enough library ...).
        """
        try:
            setting = stored.encode("ascii")
        except UnicodeEncodeError:
            return None
        if not self.supports(setting):
            return None
        crypt = self._crypt

        def verify(candidate: str) -> bool:
            try:
                phrase = candidate.encode("utf-8", "surrogateescape")
            except UnicodeEncodeError:
                return False
            if b"\0" in phrase or len(phrase) > _MAX_PHRASE:
                return False
            return crypt(phrase, setting) == setting

        return verify

    def supports(self, setting: bytes) -> bool:
        """True when this library can hash with ``setting`` (a stored hash or a salt string).

        Uses libxcrypt's cheap ``crypt_checksalt`` when present (OK and LEGACY both mean
        supported), else hashes a probe phrase once.
        """
        if b"\0" in setting:
            return False
        if self._checksalt is not None:
            return self._checksalt(setting) in (_CRYPT_SALT_OK, _CRYPT_SALT_METHOD_LEGACY)
        return self._crypt(b"probe", setting) is not None

    def gensalt(self, prefix: str, count: int = 0) -> str | None:
        """A fresh setting for ``prefix`` (``$6$``, ``$y$``, ``$2b$``, ``""`` for DES ...).

        ``count`` is the method's cost parameter (0 = the library's default). Random bytes come
        from the library itself (libxcrypt reads the OS random source). None when the library has
        no ``crypt_gensalt_rn`` or refuses the prefix or the count.
        """
        if self._gensalt is None:
            return None
        try:
            raw = prefix.encode("ascii")
        except UnicodeEncodeError:
            return None
        out = self._gensalt(raw, count)
        return None if out is None else out.decode("ascii")

    def hash_password(self, password: str, prefix: str, count: int = 0) -> str | None:
        """Hash ``password`` with a fresh salt for ``prefix`` (used to build test fixtures)."""
        setting = self.gensalt(prefix, count)
        if setting is None:
            return None
        out = self.crypt(password.encode("utf-8", "surrogateescape"), setting.encode("ascii"))
        return None if out is None else out.decode("ascii")


def _thread_buffer(size: int) -> Callable[[], ctypes.Array[ctypes.c_char]]:
    """A function returning this thread's zero-initialised scratch buffer of ``size`` bytes."""
    local = threading.local()

    def get() -> ctypes.Array[ctypes.c_char]:
        buf: ctypes.Array[ctypes.c_char] | None = getattr(local, "buf", None)
        if buf is None:
            buf = ctypes.create_string_buffer(size)
            local.buf = buf
        return buf

    return get


def _bind_crypt_rn(lib: ctypes.CDLL) -> Callable[[bytes, bytes], bytes | None] | None:
    func = getattr(lib, "crypt_rn", None)
    if func is None:
        return None
    func.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int)
    func.restype = ctypes.c_char_p
    buffer = _thread_buffer(_CRYPT_DATA_SIZE)

    def crypt_rn(phrase: bytes, setting: bytes) -> bytes | None:
        out: bytes | None = func(phrase, setting, buffer(), _CRYPT_DATA_SIZE)
        return out

    return crypt_rn


def _bind_crypt_r(lib: ctypes.CDLL) -> Callable[[bytes, bytes], bytes | None] | None:
    func = getattr(lib, "crypt_r", None)
    if func is None:
        return None
    func.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)
    func.restype = ctypes.c_char_p
    buffer = _thread_buffer(_CRYPT_R_DATA_SIZE)

    def crypt_r(phrase: bytes, setting: bytes) -> bytes | None:
        out: bytes | None = func(phrase, setting, buffer())
        # Failure is NULL or a "*0"/"*1" token depending on the library.
        if out is None or out.startswith(b"*"):
            return None
        return out

    return crypt_r


def _bind_gensalt(lib: ctypes.CDLL) -> Callable[[bytes, int], bytes | None] | None:
    func = getattr(lib, "crypt_gensalt_rn", None)
    if func is None:
        return None
    func.argtypes = (
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
    )
    func.restype = ctypes.c_char_p

    def gensalt(prefix: bytes, count: int) -> bytes | None:
        if count < 0:
            return None
        out = ctypes.create_string_buffer(_GENSALT_OUTPUT_SIZE)
        # rbytes NULL / nrbytes 0: libxcrypt draws the salt from the OS random source.
        result: bytes | None = func(prefix, count, None, 0, out, _GENSALT_OUTPUT_SIZE)
        return result

    return gensalt


def _bind_checksalt(lib: ctypes.CDLL) -> Callable[[bytes], int] | None:
    func = getattr(lib, "crypt_checksalt", None)
    if func is None:
        return None
    func.argtypes = (ctypes.c_char_p,)
    func.restype = ctypes.c_int

    def checksalt(setting: bytes) -> int:
        result: int = func(setting)
        return result

    return checksalt


def _open() -> LibCrypt | None:
    names = list(_LIBRARY_NAMES)
    found = ctypes.util.find_library("crypt")
    if found is not None and found not in names:
        names.append(found)
    for name in names:
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        for entry, binder in (("crypt_rn", _bind_crypt_rn), ("crypt_r", _bind_crypt_r)):
            crypt = binder(lib)
            if crypt is not None:
                return LibCrypt(name, entry, crypt, _bind_gensalt(lib), _bind_checksalt(lib))
    return None


_LOCK = threading.Lock()
_LOADED: list[LibCrypt | None] = []


def load() -> LibCrypt | None:
    """The system crypt(3) library, loaded once per process; None where there is none."""
    with _LOCK:
        if not _LOADED:
            _LOADED.append(_open())
        return _LOADED[0]
