"""From findings to incidents: one per account, attacking address or local sender, ranked.

Findings are joined on the identity they concern (``Finding.account``, resolved to one name per
mailbox): the store's AA201 ``test``/``test``, the capture's AA102 and the logs' AA301/AA306 for
``test@victim.org`` become one incident with the evidence of all three sources. A group becomes an
incident when it holds a log or correlation finding (AA3xx) or a credential proven on the wire
(AA102, AA103) of at least medium severity, or anything high or critical; the rest stay plain
findings.

Ranking: severity first, then whether an attacker was seen at work (relaying, guessing,
spraying, a credential used on the wire) rather than only a weakness, then how many different
checks agree (storage hygiene such as AA206 does not count), then how much mail was relayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from authaudit.correlate.identity import IdentityResolver, domain_of
from authaudit.model import (
    AccountActivity,
    AccountResult,
    AuthAttempt,
    Finding,
    Incident,
    Outcome,
    Severity,
)
from authaudit.redact import Secret

__all__ = ["build_incidents"]

_PHRASES = {
    "AA101": "credentials sent in clear on the wire",
    "AA102": "credential accepted in clear on the wire",
    "AA103": "challenge-response cracked from the capture",
    "AA201": "password equals the username",
    "AA202": "password is a simple variant of the username",
    "AA203": "empty password",
    "AA204": "password is in a common-password list",
    "AA205": "password stored in clear",
    "AA206": "weak hash scheme",
    "AA207": "low hash cost",
    "AA208": "easily guessed password",
}
_VERBATIM = ("AA301", "AA302", "AA303", "AA304", "AA305", "AA306")
_ATTACK = frozenset({"AA102", "AA103", "AA301", "AA302", "AA303", "AA304", "AA305", "AA306"})
"""Checks that show an attacker at work (as opposed to a weakness that could be used)."""
_HYGIENE = frozenset({"AA205", "AA206", "AA207"})
"""How a password is stored: true, but no sign that anybody used it; not counted as agreeing."""
_MAX_EVIDENCE = 12
_MAX_IPS = 10


@dataclass(slots=True)
class _Group:
    """Findings about one subject, and what the sources add."""

    subject: str
    domain: str | None
    findings: list[Finding] = field(default_factory=list)
    activity: AccountActivity | None = None
    account: AccountResult | None = None
    attempts: list[AuthAttempt] = field(default_factory=list)

    def ids(self) -> list[str]:
        return sorted({f.check_id for f in self.findings})

    def worst(self) -> Severity:
        return max((f.severity for f in self.findings), key=lambda s: s.rank)

    def is_incident(self) -> bool:
        medium = Severity.MEDIUM.rank
        return any(
            f.severity.rank >= Severity.HIGH.rank
            or (f.severity.rank >= medium
                and (f.check_id.startswith("AA3") or f.check_id in ("AA102", "AA103")))
            for f in self.findings
        )


def _kind(ids: Sequence[str]) -> str:
    have = set(ids)
    if have & {"AA301", "AA306"} or {"AA102", "AA307"} <= have:
        return "compromised-account"
    if "AA307" in have:
        return "weak-credential-in-use"
    if "AA304" in have:
        return "password-guessed"
    if "AA303" in have:
        return "password-spray"
    if "AA305" in have:
        return "local-injection"
    if "AA302" in have:
        return "brute-force"
    if have & {"AA101", "AA102", "AA103"}:
        return "credential-exposed"
    return "weak-credential"


def _sources(ids: Sequence[str]) -> tuple[str, ...]:
    out = []
    if any(i.startswith("AA2") or i == "AA306" for i in ids):
        out.append("store")
    if any(i.startswith("AA1") for i in ids):
        out.append("capture")
    if any(i.startswith("AA3") for i in ids):
        out.append("logs")
    return tuple(out)


def _summary(group: _Group) -> str:
    by_id: dict[str, Finding] = {}
    for f in group.findings:
        by_id.setdefault(f.check_id, f)
    if "AA102" in by_id:
        by_id.pop("AA101", None)  # accepted in clear says more than sent in clear
    parts = []
    for check_id in sorted(by_id, key=_story_order):
        if check_id == "AA307" and len(by_id) > 1:
            parts.append("confirmed in use (AA307)")
        elif check_id in _PHRASES:
            parts.append(f"{_PHRASES[check_id]} ({check_id})")
        elif check_id in _VERBATIM or check_id == "AA307":
            parts.append(f"{by_id[check_id].message} ({check_id})")
    return "; ".join(parts) or by_id[min(by_id)].message


_STORY = ("AA203", "AA201", "AA202", "AA204", "AA208", "AA102", "AA103", "AA101", "AA307",
          "AA306", "AA301", "AA304", "AA302", "AA303", "AA305", "AA205", "AA206", "AA207")
"""The order an incident's sentence tells its checks in: the weak password, how it was seen in
use, what the attacker did with it, then how the password is stored."""


def _story_order(check_id: str) -> tuple[int, str]:
    return (_STORY.index(check_id) if check_id in _STORY else len(_STORY), check_id)


def _attempt_line(a: AuthAttempt) -> str:
    reply = f"{a.reply_code or ''} {a.reply_text}".strip()
    return (f"{a.capture}: {a.time.isoformat()} {a.flow} AUTH {a.mechanism} "
            f"user {a.username} -> {reply or a.outcome}")


def _evidence(group: _Group) -> tuple[str, ...]:
    lines: list[str] = []
    result = group.account
    if result is not None:
        acc = result.account
        last = f", last auth {acc.last_auth_ip} at {acc.last_auth_at}" if acc.last_auth_ip else ""
        lines.append(f"{acc.store}: {acc.location}: account {acc.address}{last}")
    lines.extend(_attempt_line(a) for a in group.attempts[:3])
    if group.activity is not None:
        lines.extend(group.activity.evidence)
    for f in group.findings:
        lines.extend(value for label, value in f.evidence if label == "line")
    return tuple(dict.fromkeys(lines))[:_MAX_EVIDENCE]


def _times(group: _Group) -> tuple[datetime | None, datetime | None]:
    times = [t for f in group.findings for t in (f.time, f.last_time) if t is not None]
    times.extend(a.time for a in group.attempts)
    act = group.activity
    if act is not None:
        times.extend(t for t in (act.first_seen, act.last_seen) if t is not None)
    if not times:
        return None, None
    return min(times), max(times)


def _secret(group: _Group) -> Secret | None:
    if group.account is not None and group.account.password is not None:
        return group.account.password
    for a in group.attempts:
        if a.outcome is Outcome.SUCCESS and a.secret is not None:
            return a.secret
    return None


def build_incidents(
    findings: Iterable[Finding],
    resolver: IdentityResolver,
    activity: Iterable[AccountActivity] = (),
    accounts: Iterable[AccountResult] = (),
    attempts: Iterable[AuthAttempt] = (),
) -> tuple[Incident, ...]:
    """The ranked incidents ``findings`` add up to, with the sources' evidence attached."""
    groups: dict[str, _Group] = {}
    for f in findings:
        key = resolver.resolve(f.account) if f.account else f.subject
        group = groups.get(key)
        if group is None:
            domain = domain_of(key) if f.account else None
            group = groups[key] = _Group(subject=key, domain=domain)
        group.findings.append(f)
    for act in activity:
        if act.account in groups:
            groups[act.account].activity = act
    for result in accounts:
        key = resolver.resolve(result.account.address)
        if key in groups:
            groups[key].account = result
    for a in attempts:
        if a.username:
            key = resolver.resolve(a.username)
            if key in groups:
                groups[key].attempts.append(a)
    chosen = [g for g in groups.values() if g.is_incident()]

    def rank_key(g: _Group) -> tuple[int, int, int, int, str]:
        messages = g.activity.messages if g.activity is not None else 0
        ids = g.ids()
        attacked = any(i in _ATTACK for i in ids)
        agreeing = sum(1 for i in ids if i not in _HYGIENE)
        return (-g.worst().rank, -attacked, -agreeing, -messages, g.subject)

    chosen.sort(key=rank_key)
    return tuple(_incident(rank, g) for rank, g in enumerate(chosen, 1))


def _incident(rank: int, g: _Group) -> Incident:
    ids = g.ids()
    first, last = _times(g)
    act = g.activity
    ips = list(act.login_ips) if act is not None else []
    for a in g.attempts:
        if a.flow.client_ip not in ips:
            ips.append(a.flow.client_ip)
    ordered = sorted(g.findings, key=lambda f: -f.severity.rank)
    remediation = tuple(dict.fromkeys(f.remediation for f in ordered if f.remediation))
    return Incident(
        rank=rank,
        severity=g.worst(),
        kind=_kind(ids),
        subject=g.subject,
        domain=g.domain,
        summary=_summary(g),
        check_ids=tuple(ids),
        sources=_sources(ids),
        first_seen=first,
        last_seen=last,
        ips=tuple(ips[:_MAX_IPS]),
        ip_count=len(ips),
        messages=act.messages if act is not None else 0,
        recipients=act.recipients if act is not None else 0,
        foreign_domains=act.foreign_domains if act is not None else 0,
        last_auth_ip=g.account.account.last_auth_ip if g.account is not None else None,
        evidence=_evidence(g),
        remediation=remediation,
        secret=_secret(g),
    )
