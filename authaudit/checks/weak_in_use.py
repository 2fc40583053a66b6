"""**AA307 Weak credential confirmed in use.**

A credential that the other checks call weak or exposed (AA101 to AA103 on the wire, AA201 to AA205
and AA208 in the store) belongs to an account that is being used: the logs show it logging in
from at least 2 addresses or relaying mail, or (for a weakness found in the store) a capture
shows the server accepting it. A weak
password nobody uses is a risk; one in use is likely already known to an attacker. *high*;
*critical* when the account also relays like a compromised one (AA301).

Example row: ``critical  AA307  test@victim.org  weak credential (AA201, AA102) in use: 35 logins
from 41 IPs, accepted on the wire from 82.128.32.42``.
"""

from __future__ import annotations

from collections.abc import Iterator

from authaudit.checks.interface import Check, Evidence
from authaudit.checks.logs_common import ip_list, resolver_of
from authaudit.model import Confidence, Finding, Outcome, Severity

__all__ = ["WeakInUse"]

_WEAK = frozenset({"AA101", "AA102", "AA103", "AA201", "AA202", "AA203", "AA204", "AA205",
                   "AA208"})


class WeakInUse(Check):
    """AA307: weak or exposed credential of an account that is actively used."""

    id = "AA307"
    title = "Weak credential confirmed in use"
    severity = Severity.HIGH
    confidence = Confidence.HIGH
    remediation = (
        "Change the password now (to a long random one), tell the user, and check what the "
        "account sent and from where since the first weak-credential login."
    )

    def run(self, evidence: Evidence) -> Iterator[Finding]:
        """See `Check.run`."""
        resolver = resolver_of(evidence)
        weak: dict[str, list[str]] = {}
        wire: dict[str, set[str]] = {}
        for a in evidence.attempts:
            if a.outcome is Outcome.SUCCESS and a.username:
                wire.setdefault(resolver.resolve(a.username), set()).add(a.flow.client_ip)
        for f in evidence.findings:
            if f.check_id in _WEAK and f.account:
                key = resolver.resolve(f.account)
                if f.check_id == "AA101" and key not in wire:
                    continue  # sent in clear but refused: a wrong password is not a weak one
                weak.setdefault(key, []).append(f.check_id)
        if not weak:
            return
        activity = {a.account: a for a in evidence.logs.activity} if evidence.logs else {}
        relaying = {f.account for f in evidence.findings if f.check_id == "AA301"}
        threshold = evidence.logs.thresholds.active_ips_weak if evidence.logs else 2
        for key, checks in sorted(weak.items()):
            act = activity.get(key)
            used_ips = len(act.login_ips) if act is not None else 0
            in_logs = act is not None and (used_ips >= threshold or act.messages > 0)
            # the weakness and the use must come from different sources: a capture alone is
            # already AA102 (accepted), so it confirms use only of a weakness found in the store
            store_weak = any(c.startswith("AA2") for c in checks)
            on_wire = sorted(wire.get(key, ())) if store_weak else []
            if not in_logs and not on_wire:
                continue
            parts = []
            if act is not None and in_logs:
                parts.append(f"{act.logins} logins and {act.messages} messages from "
                             f"{used_ips} IPs in the logs")
            if on_wire:
                parts.append(f"accepted on the wire from {ip_list(on_wire, 3)}")
            ids = ", ".join(dict.fromkeys(sorted(checks)))
            yield self.finding(
                subject=key,
                account=key,
                severity=Severity.CRITICAL if key in relaying else self.severity,
                message=f"weak credential ({ids}) in use: " + "; ".join(parts),
                evidence=(
                    ("weak_checks", ids),
                    ("login_ips", ip_list(act.login_ips) if act is not None else ""),
                    ("wire_clients", ip_list(on_wire)),
                ),
                time=act.first_seen if act is not None else None,
            )
