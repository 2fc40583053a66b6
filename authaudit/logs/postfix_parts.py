"""Joining the pieces of Postfix messages cut by the borders of a log read in parallel.

When a large log is read in parts (:mod:`authaudit.logs.parallel`), a message whose lines
straddle a border is seen twice: the earlier part has its start (the submission, the
authenticated user, the recipients so far) and ends with it still open; the later part sees the
rest of its lines without their start. Each part keeps such messages as
:class:`~authaudit.logs.postfix_queue.Piece` records instead of giving them out, and
:func:`stitch` joins them, in part order, by queue id: the result keeps the earlier piece's
identity and evidence and takes the later piece's recipient statuses (a later status of the same
recipient replaces the earlier one, as in one sequential read). A piece with no counterpart is
given out as it is (an open message at the end of the log, or a message whose start lies before
the log). What still differs from a sequential read: a content-filter chain whose re-injected
copy starts in the later part stays two messages, and time limits (expiry after seven days)
count from the part's start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from authaudit.logs.interface import EVIDENCE_LINES
from authaudit.logs.postfix_queue import Key, Piece
from authaudit.model import Delivery, RelayedMessage

__all__ = ["join", "stitch"]


def join(earlier: RelayedMessage, later: RelayedMessage) -> RelayedMessage:
    """One message from its earlier and later piece."""
    deliveries: dict[str, Delivery] = {d.recipient: d for d in earlier.deliveries}
    for delivery in later.deliveries:
        deliveries[delivery.recipient] = delivery
    lines = list(earlier.lines)
    for line in later.lines:
        if len(lines) >= EVIDENCE_LINES:
            break
        lines.append(line)
    return RelayedMessage(
        source=earlier.source, lineno=earlier.lineno, time=earlier.time, daemon=earlier.daemon,
        queue_id=earlier.queue_id, via=earlier.via, user=earlier.user, uid=earlier.uid,
        client_ip=earlier.client_ip, sender=earlier.sender or later.sender,
        deliveries=tuple(deliveries.values()), lines=tuple(lines),
    )


def stitch(parts: Sequence[Sequence[Piece]]) -> list[RelayedMessage]:
    """The messages the pieces of consecutive parts make (``parts[k]``: the pieces part ``k``
    kept, in the order it kept them), in the order they were finished."""
    out: list[RelayedMessage] = []
    carry: dict[Key, Piece] = {}
    """Messages still open at the end of the parts so far, under each of their open keys."""
    for pieces in parts:
        following: dict[Key, Piece] = {}
        for piece in pieces:
            earlier = carry.get(piece.keys[0]) if not piece.started else None
            if earlier is not None:
                for key in earlier.keys:
                    carry.pop(key, None)
                piece = Piece(piece.keys, join(earlier.record, piece.record), True, piece.done)
            if piece.done:
                out.append(piece.record)
            else:
                for key in piece.keys:
                    following[key] = piece
        for piece in _unique(carry.values()):  # no line in this part: still open
            for key in piece.keys:
                following.setdefault(key, piece)
        carry = following
    out.extend(piece.record for piece in _unique(carry.values()))
    return out


def _unique(pieces: Iterable[Piece]) -> list[Piece]:
    seen: set[int] = set()
    result: list[Piece] = []
    for piece in pieces:
        if id(piece) not in seen:
            seen.add(id(piece))
            result.append(piece)
    return result
