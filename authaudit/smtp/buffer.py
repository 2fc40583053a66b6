"""A receive buffer for one direction of an SMTP stream: lines, message bodies and byte counts.

Theory of operation: bytes are appended to one ``bytearray``; ``_start`` marks the first byte not
yet consumed and ``_scan`` the point up to which no line feed exists, so a line that arrives one
byte at a time is never rescanned (amortised O(n) overall, like h11's receive buffer). Consumed
bytes are dropped when the buffer empties or when more than half of it is dead.

Three ways of consuming:

* :meth:`LineBuffer.next_line` - a command or reply line. CRLF ends a line; a bare LF is tolerated.
  A line longer than ``max_line`` is cut: its first ``max_line`` bytes come out with
  :attr:`LineBuffer.truncated` set and the rest of it is dropped as it arrives, so memory stays
  bounded whatever the peer sends.
* :meth:`LineBuffer.skip_body` - a DATA message body, searched in bulk for the end marker
  ``CRLF.CRLF`` (RFC 5321 section 4.1.1.4) with one ``find`` per call. Bodies are most of the bytes
  of a capture and are never split into lines.
* :meth:`LineBuffer.skip` - a BDAT chunk (RFC 3030), skipped by byte count.

Each consumed unit is stamped (:attr:`LineBuffer.ts`) with the capture time of the chunk that held
its last byte.
"""

from __future__ import annotations

import re
from collections import deque

__all__ = ["DEFAULT_MAX_LINE", "LineBuffer"]

DEFAULT_MAX_LINE = 16384
"""RFC 4954 section 4 lets an AUTH command line reach 12,288 octets; RFC 5321 allows 512 for other
commands. 16 KiB keeps every legitimate line whole and bounds what a hostile peer makes us hold."""

_COMPACT_MIN = 64 * 1024
_BODY_END = b"\r\n.\r\n"
_BODY_END_LF = re.compile(rb"\n\.\r?\n")
_BODY_FIRST = (b".\r\n",)
_BODY_FIRST_LF = (b".\r\n", b".\n")
_DOT = 0x2E
_TAIL = 4  # bytes kept when no end marker was found: a marker split across chunks is still seen


