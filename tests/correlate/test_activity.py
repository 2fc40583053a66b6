"""Per-identity tallies from log events: exact counts, windows, resolution of bare logins."""

from __future__ import annotations

import pytest

from authaudit.correlate.activity import ActivityCollector, network_of
from authaudit.correlate.identity import IdentityResolver
from authaudit.model import RelayVia
from tests.correlate.scenario import login, message


def collector(*addresses: str) -> ActivityCollector:
    return ActivityCollector(IdentityResolver(addresses))


def test_bare_login_resolves_to_the_only_mailbox_with_that_local_part() -> None:
    r = IdentityResolver(["test@victim.org", "info@a.example", "info@b.example"])
    assert r.resolve("test") == "test@victim.org"
    assert r.resolve("TEST%Victim.org") == "test@victim.org"
    assert r.resolve("info") == "info"  # two customers have one: never merged by guess
    assert r.resolve("Info@A.example") == "info@a.example"
    assert r.local_domains == {"victim.org", "a.example", "b.example"}


def test_network_of() -> None:
    assert network_of("82.128.32.42") == "82.128.0.0/16"
    assert network_of("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert network_of("not-an-ip") == "not-an-ip"


def test_relay_counts_foreign_recipients_domains_and_statuses() -> None:
    c = collector("test@victim.org")
    c.add(login("test", "82.128.32.42", 0))
    c.add(message("test", "82.128.32.42", 1, ["a@msn.com", "b@msn.com", "c@victim.org"],
                  sender="kbradford@philadefender.org"))
    c.add(message("test", "198.51.100.7", 70, ["d@yahoo.com"], status="deferred",
                  sender="kbradford@philadefender.org"))
    c.add(message("test", "198.51.100.7", 71, ["e@gmail.com"], status="bounced"))
    [a] = c.activity()
    assert a.account == "test@victim.org"
    assert a.logins == 1
    assert a.messages == 3
    assert a.recipients == 5
    assert a.foreign_recipients == 4
    assert a.foreign_domains == 3
    assert a.login_ips == ("82.128.32.42", "198.51.100.7")
    assert a.networks == 2
    assert a.max_ips_per_day == 2
    assert a.max_recipients_per_hour == 2  # 03:00 hour: a@msn, b@msn; 04:00 hour: d, e
    assert a.deferred == 1
    assert a.bounced == 1
    assert a.senders == ("kbradford@philadefender.org",)


def test_failure_window_and_failures_before_success() -> None:
    c = collector("info@shop.example")
    for i in range(7):  # 7 failures within 6 minutes
        c.add(login("info@shop.example", "203.0.113.9", i, ok=False))
    for i in range(3):  # 3 more much later: a new window
        c.add(login("info@shop.example", "203.0.113.9", 100 + 20 * i, ok=False))
    c.add(login("info@shop.example", "203.0.113.9", 200))
    [a] = c.activity()
    assert a.failures == 10
    assert a.max_failures_in_window == 7
    assert a.failures_before_success == 10
    assert a.failure_ips == ("203.0.113.9",)


def test_dovecot_attempt_counts_add_up() -> None:
    c = collector()
    c.add(login("bob@x.example", "192.0.2.1", 0, ok=False, n=3))
    [a] = c.activity()
    assert a.failures == 3
    assert a.max_failures_in_window == 3
    assert c.ips["192.0.2.1"].failures == 3


def test_success_from_the_owners_usual_ip_is_not_after_failures() -> None:
    c = collector("postmaster@victim.org")
    c.add(login("postmaster@victim.org", "198.51.100.20", 0))
    for i in range(8):
        c.add(login("postmaster@victim.org", "203.0.113.5", 10 + i, ok=False))
    c.add(login("postmaster@victim.org", "198.51.100.20", 60))  # the owner, as every day
    assert c.activity()[0].failures_before_success == 0
    c.add(login("postmaster@victim.org", "203.0.113.5", 61))  # the attacker got in
    assert c.activity()[0].failures_before_success == 8


def test_bare_logins_resolve_only_against_the_stores() -> None:
    """Without a store, a bare ``test`` stays bare: which domain it means (vpopmail's default
    domain) is not in the logs, and resolving by what was seen so far would depend on line order."""
    c = collector()
    c.add(login("test@victim.org", "82.128.32.42", 0))
    c.add(message("test", "82.128.32.42", 1, ["a@msn.com"]))
    assert sorted(a.account for a in c.activity()) == ["test", "test@victim.org"]
    with_store = collector("test@victim.org")
    with_store.add(message("test", "82.128.32.42", 1, ["a@msn.com"]))
    [a] = with_store.activity()
    assert (a.account, a.messages, a.relay_ips) == ("test@victim.org", 1, ("82.128.32.42",))


def test_spray_tally_per_ip() -> None:
    c = collector()
    for i, user in enumerate(["a@x.example", "b@x.example", "c@y.example"]):
        c.add(login(user, "192.0.2.66", i, ok=False))
    c.add(login("d@y.example", "192.0.2.66", 5))
    tally = c.ips["192.0.2.66"]
    assert tally.failed_accounts == {"a@x.example", "b@x.example", "c@y.example"}
    assert tally.ok_accounts == {"d@y.example"}
    assert tally.failures == 3
    assert tally.logins == 1


def test_local_injection_tally() -> None:
    c = collector("www@shop.example")
    c.add(message(None, None, 0, ["a@gmail.com", "b@shop.example"], via=RelayVia.LOCAL,
                  uid=33))
    c.add(message(None, None, 1, ["c@gmail.com"], via=RelayVia.QUEUED, uid=7791,
                  sender="x@victim.org"))
    c.add(message(None, None, 2, ["d@gmail.com"], via=RelayVia.QUEUED, uid=7796))  # a bounce
    assert c.local["uid 33"].foreign_recipients == 1
    assert c.local["uid 33"].queued_only is False
    assert c.local["uid 7791"].queued_only is True
    assert "uid 7796" not in c.local  # null-sender bounces are the MTA's own mail
    assert c.activity() == []


def test_failure_only_login_names_beyond_the_cap_are_counted_per_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from authaudit.correlate import activity

    monkeypatch.setattr(activity, "MAX_FAILURE_ONLY_IDENTITIES", 3)
    c = collector()
    for i in range(10):
        c.add(login(f"guess{i}@x.example", "203.0.113.8", i, ok=False))
    c.add(login("real@x.example", "192.0.2.1", 20))  # a success still gets its tally
    assert len(c.identities) == 4
    assert c.untallied_names == 7
    assert c.ips["203.0.113.8"].failures == 10
    assert len(c.ips["203.0.113.8"].failed_accounts) == 10


def test_qmail_outcomes_pair_across_a_part_border() -> None:
    """A session in one part, qmail-send's results in the next: the merge pairs them as one
    sequential read does."""
    session = message("test@victim.org", "82.128.32.42", 0, ["a@msn.com", "b@msn.com",
                      "c@msn.com"], status="accepted", sender="x@victim.org")
    results = [
        message(None, None, 1, ["a@msn.com"], status="bounced", sender="x@victim.org",
                via=RelayVia.QUEUED, uid=7791),
        message(None, None, 2, ["b@msn.com"], status="deferred", sender="x@victim.org",
                via=RelayVia.QUEUED, uid=7791),
    ]
    whole = collector("test@victim.org")
    for event in (session, *results):
        whole.add(event)
    first = collector("test@victim.org")
    first.add(session)
    later = ActivityCollector(IdentityResolver(["test@victim.org"]), later_part=True)
    for event in results:
        later.add(event)
    first.merge(later)
    for read in (whole, first):
        (activity,) = read.activity()
        assert (activity.recipients, activity.deferred, activity.bounced) == (3, 1, 1)
        assert read.queue_join.paired == 2
