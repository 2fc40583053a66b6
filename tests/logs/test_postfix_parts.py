"""Joining the pieces of Postfix messages that the borders of a log read in parts cut."""

from __future__ import annotations

from datetime import UTC, datetime

from authaudit.logs.postfix_parts import join, stitch
from authaudit.logs.postfix_queue import Piece
from authaudit.model import Delivery, RelayedMessage, RelayVia

T = datetime(2025, 5, 1, tzinfo=UTC)


def _record(qid: str, lineno: int, via: RelayVia, statuses: dict[str, str],
            lines: tuple[str, ...], user: str | None = None) -> RelayedMessage:
    return RelayedMessage(
        source="mail.log", lineno=lineno, time=T, daemon="postfix", queue_id=qid, via=via,
        user=user, client_ip="192.0.2.1" if user else None, sender="s@example.org",
        deliveries=tuple(Delivery(recipient=r, status=s, time=T) for r, s in statuses.items()),
        lines=lines)


def test_join_keeps_the_start_and_takes_the_later_statuses() -> None:
    start = _record("A1", 10, RelayVia.AUTH, {"a@x": "deferred", "b@x": "sent"},
                    ("l10", "l11", "l12"), user="u")
    rest = _record("A1", 900, RelayVia.QUEUED, {"a@x": "bounced", "c@x": "sent"},
                   ("l900", "l901", "l902"))
    joined = join(start, rest)
    assert (joined.lineno, joined.via, joined.user, joined.queue_id) == (10, RelayVia.AUTH, "u",
                                                                         "A1")
    assert {d.recipient: d.status for d in joined.deliveries} == {
        "a@x": "bounced", "b@x": "sent", "c@x": "sent"}
    assert [d.recipient for d in joined.deliveries] == ["a@x", "b@x", "c@x"]
    assert joined.lines == ("l10", "l11", "l12", "l900", "l901")


def test_stitch_over_three_parts() -> None:
    key = ("h", "A1")
    other = ("h", "B2")
    part0 = [Piece((key,), _record("A1", 1, RelayVia.AUTH, {"a@x": "deferred"}, ("s",), "u"),
                   True, False),
             Piece((other,), _record("B2", 2, RelayVia.LOCAL, {}, ("p",)), True, False)]
    part1 = [Piece((key,), _record("A1", 50, RelayVia.QUEUED, {"a@x": "deferred"}, ("r",)),
                   False, False),
             Piece((("h", "C3"),), _record("C3", 60, RelayVia.QUEUED, {"z@x": "sent"}, ()),
                   False, True)]  # no start anywhere: given out as it is
    part2 = [Piece((key,), _record("A1", 99, RelayVia.QUEUED, {"a@x": "bounced"}, ("b",)),
                   False, True)]
    done = stitch([part0, part1, part2])
    assert [(m.queue_id, m.via, m.lines) for m in done] == [
        ("C3", RelayVia.QUEUED, ()),
        ("A1", RelayVia.AUTH, ("s", "r", "b")),
        ("B2", RelayVia.LOCAL, ("p",)),  # still open at the end of the log
    ]
    assert [d.status for d in done[1].deliveries] == ["bounced"]
