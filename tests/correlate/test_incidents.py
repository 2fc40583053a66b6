"""AA301 to AA307 and the ranked incidents, on hand-made events, accounts and attempts."""

from __future__ import annotations

from authaudit.checks import Evidence, run_checks
from authaudit.correlate.activity import ActivityCollector
from authaudit.correlate.evidence import LogEvidence
from authaudit.correlate.identity import IdentityResolver
from authaudit.correlate.incidents import build_incidents
from authaudit.logs.interface import LogEvent
from authaudit.model import AccountResult, FoundBy, Incident, RelayVia, Severity
from authaudit.redact import Secret
from tests.checks.test_account_checks import account
from tests.correlate.scenario import at, login, message
from tests.factories import make_attempt

ACCOUNTS = (
    AccountResult(account=account(), password=Secret("test"), found_by=FoundBy.USERNAME),
    AccountResult(account=account(address="sales@victim.org", username="sales",
                                  last_auth_ip="198.51.100.77", gecos="Sales")),
)


def abuse_events() -> list[LogEvent]:
    """The target case: admin guessed, then test relays from 26 IPs in 26 /16s."""
    events: list[LogEvent] = [login("admin", "82.128.32.42", 0, ok=False)]
    events += [login("test", "82.128.32.42", 0.5 + i / 10, ok=False) for i in range(4)]
    events.append(login("test", "82.128.32.42", 1))
    for i in range(120):
        ip = "82.128.32.42" if i == 0 else f"{10 + i % 25}.{i % 25}.1.1"
        status = "deferred" if i % 2 else "sent"
        events.append(message("test", ip, 1 + i / 2, [f"a{i}@d{i}.example", f"b{i}@e{i}.test"],
                              sender="kbradford@philadefender.org", status=status))
    # normal use: sales from one IP
    events += [login("sales@victim.org", "198.51.100.77", 30 + i) for i in range(3)]
    events += [message("sales@victim.org", "198.51.100.77", 31, ["x@partner.example"],
                       sender="sales@victim.org")]
    # a spray from one address over 6 accounts
    events += [login(f"u{i}@victim.org", "203.0.113.9", 40 + i, ok=False) for i in range(6)]
    # a web script (uid 33) and qmaild's queue (uid 7791, the busiest queued-only uid)
    events += [message(None, None, 50 + i, [f"r{i}@gmail.com"], via=RelayVia.LOCAL, uid=33)
               for i in range(25)]
    events += [message(None, None, 50 + i, [f"q{i}@gmail.com"], via=RelayVia.QUEUED, uid=7791)
               for i in range(40)]
    return events


def run(
    events: list[LogEvent], *, wire: bool = True
) -> tuple[tuple[Incident, ...], list[tuple[str, str, str]]]:
    resolver = IdentityResolver(r.account.address for r in ACCOUNTS)
    collector = ActivityCollector(resolver)
    for event in events:
        collector.add(event)
    logs = LogEvidence(activity=tuple(collector.activity()), ips=collector.ips,
                       local=collector.local, resolver=resolver)
    attempts = (make_attempt(),) if wire else ()
    findings = run_checks(Evidence(attempts=attempts, accounts=ACCOUNTS, logs=logs))
    incidents = build_incidents(findings, resolver, logs.activity, ACCOUNTS, attempts)
    return incidents, [(f.check_id, str(f.severity), f.subject) for f in findings]


def test_target_case_is_one_critical_incident_first() -> None:
    incidents, _ = run(abuse_events())
    first = incidents[0]
    assert first.rank == 1
    assert first.subject == "test@victim.org"
    assert first.kind == "compromised-account"
    assert first.severity is Severity.CRITICAL
    assert first.check_ids == ("AA101", "AA102", "AA201", "AA206", "AA301", "AA306", "AA307")
    assert first.sources == ("store", "capture", "logs")
    assert first.messages == 120
    assert first.recipients == 240
    assert first.foreign_domains == 240
    assert first.ip_count == 26  # 82.128.32.42 and 25 others
    assert first.last_auth_ip == "82.128.32.42"
    assert first.domain == "victim.org"
    assert first.secret == Secret("test")
    assert "password equals the username (AA201)" in first.summary
    assert "credential accepted in clear on the wire (AA102)" in first.summary
    assert "relayed 120 messages to 240 recipients in 240 foreign domains from 26 IPs (AA301)" \
        in first.summary
    assert first.evidence[0].startswith("vpopmail: /home/vpopmail/domains/victim.org/vpasswd:3")
    assert any("AUTH LOGIN user test -> 235" in line for line in first.evidence)
    assert any("CHKUSER relaying rcpt" in line for line in first.evidence)
    assert any("change the password" in r.lower() for r in first.remediation)


def test_each_log_check_fires_once_with_its_severity() -> None:
    _, findings = run(abuse_events())
    logs = [f for f in findings if f[0].startswith("AA3")]
    assert logs == [
        ("AA301", "critical", "test@victim.org"),
        ("AA303", "medium", "203.0.113.9"),
        ("AA305", "medium", "uid 33"),
        ("AA306", "critical", "test@victim.org"),
        ("AA307", "critical", "test@victim.org"),
    ]


