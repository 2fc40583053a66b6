"""Replies assembled from lines and paired, first in first out, with waiting commands."""

from __future__ import annotations

import pytest

from authaudit.smtp.buffer import LineBuffer
from authaudit.smtp.pairing import ReplyPairing, Wait
from authaudit.smtp.replies import Reply
from tests.smtp.helpers import feed_three_ways


def pairs_of(chunks: list[bytes]) -> list[tuple[Wait, Reply]]:
    """Replies to GREETING, EHLO, AUTH, AUTH, AUTH, fed as ``chunks``."""
    buf = LineBuffer()
    pairing = ReplyPairing(greeting=True)
    for wait in (Wait.COMMAND, Wait.AUTH, Wait.AUTH, Wait.AUTH):
        pairing.expect(wait)
    out: list[tuple[Wait, Reply]] = []
    for chunk in chunks:
        buf.feed(chunk, 0.0)
        while (line := buf.next_line()) is not None:
            paired = pairing.add(line, 0.0)
            if paired is not None:
                out.append(paired[:2])
    return out


def test_single_and_multi_line_replies_pair_in_order() -> None:
    data = b"220 mx ESMTP\r\n250-mx\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n334 \r\n235\r\n"
    got = feed_three_ways(data, pairs_of, trailing=b"535-partial\r\n")
    assert got == [
        (Wait.GREETING, Reply(220, "mx ESMTP", b"mx ESMTP")),
        (Wait.COMMAND, Reply(250, "8BITMIME", b"8BITMIME", 3)),
        (Wait.AUTH, Reply(334, "", b"")),
        (Wait.AUTH, Reply(235, "", b"")),
    ]


def test_a_reply_before_its_command_is_held() -> None:
    pairing = ReplyPairing(greeting=False)
    assert pairing.add(b"250 ok", 1.0) is None
    assert pairing.held == (Reply(250, "ok", b"ok"), 1.0)
    assert pairing.take_held() is None
    pairing.expect(Wait.COMMAND)
    assert pairing.take_held() == (Wait.COMMAND, Reply(250, "ok", b"ok"), 1.0)
    assert pairing.held is None


def test_non_reply_line_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not an SMTP reply"):
        ReplyPairing(greeting=True).add(b"AAAAAAAA", 0.0)


def test_stale_lines_are_dropped_and_forget_resets() -> None:
    pairing = ReplyPairing(greeting=False)
    pairing.expect(Wait.AUTH)
    assert pairing.add(b"334-partial", 1.0) is None
    pairing.forget()
    assert not pairing.pending
    pairing.expect(Wait.AUTH)
    pairing.stale_before = 5.0
    assert pairing.add(b"235 for a lost line", 4.0) is None
    assert pairing.add(b"535 no", 6.0) == (Wait.AUTH, Reply(535, "no", b"no"), 6.0)
