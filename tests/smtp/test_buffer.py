"""LineBuffer: lines, overlong lines, bulk body skipping, byte counts, timestamps."""

from __future__ import annotations

import time

import pytest

from authaudit.smtp.buffer import LineBuffer
from tests.smtp.helpers import feed_three_ways


def lines_of(chunks: list[bytes], max_line: int = 64) -> list[tuple[bytes, bool]]:
    buf = LineBuffer(max_line)
    out: list[tuple[bytes, bool]] = []
    for chunk in chunks:
        buf.feed(chunk, 0.0)
        while (line := buf.next_line()) is not None:
            out.append((line, buf.truncated))
    return out


def test_crlf_and_bare_lf_end_lines() -> None:
    got = feed_three_ways(b"EHLO a\r\nrset\nstaRtLs\r\n", lines_of, trailing=b"QUI")
    assert got == [(b"EHLO a", False), (b"rset", False), (b"staRtLs", False)]


def test_bare_cr_does_not_end_a_line() -> None:
    assert lines_of([b"a\rb\r\n"]) == [(b"a\rb", False)]


def test_bare_lf_is_reported() -> None:
    buf = LineBuffer()
    buf.feed(b"DATA\nQUIT\r\n", 0.0)
    assert buf.next_line() == b"DATA"
    assert buf.bare_lf
    assert buf.next_line() == b"QUIT"
    assert not buf.bare_lf


def test_overlong_line_is_cut_and_its_tail_dropped() -> None:
    data = b"A" * 100 + b"\r\nNOOP\r\n"
    got = feed_three_ways(data, lambda c: lines_of(c, max_line=10), trailing=b"xx")
    assert got == [(b"A" * 10, True), (b"NOOP", False)]


def test_line_of_exactly_max_line_is_whole_even_byte_by_byte() -> None:
    data = b"B" * 10 + b"\r\n"
    assert feed_three_ways(data, lambda c: lines_of(c, max_line=10)) == [(b"B" * 10, False)]


def test_memory_stays_bounded_without_line_feeds() -> None:
    buf = LineBuffer(100)
    for _ in range(1000):
        buf.feed(b"x" * 1000, 0.0)
        while buf.next_line() is not None:
            pass
        assert len(buf) <= 1000


def test_end_line_terminates_the_last_line() -> None:
    buf = LineBuffer()
    buf.feed(b"QUIT", 5.0)
    assert buf.next_line() is None
    buf.end_line()
    assert buf.next_line() == b"QUIT"
    assert buf.ts == 5.0
    buf.end_line()
    assert buf.next_line() is None


def bodies(chunks: list[bytes], lf_ends: bool = False) -> tuple[bool, list[bytes]]:
    """Skip a body then read the lines after it."""
    buf = LineBuffer()
    buf.begin_body()
    done = False
    lines: list[bytes] = []
    for chunk in chunks:
        buf.feed(chunk, 0.0)
        if not done:
            done = buf.skip_body(lf_ends)
        if done:
            while (line := buf.next_line()) is not None:
                lines.append(line)
    return done, lines


def test_body_ends_at_crlf_dot_crlf() -> None:
    body = b"From: a\r\n\r\nZ2FsdW50\r\n..leading dot\r\n.\r\nQUIT\r\n"
    assert feed_three_ways(body, bodies, trailing=b"RSE") == (True, [b"QUIT"])


def test_empty_body() -> None:
    assert feed_three_ways(b".\r\nQUIT\r\n", bodies) == (True, [b"QUIT"])


def test_dot_stuffed_and_lf_lines_do_not_end_a_crlf_body() -> None:
    body = b"a\r\n.. not the end\r\nb\n.\nc\r\n.x\r\n"
    assert feed_three_ways(body, bodies) == (False, [])


def test_lf_body_ends_at_lf_dot_lf_when_allowed() -> None:
    body = b"a\nb\n.\nQUIT\n"
    assert feed_three_ways(body, lambda c: bodies(c, lf_ends=True)) == (True, [b"QUIT"])
    assert feed_three_ways(b".\nQUIT\n", lambda c: bodies(c, lf_ends=True)) == (True, [b"QUIT"])


def test_body_bytes_are_not_kept() -> None:
    buf = LineBuffer()
    buf.begin_body()
    for _ in range(100):
        buf.feed(b"QUFBQUFB\r\n" * 100, 0.0)
        assert not buf.skip_body()
        assert len(buf) <= 4