def test_incident_order_and_kinds() -> None:
    incidents, _ = run(abuse_events())
    assert [(i.rank, i.subject, i.kind, str(i.severity)) for i in incidents] == [
        (1, "test@victim.org", "compromised-account", "critical"),
        (2, "203.0.113.9", "password-spray", "medium"),
        (3, "uid 33", "local-injection", "medium"),
    ]


def test_brute_force_then_success_gives_aa302_and_aa304() -> None:
    events: list[LogEvent] = [
        login("info@shop.example", "192.0.2.200", i / 2, ok=False) for i in range(22)
    ]
    events.append(login("info@shop.example", "192.0.2.200", 12))
    _, findings = run(events, wire=False)
    assert [f for f in findings if f[0].startswith("AA3")] == [
        ("AA302", "high", "info@shop.example"),
        ("AA304", "high", "info@shop.example"),
    ]


def test_steady_automation_raises_nothing() -> None:
    """One IP sending an hourly report for three days (the Lightmeter sample's pattern)."""
    events: list[LogEvent] = []
    for h in range(72):
        events.append(login("robot@victim.org", "192.0.2.10", h * 60))
        events.append(message("robot@victim.org", "192.0.2.10", h * 60 + 1,
                              ["ops@partner.example"], sender="robot@victim.org"))
    _, findings = run(events, wire=False)
    assert [f for f in findings if f[0].startswith("AA3")] == []


def test_slow_brute_force_is_caught_by_its_daily_total() -> None:
    """24 failures three an hour (under fail2ban's 5 in 10 minutes) from 3 addresses."""
    events: list[LogEvent] = [
        login("sales@victim.org", f"192.0.2.{i % 3}", i * 20, ok=False) for i in range(24)
    ]
    _, findings = run(events, wire=False)
    assert [f for f in findings if f[0].startswith("AA3")] == [
        ("AA302", "medium", "sales@victim.org"),
    ]


def test_webmail_address_with_mistyping_users_is_not_a_spray() -> None:
    events: list[LogEvent] = []
    for i in range(6):
        events.append(login(f"user{i}@victim.org", "127.0.0.1", i, ok=False))
        events.append(login(f"user{i}@victim.org", "127.0.0.1", i + 0.5))
    _, findings = run(events, wire=False)
    assert [f for f in findings if f[0] == "AA303"] == []


def test_spray_that_got_in_is_high() -> None:
    events: list[LogEvent] = [login(f"u{i}@victim.org", "203.0.113.9", i, ok=False)
                              for i in range(6)]
    events.append(login("u0@victim.org", "203.0.113.9", 10))
    _, findings = run(events, wire=False)
    assert [f for f in findings if f[0] == "AA303"] == [("AA303", "high", "203.0.113.9")]


def test_failures_that_name_no_user_still_flag_the_address() -> None:
    events: list[LogEvent] = [login(None, "203.0.113.42", i / 10, ok=False) for i in range(25)]
    _, findings = run(events, wire=False)
    assert [f for f in findings if f[0] == "AA303"] == [("AA303", "medium", "203.0.113.42")]


def test_brute_force_is_not_hidden_by_someone_elses_login_in_logs_mode() -> None:
    resolver = IdentityResolver()
    collector = ActivityCollector(resolver)
    collector.add(login("alice@victim.org", "192.0.2.1", 0))
    for i in range(30):
        collector.add(login("bob@victim.org", "203.0.113.5", 1 + i / 10, ok=False))
    logs = LogEvidence(activity=tuple(collector.activity()), ips=collector.ips, resolver=resolver)
    found = [(f.check_id, f.subject) for f in run_checks(Evidence(logs=logs))]
    assert ("AA302", "bob@victim.org") in found


def test_mapped_ipv4_last_auth_address_still_matches() -> None:
    mapped = AccountResult(account=account(last_auth_ip="::ffff:82.128.32.42"),
                           password=Secret("test"), found_by=FoundBy.USERNAME)
    resolver = IdentityResolver([mapped.account.address])
    collector = ActivityCollector(resolver)
    for event in abuse_events():
        collector.add(event)
    logs = LogEvidence(activity=tuple(collector.activity()), ips=collector.ips,
                       local=collector.local, resolver=resolver)
    found = run_checks(Evidence(accounts=(mapped,), logs=logs))
    assert "AA306" in {f.check_id for f in found}


def test_incident_spans_come_from_the_findings_first_and_last_times() -> None:
    """An address's spray and a uid's injection span their whole activity, not one moment."""
    incidents, _ = run(abuse_events())
    by_subject = {i.subject: i for i in incidents}
    spray = by_subject["203.0.113.9"]
    assert (spray.first_seen, spray.last_seen) == (at(40), at(45))
    script = by_subject["uid 33"]
    assert (script.first_seen, script.last_seen) == (at(50), at(74))
