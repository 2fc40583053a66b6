"""Opening log files: plain or compressed (detected by magic bytes), streamed line by line.

Users rename files, so the name never decides the codec. gzip (several members included), bzip2
and xz come from the standard library; zstd needs the optional ``zstandard`` module. A damaged or
truncated compressed file yields the lines before the damage and then one :class:`Skipped`.
Lines come as bytes, or decoded (:meth:`LogFile.text_lines`, what the scanner reads); a plain
file can also be read from one byte offset to another (``span``), for reading it in parallel.
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

__all__ = ["LogFile", "line_start_after", "sniff_compression"]

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


class _Window(io.RawIOBase):
    """The bytes of an open file from its current position up to ``size`` more (a read-only view
    for :class:`io.BufferedReader`)."""

    def __init__(self, raw: IO[bytes], size: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = max(0, size)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._left)
        if want <= 0:
            return 0
        got = self._raw.readinto(view[:want])  # type: ignore[attr-defined]
        count = int(got or 0)
        self._left -= count
        return count


def line_start_after(path: str | Path, offset: int) -> int:
    """The offset of the first line that starts at or after ``offset`` in a plain file (the file
    size when there is none): where a parallel reader may cut it."""
    if offset <= 0:
        return 0
    with open(path, "rb") as raw:
        raw.seek(offset - 1)
        while True:
            block = raw.read(1 << 16)
            if not block:
                return raw.tell()
            cut = block.find(b"\n")
            if cut >= 0:
                return raw.tell() - len(block) + cut + 1


class LogFile:
    """One log file opened for streaming: iterate it for its lines as bytes (line ends kept).

    ``compression`` is the detected codec. After iteration, ``skipped`` holds a record for
    damage that ended the file early. Opening an unreadable or unsupported file raises
    :class:`SourceError`. Use it as a context manager, or iterate it to the end (which closes it).
    ``span`` (start, end) reads only those bytes of a plain file (``start`` should be the start of
    a line, see :func:`line_start_after`); a compressed file with a span is a SourceError.
    """

    def __init__(self, path: str | Path, *, span: tuple[int, int] | None = None) -> None:
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
            if span is not None:
                self._stream = self._window(raw, span)
            else:
                self._stream = self._decoder(raw)
        except BaseException:
            raw.close()
            raise

    def _window(self, raw: IO[bytes], span: tuple[int, int]) -> IO[bytes]:
        if self.compression != "plain":
            raise SourceError(self.path, "only a plain file can be read in parts")
        start, end = span
        try:
            raw.seek(start)
        except OSError as exc:
            raise SourceError(self.path, exc.strerror or str(exc)) from None
        return io.BufferedReader(_Window(raw, end - start), 1 << 16)

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
            self._damaged(self.lines_read, exc)
        finally:
            self.close()

    def text_lines(self) -> Iterator[str]:
        """The lines decoded as UTF-8, undecodable bytes kept as surrogates (``surrogateescape``,
        so that encoding a line the same way gives its bytes back), line ends kept; lines end at
        ``\\n`` only. Damage is handled as in iteration; ``lines_read`` is set at the end."""
        if self._raw.closed:
            return
        text = io.TextIOWrapper(self._stream, encoding="utf-8", errors="surrogateescape",
                                newline="\n")
        count = 0
        try:
            for count, line in enumerate(text, 1):  # noqa: B007 - count is read after the loop
                yield line
        except _DAMAGE as exc:
            self._damaged(count, exc)
        finally:
            self.lines_read = count
            text.detach()
            self.close()

    def text_blocks(self, size: int = 1 << 21) -> Iterator[str]:
        """The decoded text (as :meth:`text_lines` decodes it) in blocks of about ``size``
        characters that end at a line end (the last one at the end of the file). A plain file
        is read in blocks of bytes; a compressed one line by line, so that damage keeps the same
        lines as iteration does."""
        if self.compression != "plain":
            batch: list[str] = []
            length = 0
            for line in self.text_lines():
                batch.append(line)
                length += len(line)
                if length >= size:
                    yield "".join(batch)
                    batch, length = [], 0
            if batch:
                yield "".join(batch)
            return
        if self._raw.closed:
            return
        stream = self._stream
        carry = b""
        count = 0
        try:
            while True:
                data = stream.read(size)
                if not data:
                    break
                data = carry + data
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                if cut:
                    count += data.count(b"\n", 0, cut)
                    yield data[:cut].decode("utf-8", "surrogateescape")
            if carry:
                count += 1
                yield carry.decode("utf-8", "surrogateescape")
        except _DAMAGE as exc:
            self._damaged(count, exc)
        finally:
            self.lines_read = count
            self.close()

    def _damaged(self, count: int, exc: BaseException) -> None:
        """Record that the data ended in damage after line ``count``."""
        self.skipped.append(Skipped(
            source=self.path,
            where=f"after line {count}",
            reason=f"{self.compression} data damaged or truncated: {exc}",
        ))

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
