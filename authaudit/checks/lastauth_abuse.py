"""**AA306 Last-auth IP of an account is a source of abuse.**

The account store records where each account last logged in (vpopmail ``lastauth``,
``vuserinfo``'s ``last auth ip``). When that address is one the logs show relaying for an
identity flagged by AA301, spraying passwords (AA303), or being the one whose login succeeded
after failures (AA304), the
account's latest login came from the attacker. *high*; *critical* when the abusive relaying was
done as this very account.

Example row: ``critical  AA306  test@victim.org  last auth from 82.128.32.42, which relayed
12 messages to 37 foreign domains as test@victim.org``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.logs.interface import normalise_ip
from authaudit.model import AccountActivity, Confidence, Finding, Severity

__all__ = ["LastAuthAbuse"]


class LastAuthAbuse(Check):
    """AA306: an account's stored last-auth IP is an abusive source in the logs."""

    id = "AA306"
    title = "Last-auth IP of an account is a source of abuse"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    remediation = (
        "Treat the account as compromised: change its password, then look for other accounts "
        "whose last login came from the same address."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        logs = evidence.logs
        if logs is None:
            return
        by_account = {a.account: a for a in logs.activity}
        abusive: dict[str, list[tuple[str, AccountActivity | None]]] = {}
        for f in evidence.findings:
            flagged = by_account.get(f.account or "")
            if f.check_id == "AA301" and flagged is not None:
                for ip in flagged.relay_ips:  # where the mail came from, not every login
                    abusive.setdefault(ip, []).append(("AA301", flagged))
            elif f.check_id == "AA303":
                abusive.setdefault(f.subject, []).append(("AA303", None))
            elif f.check_id == "AA304" and flagged is not None and flagged.guessed_from:
                abusive.setdefault(flagged.guessed_from, []).append(("AA304", flagged))
        for result in evidence.accounts:
            account = result.account
            last_ip = normalise_ip(account.last_auth_ip)
            if not last_ip or last_ip not in abusive:
                continue
            key = logs.resolver.resolve(account.address)
            reasons = []
            own = False
            for check_id, source in abusive[last_ip]:
                if check_id == "AA301" and source is not None:
                    own = own or source.account == key
                    reasons.append(
                        f"relayed {source.messages} messages to {source.foreign_domains} "
                        f"foreign domains as {source.account}"
                    )
                elif check_id == "AA303":
                    reasons.append("sprayed passwords over many accounts")
                elif source is not None:
                    reasons.append(f"logged in as {source.account} after failures")
            yield self.finding(
                subject=account.address,
                account=key,
                severity=Severity.CRITICAL if own else self.severity,
                message=f"last auth from {last_ip}, which " + "; ".join(dict.fromkeys(reasons)),
                evidence=(
                    ("last_auth_ip", last_ip),
                    ("last_auth_at", account.last_auth_at.isoformat() if account.last_auth_at
                     else ""),
                    ("store", account.store),
                ),
                time=account.last_auth_at,
            )