def test_skip_counts_bytes_across_chunks() -> None:
    buf = LineBuffer()
    buf.feed(b"12345", 0.0)
    assert buf.skip(3) == 3
    assert buf.skip(10) == 2
    buf.feed(b"67\r\nNOOP\r\n", 0.0)
    assert buf.skip(2) == 2
    assert buf.next_line() == b""
    assert buf.next_line() == b"NOOP"


def test_each_line_carries_the_time_of_its_last_chunk() -> None:
    buf = LineBuffer()
    buf.feed(b"EHLO a\r\nAU", 1.0)
    buf.feed(b"TH LOGIN\r", 2.0)
    buf.feed(b"\nNOOP\r\n", 3.0)
    assert (buf.next_line(), buf.ts) == (b"EHLO a", 1.0)
    assert (buf.next_line(), buf.ts) == (b"AUTH LOGIN", 3.0)
    assert (buf.next_line(), buf.ts) == (b"NOOP", 3.0)


def test_peek_and_clear() -> None:
    buf = LineBuffer()
    buf.feed(b"\x16\x03\x01\x00", 0.0)
    assert buf.peek(2) == b"\x16\x03"
    assert buf.clear() == 4
    assert len(buf) == 0


def test_max_line_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LineBuffer(0)


def test_lines_fed_one_byte_at_a_time_take_linear_time() -> None:
    def cost(n: int) -> float:
        best = float("inf")
        for _ in range(3):
            buf = LineBuffer(1 << 20)
            start = time.perf_counter()
            for _ in range(n):
                buf.feed(b"x", 0.0)
                buf.next_line()
            best = min(best, time.perf_counter() - start)
        return best

    # A quadratic rescan would make 8x the bytes cost ~64x; linear costs ~8x.
    assert cost(40_000) < 24 * cost(5_000)


def test_body_skipping_is_fast() -> None:
    body = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n" * 20
    chunks = [body[i : i + 1460] for i in range(0, len(body), 1460)] * 500
    buf = LineBuffer()
    buf.begin_body()
    start = time.perf_counter()
    for chunk in chunks:
        buf.feed(chunk, 0.0)
        buf.skip_body()
    per_kb = (time.perf_counter() - start) / (sum(map(len, chunks)) / 1024)
    assert per_kb < 5e-6  # measured well under 1 us/KB; generous for slow CI machines


def absorbed(chunks: list[bytes], lf_ends: bool = False) -> tuple[bool, list[bytes]]:
    """Like :func:`bodies`, but each chunk is first offered to the absorb_body fast path."""
    buf = LineBuffer()
    buf.begin_body()
    done = False
    lines: list[bytes] = []
    for chunk in chunks:
        if not done and buf.absorb_body(chunk, 0.0, lf_ends):
            continue
        buf.feed(chunk, 0.0)
        if not done:
            done = buf.skip_body(lf_ends)
        if done:
            while (line := buf.next_line()) is not None:
                lines.append(line)
    return done, lines


@pytest.mark.parametrize(
    "body",
    [
        b"From: a\r\n\r\nZ2FsdW50\r\n..leading dot. Sentences. End.\r\n.\r\nQUIT\r\n",
        b".\r\nQUIT\r\n",
        b"x" * 3000 + b"\r\n.\r\nQUIT\r\n",
        b"a.b\r\n.. x\r\n.\r\nQUIT\r\n",
    ],
)
def test_absorbing_body_chunks_finds_the_same_end(body: bytes) -> None:
    assert feed_three_ways(body, absorbed, trailing=b"NOOP") == (True, [b"QUIT"])
    assert feed_three_ways(body, bodies) == (True, [b"QUIT"])


def test_absorbing_lf_bodies() -> None:
    body = b"line.\nmore\n.\nQUIT\n"
    assert feed_three_ways(body, lambda c: absorbed(c, lf_ends=True)) == (True, [b"QUIT"])


def test_absorb_keeps_time_and_refuses_when_more_than_a_tail_is_buffered() -> None:
    buf = LineBuffer()
    buf.begin_body()
    assert not buf.absorb_body(b"Subject: x\r\n", 1.0)  # a fresh body: the first line matters
    buf.feed(b"Subject: x\r\n", 1.0)
    assert not buf.skip_body()
    assert buf.absorb_body(b"QUFBQUFB\r\n" * 10, 2.0)
    assert buf.ts == 2.0
    assert len(buf) == 4
