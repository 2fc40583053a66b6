"""Inflating gzip-compressed captures without losing the frames before a damaged spot."""

from __future__ import annotations

import io
import zlib
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

__all__ = ["GZIP_MAGIC", "Gunzip"]

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class Gunzip(io.RawIOBase):
    """The inflated bytes of a gzip file, all members; damage ends the stream, sets ``damage``."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._pending = b""
        self._dec = zlib.decompressobj(wbits=31)
        self._done = False
        self.damage: str | None = None

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()
        super().close()

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        while not self._done:
            out = self._inflate(len(view))
            if out:
                view[: len(out)] = out
                return len(out)
        return 0

    def _input(self) -> bytes:
        data, self._pending = self._pending, b""
        return data or self._raw.read(_CHUNK)

    def _inflate(self, limit: int) -> bytes:
        dec = self._dec
        if dec.eof:  # one member done: another may follow
            data = dec.unused_data or self._input()
            if not data:
                self._done = True
                return b""
            if not data.startswith(GZIP_MAGIC[: len(data)]):
                self._stop("data after the end of the gzip stream was ignored")
                return b""
            dec = self._dec = zlib.decompressobj(wbits=31)
        else:
            data = dec.unconsumed_tail or self._input()
            if not data:
                self._stop("the gzip stream is truncated")
                return b""
        try:
            return dec.decompress(data, limit)
        except zlib.error as exc:
            self._stop(f"the gzip stream is damaged ({exc})")
            return b""

    def _stop(self, reason: str) -> None:
        self._done = True
        self.damage = reason
