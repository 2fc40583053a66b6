"""The report's reader of a later part of a large log (see :mod:`authaudit.logs.parallel`).

A worker process reads one part into fresh parsers, a :class:`FailurePairer` and an
:class:`ActivityCollector` made with ``later_part=True`` from a copy of the resolver as it was
before the read began; the collector goes back to the main process, which merges the parts'
collectors in log order (:meth:`ActivityCollector.merge`).

Failure windows, failures before a success, familiar addresses, the evidence of logins and
foreign recipients in domains an earlier part showed to be local are replayed or corrected
exactly by the merge, and Postfix messages whose lines straddle a border are joined again from
their pieces (:mod:`authaudit.logs.postfix_parts`); qmail-send results and AUTH session
recipients still waiting for each other at a border are paired across it
(:meth:`~authaudit.correlate.queue_join.QueueJoin.absorb`). What can still differ from one
sequential read, near each border only:

* a joined message is tallied after all parts, not where it ended: which of an identity's first
  four messages are cited as evidence, and the order of equally frequent senders, may differ;
* a message of the other MTAs (Exim, sendmail, qmail, Courier) whose lines straddle a border is
  given out in two pieces;
* a failure logged by both the MTA and Dovecot's passdb within the pairing window across the
  border counts twice;
* a bare login name (``test``) is resolved to a mailbox only with what the part itself learned
  (a mailbox first seen in a successful login of an earlier part is not known yet).

On the benchmark's 120 MB log every count, set and incident is the same as in one sequential
read; only the order of a few evidence lines and senders differs.
"""

from __future__ import annotations

from collections.abc import Sequence

from authaudit.correlate.activity import ActivityCollector
from authaudit.correlate.identity import IdentityResolver
from authaudit.correlate.pairing import FailurePairer
from authaudit.correlate.thresholds import Thresholds
from authaudit.logs.interface import LogEvent, LogParser

__all__ = ["ReportPart"]


class ReportPart:
    """Fresh parsers, pairer and collector for one later part (a picklable factory: build it
    with ``functools.partial(ReportPart, resolver_copy, thresholds)``)."""

    def __init__(self, resolver: IdentityResolver, thresholds: Thresholds) -> None:
        from authaudit.logs.parsers import default_parsers

        self.collector = ActivityCollector(resolver, thresholds, later_part=True)
        self._pairer = FailurePairer(self.collector.add)
        self.parsers: Sequence[LogParser] = default_parsers()

    def sink(self, event: LogEvent) -> None:
        """Take one event of the part."""
        self._pairer(event)

    def finish(self) -> ActivityCollector:
        """The part's tallies, after the parsers were flushed."""
        self._pairer.flush()
        return self.collector
