"""QueueJoin: qmail-send outcomes paired with AUTH sessions' recipients by envelope and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from authaudit.correlate import queue_join
from authaudit.correlate.queue_join import WINDOW, QueueJoin

T0 = datetime(2026, 11, 16, 3, 12, 49, tzinfo=UTC)


def test_session_first_then_delivery() -> None:
    join = QueueJoin()
    assert join.accepted("test@victim.org", "X@Victim.org", "a@MSN.com", T0) is None
    assert join.delivered("x@victim.org", "A@msn.com", "bounced", T0 + timedelta(seconds=3)) \
        == "test@victim.org"
    assert join.paired == 1
    # each envelope pairs once: a second delivery of the same pair waits instead
    assert join.delivered("x@victim.org", "a@msn.com", "sent", T0 + timedelta(seconds=4)) is None
    assert join.paired == 1


def test_delivery_first_then_session() -> None:
    join = QueueJoin()
    assert join.delivered("x@victim.org", "a@msn.com", "deferred", T0) is None
    assert join.accepted("test@victim.org", "x@victim.org", "a@msn.com", T0) == "deferred"
    assert join.accepted("test@victim.org", "x@victim.org", "a@msn.com", T0) is None


def test_other_envelopes_and_far_times_do_not_pair() -> None:
    join = QueueJoin()
    join.accepted("test@victim.org", "x@victim.org", "a@msn.com", T0)
    assert join.delivered("y@victim.org", "a@msn.com", "sent", T0) is None
    assert join.delivered("x@victim.org", "b@msn.com", "sent", T0) is None
    late = T0 + WINDOW + timedelta(seconds=1)
    assert join.delivered("x@victim.org", "a@msn.com", "sent", late) is None
    assert join.paired == 0
    assert join.delivered("x@victim.org", "a@msn.com", "sent", T0 + WINDOW) == "test@victim.org"


def test_unknown_times_pair() -> None:
    join = QueueJoin()
    join.accepted("test@victim.org", "x@victim.org", "a@msn.com", None)
    assert join.delivered("x@victim.org", "a@msn.com", "sent", T0) == "test@victim.org"


def test_indexes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_join, "MAX_WAITING", 3)
    join = QueueJoin()
    for n in range(5):
        join.accepted("test@victim.org", "x@victim.org", f"r{n}@msn.com", T0)
    assert join.delivered("x@victim.org", "r0@msn.com", "sent", T0) is None  # evicted
    assert join.delivered("x@victim.org", "r4@msn.com", "sent", T0) == "test@victim.org"


def test_absorb_pairs_across_a_part_border_both_ways() -> None:
    before, after = QueueJoin(), QueueJoin()
    before.accepted("test@victim.org", "x@victim.org", "a@msn.com", T0)  # delivered after
    before.delivered("x@victim.org", "b@msn.com", "deferred", T0)  # accepted after
    before.accepted("test@victim.org", "x@victim.org", "c@msn.com", T0)  # never delivered
    assert after.delivered("x@victim.org", "A@msn.com", "bounced", T0 + timedelta(minutes=1)) \
        is None
    assert after.accepted("other@victim.org", "x@victim.org", "b@msn.com", T0) is None
    assert after.delivered("y@victim.org", "d@msn.com", "sent", T0) is None  # nobody's
    assert after.accepted("test@victim.org", "x@victim.org", "e@msn.com", T0) is None
    assert after.delivered("x@victim.org", "e@msn.com", "sent", T0) == "test@victim.org"

    made = before.absorb(after)

    assert sorted(made) == [("other@victim.org", "deferred"), ("test@victim.org", "bounced")]
    assert before.paired == 3  # one inside the later part, two across the border
    # what is left still waits, here: the later part's delivery and this part's recipient
    assert before.accepted("z@victim.org", "y@victim.org", "d@msn.com", T0) == "sent"
    assert before.delivered("x@victim.org", "c@msn.com", "sent", T0) == "test@victim.org"


def test_absorb_respects_the_window_and_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    before, after = QueueJoin(), QueueJoin()
    before.accepted("test@victim.org", "x@victim.org", "a@msn.com", T0)
    after.delivered("x@victim.org", "a@msn.com", "sent", T0 + WINDOW + timedelta(seconds=1))
    assert before.absorb(after) == []
    monkeypatch.setattr(queue_join, "MAX_WAITING", 2)
    before, after = QueueJoin(), QueueJoin()
    before.accepted("test@victim.org", "x@victim.org", "r0@msn.com", T0)
    for n in (1, 2):
        after.accepted("test@victim.org", "x@victim.org", f"r{n}@msn.com", T0)
    assert before.absorb(after) == []
    assert before.delivered("x@victim.org", "r0@msn.com", "sent", T0) is None  # oldest went
    assert before.delivered("x@victim.org", "r2@msn.com", "sent", T0) == "test@victim.org"
