"""Decoding on several processes gives exactly the single-process result."""

from __future__ import annotations

from pathlib import Path

import pytest

from authaudit.errors import CaptureError
from authaudit.pcap.decode import CaptureResult, DecodeOptions, decode_capture
from tests.conftest import PUBLIC

FILES = [
    "smtp-auth-login_plus-noauth-session_mixed.pcap",
    "smtp-starttls-then-cleartext_decrypted.pcap",
    "multiproto-ntlm_incl-smtp-auth-ntlm.pcap",
    "smtp-starttls_ipv4-and-ipv6-vlan.pcap",
]


def _view(r: CaptureResult) -> tuple[object, ...]:
    return (
        sorted(
            (a.time, str(a.flow), a.mechanism, a.username, a.secret, a.outcome) for a in r.attempts
        ),
        sorted((t.time, str(t.flow), t.kind, t.sni) for t in r.tls_sessions),
        sorted((s.where, s.reason, s.count) for s in r.skipped),
        dict(r.stats),
    )


@pytest.mark.parametrize("file", FILES)
def test_two_shards_equal_one_process(file: str) -> None:
    one = decode_capture(str(PUBLIC / file), DecodeOptions())
    two = decode_capture(str(PUBLIC / file), DecodeOptions(jobs=2, shard_min_bytes=0))
    assert _view(two) == _view(one)
    assert one.attempts or one.tls_sessions


def test_progress_reaches_the_end_when_sharded() -> None:
    seen: list[tuple[int, int]] = []
    path = PUBLIC / FILES[0]
    decode_capture(
        str(path),
        DecodeOptions(jobs=2, shard_min_bytes=0),
        progress=lambda d, t: seen.append((d, t)),
    )
    size = path.stat().st_size
    assert seen[-1] == (size, size)


def test_unreadable_capture_raises_from_a_worker(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture")
    with pytest.raises(CaptureError, match="not a pcap or pcapng file"):
        decode_capture(str(bad), DecodeOptions(jobs=2, shard_min_bytes=0))
