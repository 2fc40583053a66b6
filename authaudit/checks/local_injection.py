"""**AA305 Mail injected by a local script or user.**

Mail to foreign domains that entered the queue on the server itself rather than through SMTP
AUTH: Postfix ``pickup`` (``uid=33`` is www-data), Exim ``P=local U=user``, sendmail submissions,
or a qmail ``info msg ... uid N`` from a uid other than qmaild's (null-sender bounces,
which qmail-send queues itself, are left out). 20 foreign recipients is
*medium*, 100 or more *high*. This is usually a hacked web application (PHP ``mail()``), not a
stolen mailbox password, so changing passwords does not stop it.

For qmail the log does not say which uid is qmaild's: give it with ``--smtpd-uid``; otherwise the
uid that queued the most messages is taken to be qmaild's.

Example row: ``medium  AA305  uid 10003  queued 60 messages to 60 foreign recipients in 7
domains``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.checks.logs_common import seen_evidence
from authaudit.model import Confidence, Finding, Severity

__all__ = ["LocalInjection"]


class LocalInjection(Check):
    """AA305: mail from a local uid or user to many foreign recipients."""

    id = "AA305"
    title = "Mail injected by a local script or user"
    severity = Severity.MEDIUM
    confidence = Confidence.MEDIUM
    remediation = (
        "Find the script: the uid's web sites and cron jobs (recently changed PHP files, "
        "mail() calls), stop it, purge its mail from the queue, and limit sendmail for web users."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        logs = evidence.logs
        if logs is None:
            return
        t = logs.thresholds
        daemon_uids = {f"uid {u}" for u in logs.smtpd_uids}
        if not daemon_uids:
            queued = [(v.messages, k) for k, v in logs.local.items() if v.queued_only]
            if queued:
                daemon_uids = {max(queued)[1]}
        for key, tally in sorted(logs.local.items()):
            if key in daemon_uids or tally.foreign_recipients < t.local_recipients:
                continue
            high = tally.foreign_recipients >= t.local_recipients_high
            yield self.finding(
                subject=key,
                severity=Severity.HIGH if high else self.severity,
                message=(
                    f"queued {tally.messages} messages to {tally.foreign_recipients} foreign "
                    f"recipients in {len(tally.foreign_domains)} domains"
                ),
                evidence=(
                    ("daemon", tally.daemon),
                    *seen_evidence(tally.first, tally.last),
                    *(("line", line) for line in tally.evidence[:2]),
                ),
                time=tally.first,
                last_time=tally.last,
            )
