"""Reply lines and the AUTH outcome policy."""

from __future__ import annotations

import pytest

from authaudit.model import Outcome
from authaudit.smtp.replies import Reply, auth_outcome, parse_reply_line


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        (b"250 ok", (250, True, b"ok")),
        (b"250-ok", (250, False, b"ok")),
        (b"535", (535, True, b"")),
        (b"334 VXNlcm5hbWU6", (334, True, b"VXNlcm5hbWU6")),
        (b"AAAA", None),
        (b"25", None),
        (b"650 x", None),
        (b"250x", None),
        (b"+OK", None),
    ],
)
def test_parse_reply_line(line: bytes, parsed: tuple[int, bool, bytes] | None) -> None:
    assert parse_reply_line(line) == parsed


def outcome(
    code: int, text: str = "", *, sent: bool = True, cancelled: bool = False
) -> tuple[Outcome, tuple[str, ...]]:
    return auth_outcome(
        Reply(code, text, text.encode()), credentials_sent=sent, cancelled=cancelled
    )


@pytest.mark.parametrize("code", [535, 454, 534, 538, 501, 504, 530, 421, 554])
def test_refusal_after_credentials_is_failure(code: int) -> None:
    assert outcome(code) == (Outcome.FAILURE, ())


@pytest.mark.parametrize("code", [504, 534, 538, 454, 530])
def test_refusal_before_any_credential_is_rejected(code: int) -> None:
    assert outcome(code, sent=False) == (Outcome.REJECTED, ())


def test_503_is_always_rejected() -> None:
    assert outcome(503, sent=True) == (Outcome.REJECTED, ())
    assert outcome(503, sent=False) == (Outcome.REJECTED, ())


def test_235_is_success() -> None:
    assert outcome(235, "2.7.0 Authentication successful") == (Outcome.SUCCESS, ())
    assert outcome(235, "ok, go ahead (#2.0.0)") == (Outcome.SUCCESS, ())


@pytest.mark.parametrize("text", ["auth failure", "Authentication failed", "unsuccessful"])
def test_qmail_235_failure_quirk(text: str) -> None:
    assert outcome(235, text) == (Outcome.FAILURE, ("qmail-235-failure",))


def test_cancel_wins_over_the_code() -> None:
    assert outcome(501, "5.7.0 Authentication cancelled", cancelled=True) == (Outcome.CANCELLED, ())


def test_other_positive_replies_are_unknown() -> None:
    assert outcome(250) == (Outcome.UNKNOWN, ("unexpected-reply",))
