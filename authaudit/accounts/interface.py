"""The contract every account-store reader follows, and the small helpers they share.

An :class:`AccountSource` turns one store (a vpopmail home, a Dovecot passwd-file, a saved
``vuserinfo`` dump ...) into :class:`~authaudit.model.Account` records. A problem with one line or
one file becomes a :class:`~authaudit.model.Skipped` record and reading goes on; only a store that
cannot be read at all raises :class:`~authaudit.errors.SourceError`.

Readers open files read-only and never write, rename, lock or chmod anything in the store.
"""

from __future__ import annotations

import abc
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

from authaudit.model import Account, Skipped

__all__ = [
    "MAX_LINE",
    "AccountSource",
    "LongLine",
    "display_text",
    "iter_lines",
    "open_regular",
    "raw_text",
]

MAX_LINE = 64 * 1024
"""Longest line (bytes) any reader accepts; a longer one is skipped, never buffered whole."""


class AccountSource(abc.ABC):
    """One account store, read on demand by :meth:`collect`.

    ``store`` names the kind of store for :attr:`Account.store`; ``name`` is the path (or DSN
    without password) put in :attr:`Account.source` and :attr:`Skipped.source`.
    """

    store: ClassVar[str]
    """Kind of store this class reads (``vpopmail``, ``dovecot-passwd``, ``vuserinfo`` ...)."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The store as given by the user: a path, or a DSN without its password."""

    def describe(self) -> str:
        """One line for progress output and report inputs, such as ``vpopmail /backup/vpopmail``."""
        return f"{self.store} {self.name}"

    @abc.abstractmethod
    def collect(self) -> Iterator[Account | Skipped]:
        """Every account in the store, interleaved with records of what could not be used.

        Raises :class:`~authaudit.errors.SourceError` (on the first ``next()``) only when the
        store as a whole cannot be read.
        """


class LongLine:
    """Marker yielded by :func:`iter_lines` in place of a line longer than the limit."""

    __slots__ = ("length",)

    def __init__(self, length: int) -> None:
        self.length = length
        """Bytes read from the line before giving up (at least the limit)."""


def iter_lines(
    stream: BinaryIO, max_line: int = MAX_LINE
) -> Iterator[tuple[int, bytes | LongLine]]:
    """Number and content of each ``\\n``-terminated line, without the ``\\n`` (nor a ``\\r``).

    Only ``\\n`` ends a line: other control characters are data (a cleartext password may hold
    them). A line longer than ``max_line`` bytes is consumed in bounded chunks and reported as
    :class:`LongLine`.
    """
    lineno = 0
    while True:
        chunk = stream.readline(max_line + 1)
        if not chunk:
            return
        lineno += 1
        if len(chunk) > max_line and not chunk.endswith(b"\n"):
            length = len(chunk)
            while chunk and not chunk.endswith(b"\n"):
                chunk = stream.readline(max_line + 1)
                length += len(chunk)
            yield lineno, LongLine(length)
            continue
        if chunk.endswith(b"\n"):
            chunk = chunk[:-1]
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
        yield lineno, chunk


def open_regular(path: Path) -> BinaryIO:
    """Open a file found inside a store for reading, refusing anything but a regular file.

    A FIFO, device or socket where a file is expected (a damaged copy, a hostile tree) would
    block or never end; it is opened without blocking and refused with ``OSError``, as is a
    directory (``IsADirectoryError``). Missing paths raise ``FileNotFoundError`` as usual.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def raw_text(data: bytes) -> str:
    """Bytes as text without losing any: invalid UTF-8 becomes lone surrogates.

    Used for secrets, so that ``value.encode("utf-8", "surrogateescape")`` gives back the exact
    stored bytes for verification.
    """
    return data.decode("utf-8", "surrogateescape")


def display_text(text: str) -> str:
    """Text safe to print and serialise: lone surrogates from :func:`raw_text` become ``\\xHH``."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that did not come from raw_text
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
