"""Every row of the public corpus ground truth (pcaps/public/expected.tsv) is reproduced exactly."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from authaudit.pcap.decode import CaptureResult, DecodeOptions, decode_capture
from tests.conftest import PUBLIC

_TLS_MECHS = {"STARTTLS", "IMPLICIT-TLS"}


@dataclass(frozen=True)
class Row:
    """One expected AUTH attempt or TLS event."""

    file: str
    client: str
    server: str
    sport: int
    dport: int
    mechanism: str
    username: str
    secret: str
    outcome: str
    reply: str


def _expand(name: str) -> list[str]:
    m = re.search(r"\{([^}]*)\}", name)
    if not m:
        return [name]
    return [name[: m.start()] + alt + name[m.end() :] for alt in m.group(1).split(",")]


def _pick_ip(field: str, file: str) -> str:
    m = re.fullmatch(r"(\S+) \(ipv6: (\S+)\)", field)
    if not m:
        return field
    return m.group(2) if ".ipv6." in file else m.group(1)


def load_expected() -> list[Row]:
    """The ground-truth rows plus the errata, with brace-expanded names for the derived variants."""
    rows = _load("expected.tsv") + _load("expected-errata.tsv")
    return rows


def _load(name: str) -> list[Row]:
    lines = (PUBLIC / name).read_text(encoding="utf-8").splitlines()
    rows: list[Row] = []
    header_seen = False
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        if not header_seen:
            header_seen = True
            continue
        cols = line.split("\t")
        rows.extend(
            Row(
                file=file,
                client=_pick_ip(cols[1], file),
                server=_pick_ip(cols[2], file),
                sport=int(cols[3]) if cols[3] else 0,
                dport=int(cols[4]) if cols[4] else 0,
                mechanism=cols[5],
                username=cols[6],
                secret=cols[7],
                outcome=cols[8],
                reply=cols[9],
            )
            for file in _expand(cols[0])
        )
    return rows


EXPECTED = load_expected()
FILES = sorted({r.file for r in EXPECTED})


def _decode(file: str) -> CaptureResult:
    return decode_capture(str(PUBLIC / file), DecodeOptions())


def test_every_capture_file_has_expectations() -> None:
    on_disk = {str(p.relative_to(PUBLIC)) for p in PUBLIC.rglob("*.pcap*")}
    assert len(on_disk) == 30
    assert on_disk == set(FILES)


@pytest.mark.parametrize("file", FILES)
def test_auth_attempts_match_ground_truth(file: str) -> None:
    result = _decode(file)
    want = [r for r in EXPECTED if r.file == file and r.mechanism and r.mechanism not in _TLS_MECHS]
    got = result.attempts
    assert len(got) == len(want), [(a.mechanism, a.username) for a in got]
    for row, a in zip(want, got, strict=True):
        assert (a.flow.client_ip, a.flow.client_port) == (row.client, row.sport)
        assert (a.flow.server_ip, a.flow.server_port) == (row.server, row.dport)
        assert a.mechanism == row.mechanism
        assert (a.username or "") == row.username
        assert (a.secret.value if a.secret else "") == row.secret
        assert str(a.outcome) == row.outcome
        if row.outcome == "unknown":
            assert a.reply_code is None
        else:
            code, _, text = row.reply.partition(" ")
            assert a.reply_code == int(code)
            pattern = ".*".join(re.escape(part) for part in text.split("..."))
            assert re.fullmatch(pattern, a.reply_text), a.reply_text


@pytest.mark.parametrize("file", FILES)
def test_tls_sessions_match_ground_truth(file: str) -> None:
    result = _decode(file)
    want = sorted(
        (r for r in EXPECTED if r.file == file and r.mechanism in _TLS_MECHS), key=lambda r: r.sport
    )
    got = sorted(result.tls_sessions, key=lambda t: t.flow.client_port)
    assert len(got) == len(want)
    for row, t in zip(want, got, strict=True):
        assert (t.flow.client_ip, t.flow.client_port) == (row.client, row.sport)
        assert (t.flow.server_ip, t.flow.server_port) == (row.server, row.dport)
        assert str(t.kind) == {"STARTTLS": "starttls", "IMPLICIT-TLS": "implicit"}[row.mechanism]
        if row.reply:
            code, _, text = row.reply.partition(" ")
            assert t.reply_code == int(code)
            assert t.reply_text == text


def test_ipv6_vlan_session_carries_sni() -> None:
    result = _decode("smtp-starttls_ipv4-and-ipv6-vlan.pcap")
    assert [t.sni for t in result.tls_sessions] == [None, "dovecot.weberlab.de"]
    assert [t.flow.server_port for t in result.tls_sessions] == [25, 25]


def test_decrypted_capture_is_marked_cleartext_after() -> None:
    result = _decode("smtp-starttls-then-cleartext_decrypted.pcap")
    assert [t.cleartext_after for t in result.tls_sessions] == [True, True, True, True]


def test_authzid_only_plain_is_flagged() -> None:
    (a,) = _decode("smtp-auth-plain_authzid-only.pcap").attempts
    assert a.authzid == "username"
    assert "empty-authcid" in a.flags


def test_corpus_is_read_without_damage() -> None:
    for file in FILES:
        result = _decode(file)
        assert not [s for s in result.skipped if "truncated" in s.reason], file
