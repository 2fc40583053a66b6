"""Opening log files: plain or compressed (detected by magic bytes), streamed line by line as bytes.

Users rename files, so the name never decides the codec. gzip (several members included), bzip2
and xz come from the standard library; zstd needs the optional ``zstandard`` module. A damaged or
truncated compressed file yields the lines before the damage and then one :class:`Skipped`.
"""

from __future__ import annotations

import bz2
import gzip
import importlib
import io
import lzma
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, cast

from authaudit.errors import SourceError
from authaudit.model import Skipped

__all__ = ["LogFile", "sniff_compression"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x04\x22\x4d\x18", "lz4"),
)

_DAMAGE = (EOFError, OSError, zlib.error, lzma.LZMAError, ValueError)
"""What the decompressors raise on truncated or corrupt input (gzip.BadGzipFile is an OSError)."""


def sniff_compression(head: bytes) -> str:
    """The codec whose magic number starts ``head``: gzip, bzip2, xz, zstd, lz4 or ``plain``."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return "plain"


def _zstd_reader(raw: IO[bytes], path: str) -> IO[bytes]:
    try:
        zstandard: Any = importlib.import_module("zstandard")
    except ImportError:
        raise SourceError(
            path, "zstd-compressed; install the 'zstandard' module or decompress it first"
        ) from None
    reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    return reader


class LogFile:
    """One log file opened for streaming: iterate it for its lines as bytes (line ends kept).

    ``compression`` is the detected codec. After iteration, ``skipped`` holds a record for
    damage that ended the file early. Opening an unreadable or unsupported file raises
    :class:`SourceError`. Use it as a context manager, or iterate it to the end (which closes it).
    """

    def __init__(self, path: str | Path) -> None:
        self.path: str = str(path)
        self.skipped: list[Skipped] = []
        self.lines_read: int = 0
        """Complete or final lines yielded so far."""
        try:
            raw: IO[bytes] = open(self.path, "rb")
        except OSError as exc:
            raise SourceError(self.path, exc.strerror or str(exc)) from None
        self._raw = raw
        try:
            head = raw.read(8)
            raw.seek(0)
        except OSError as exc:
            raw.close()
            raise SourceError(self.path, exc.strerror or str(exc)) from None
        self.compression: str = sniff_compression(head)
        """``plain``, ``gzip``, ``bzip2``, ``xz`` or ``zstd``."""
        try:
            self._stream = self._decoder(raw)
        except BaseException:
            raw.close()
            raise

    def _decoder(self, raw: IO[bytes]) -> IO[bytes]:
        kind = self.compression
        if kind == "plain":
            return raw
        if kind == "gzip":
            return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))
        if kind == "bzip2":
            return bz2.BZ2File(raw, "rb")
        if kind == "xz":
            return lzma.LZMAFile(raw, "rb")
        if kind == "zstd":
            reader: Any = _zstd_reader(raw, self.path)
            return io.BufferedReader(reader)
        raise SourceError(self.path, f"{kind}-compressed logs are not supported; decompress first")

    def __iter__(self) -> Iterator[bytes]:
        if self._raw.closed:  # read once: a second pass yields nothing
            return
        stream = self._stream
        try:
            for line in stream:
                self.lines_read += 1
                yield line
        except _DAMAGE as exc:
            self.skipped.append(Skipped(
                source=self.path,
                where=f"after line {self.lines_read}",
                reason=f"{self.compression} data damaged or truncated: {exc}",
            ))
        finally:
            self.close()

    def close(self) -> None:
        """Close the decoder and the file."""
        try:
            self._stream.close()
        except _DAMAGE:
            pass
        self._raw.close()

    def __enter__(self) -> LogFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
