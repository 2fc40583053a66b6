"""A read-only reader for D. J. Bernstein's constant database (cdb) files, such as ``vpasswd.cdb``.

Layout (all integers are unsigned 32-bit little-endian)::

    header   256 x (table position, table slot count)          2048 bytes
    records  (key length, data length, key bytes, data bytes)  from offset 2048 ...
    tables   256 hash tables of (hash, record position) slots  ... to the end of the file

The records end where the first hash table starts, which is the smallest table position in the
header. Reading every record therefore needs no hashing: walk the records from 2048 to there.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from authaudit.accounts.interface import open_regular

__all__ = ["HEADER_SIZE", "MAX_CDB_SIZE", "CdbError", "iter_records", "read_cdb", "records_end"]

HEADER_SIZE = 2048
"""Bytes in the fixed header: 256 pairs of 32-bit integers."""

MAX_CDB_SIZE = 256 * 1024 * 1024
"""Largest file :func:`read_cdb` loads; a vpasswd.cdb of a million users is about 150 MiB."""

_PAIR = struct.Struct("<II")


class CdbError(ValueError):
    """The bytes are not a well-formed cdb (too short, or a record runs past the records area)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"offset {offset}: {reason}")
        self.offset = offset
        """Byte offset where the problem was found."""
        self.reason = reason


def records_end(data: bytes) -> int:
    """Offset just past the last record, read from the header; raises :class:`CdbError`."""
    if len(data) < HEADER_SIZE:
        raise CdbError(0, f"file is {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    end: int = min(pos for pos, _ in _PAIR.iter_unpack(data[:HEADER_SIZE]))
    if end < HEADER_SIZE or end > len(data):
        raise CdbError(0, f"header points at hash tables at {end}, outside the file")
    return end


def iter_records(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """Every ``(key, data)`` pair in file order (duplicate keys included).

    Records before a damaged one are yielded; then :class:`CdbError` is raised.
    """
    end = records_end(data)
    pos = HEADER_SIZE
    while pos < end:
        if pos + _PAIR.size > end:
            raise CdbError(pos, "truncated record header")
        klen, dlen = _PAIR.unpack_from(data, pos)
        start = pos + _PAIR.size
        stop = start + klen + dlen
        if stop > end:
            raise CdbError(pos, f"record of {klen}+{dlen} bytes runs past the records area")
        yield data[start : start + klen], data[start + klen : stop]
        pos = stop


def read_cdb(path: Path, max_size: int = MAX_CDB_SIZE) -> bytes:
    """The whole file, opened read-only; raises ``OSError``, or :class:`CdbError` if too large."""
    with open_regular(path) as stream:
        data = stream.read(max_size + 1)
    if len(data) > max_size:
        raise CdbError(max_size, f"file is larger than {max_size} bytes")
    return data