class LineBuffer:
    """Unconsumed bytes of one stream direction, with the capture time of each fed chunk."""

    __slots__ = (
        "_base",
        "_body_fresh",
        "_buf",
        "_chunks",
        "_discarding",
        "_scan",
        "_start",
        "bare_lf",
        "max_line",
        "truncated",
        "ts",
    )

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        if max_line < 1:
            raise ValueError("max_line must be positive")
        self.max_line = max_line
        self._buf = bytearray()
        self._start = 0
        self._scan = 0
        self._base = 0
        """Stream offset of ``_buf[0]``."""
        self._chunks: deque[tuple[int, float]] = deque()
        """(stream offset just past the chunk, capture time) for chunks not entirely consumed."""
        self._discarding = False
        self._body_fresh = False
        self.truncated = False
        """The last line returned was longer than ``max_line`` and was cut."""
        self.bare_lf = False
        """The last line returned ended with LF alone, not CRLF."""
        self.ts = 0.0
        """Capture time of the chunk holding the last byte consumed."""

    def __len__(self) -> int:
        return len(self._buf) - self._start

    def feed(self, data: bytes, ts: float) -> None:
        """Append ``data``, captured at ``ts``."""
        if data:
            self._buf += data
            self._chunks.append((self._base + len(self._buf), ts))

    def next_line(self) -> bytes | None:
        """The next complete line without its line ending, or None when more bytes are needed."""
        buf = self._buf
        while True:
            if self._scan >= len(buf):
                return None  # nothing new since the last look
            start = self._start
            nl = buf.find(b"\n", self._scan)
            if nl < 0:
                end = len(buf)
                if self._discarding:
                    self._consume_to(end)
                    return None
                self._scan = end
                if end - start > self.max_line + 1:
                    # Cut now rather than hold an unbounded line; the tail is dropped as it comes.
                    line = bytes(buf[start : start + self.max_line])
                    self._discarding = True
                    self._consume_to(end)
                    self.truncated = True
                    self.bare_lf = False
                    return line
                return None
            if self._discarding:
                self._discarding = False
                self._consume_to(nl + 1)
                continue
            end = nl
            self.bare_lf = not (end > start and buf[end - 1] == 0x0D)
            if not self.bare_lf:
                end -= 1
            if end - start > self.max_line:
                line = bytes(buf[start : start + self.max_line])
                self.truncated = True
            else:
                line = bytes(buf[start:end])
                self.truncated = False
            self._consume_to(nl + 1)
            return line

    def end_line(self) -> None:
        """At end of stream: terminate an unfinished last line so that it can be read."""
        if len(self._buf) > self._start and self._buf[-1] != 0x0A:
            ts = self._chunks[-1][1] if self._chunks else self.ts
            self.feed(b"\n", ts)

    def begin_body(self) -> None:
        """The next byte starts a message body (so ``.CRLF`` right away ends an empty one)."""
        self._body_fresh = True
        self._discarding = False

    def skip_body(self, lf_ends: bool = False) -> bool:
        """Drop message-body bytes; True once the end-of-data line has been consumed.

        Args:
            lf_ends: also accept ``LF.LF`` and ``LF.CRLF`` as the end marker (for a client that ends
                its lines with a bare LF; such a server ends the body there too).
        """
        buf = self._buf
        start = self._start
        if self._body_fresh:
            head = bytes(buf[start : start + 3])
            for first in _BODY_FIRST_LF if lf_ends else _BODY_FIRST:
                if head.startswith(first):
                    self._body_fresh = False
                    self._consume_to(start + len(first))
                    return True
                if first.startswith(head):
                    return False  # too few bytes to tell
            self._body_fresh = False
        if lf_ends:
            match = _BODY_END_LF.search(buf, start)
            end = match.end() if match else -1
        else:
            end = buf.find(_BODY_END, start)
            if end >= 0:
                end += len(_BODY_END)
        if end >= 0:
            self._consume_to(end)
            return True
        if len(buf) - start > _TAIL:
            self._consume_to(len(buf) - _TAIL)
        return False

    def absorb_body(self, data: bytes, ts: float, lf_ends: bool = False) -> bool:
        """Drop ``data`` at once if it is body bytes that do not hold the end-of-data line.

        The fast path for message bodies: when only the last bytes of the body are buffered, the
        search runs on ``data`` as it came and nothing is appended; without any ``.`` (base64
        attachments, most of a capture's bytes) there is not even a search. Returns False, having
        done nothing, when ``data`` must go through :meth:`feed` and :meth:`skip_body` (it ends
        the body, or the buffer holds more than a tail).
        """
        buf = self._buf
        if self._body_fresh or len(buf) - self._start > _TAIL:
            return False
        if _DOT in data or _DOT in buf:  # an int: a plain memchr, far cheaper than b"." in data
            window = bytes(buf[self._start :]) + data
            if _BODY_END_LF.search(window) if lf_ends else _BODY_END in window:
                return False
        size = len(buf)
        keep = data[-_TAIL:] if len(data) >= _TAIL else (bytes(buf[self._start :]) + data)[-_TAIL:]
        self._base += size + len(data) - len(keep)
        buf[:] = keep
        self._start = self._scan = 0
        self._chunks.clear()  # the kept bytes take the time of the chunk that completes them
        self.ts = ts
        return True

    def skip(self, count: int) -> int:
        """Drop up to ``count`` bytes (a BDAT chunk); returns how many were dropped."""
        n = min(count, len(self._buf) - self._start)
        if n > 0:
            self._consume_to(self._start + n)
        return n

    @property
    def next_ts(self) -> float:
        """Capture time of the first unconsumed byte (of the last consumed one if none is left)."""
        first = self._base + self._start
        for end, ts in self._chunks:
            if end > first:
                return ts
        return self.ts

    def peek(self, count: int) -> bytes:
        """Up to ``count`` unconsumed bytes, without consuming them."""
        return bytes(self._buf[self._start : self._start + count])

    def clear(self) -> int:
        """Drop everything buffered (data lost to a gap, or encrypted bytes); returns the count."""
        n = len(self._buf) - self._start
        self._discarding = False
        self._body_fresh = False
        if n:
            self._consume_to(len(self._buf))
        return n

    def _consume_to(self, index: int) -> None:
        """Mark ``_buf[:index]`` consumed, stamp :attr:`ts`, and compact when worthwhile."""
        last = self._base + index - 1
        chunks = self._chunks
        while chunks and chunks[0][0] <= last:
            chunks.popleft()
        if chunks:
            self.ts = chunks[0][1]
        buf = self._buf
        if index >= len(buf):
            self._base += len(buf)
            buf.clear()
            self._start = self._scan = 0
            chunks.clear()
        elif index > _COMPACT_MIN and index * 2 > len(buf):
            del buf[:index]
            self._base += index
            self._scan = max(self._scan - index, 0)
            self._start = 0
        else:
            self._start = index
            if self._scan < index:
                self._scan = index
