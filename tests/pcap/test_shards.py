"""Decoding on several processes gives exactly the single-process result."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from authaudit.errors import CaptureError
from authaudit.pcap import shards
from authaudit.pcap.decode import CaptureResult, DecodeOptions, decode_capture, decode_shard
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


def test_without_a_process_pool_the_capture_is_decoded_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_pool(*_args: object, **_kwargs: object) -> None:
        raise OSError(38, "Function not implemented")  # what a missing /dev/shm gives

    monkeypatch.setattr(shards, "ProcessPoolExecutor", no_pool)
    path = str(PUBLIC / FILES[0])
    one = decode_capture(path, DecodeOptions())
    two = decode_capture(path, DecodeOptions(jobs=2, shard_min_bytes=0))
    assert _view(two) == _view(one)


def test_a_killed_worker_s_shard_is_decoded_here(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    def kill_workers_first(*args: Any) -> CaptureResult:
        calls.append(args[3])
        if len(calls) == 1:  # shard 0, here: kill the workers before they can answer
            deadline = time.monotonic() + 30
            while not multiprocessing.active_children() and time.monotonic() < deadline:
                time.sleep(0.01)
            children = multiprocessing.active_children()
            assert children
            for child in children:
                os.kill(child.pid or 0, signal.SIGKILL)
        return decode_shard(*args)

    monkeypatch.setattr(shards, "decode_shard", kill_workers_first)
    path = str(PUBLIC / FILES[0])
    one = decode_capture(path, DecodeOptions())
    two = decode_capture(path, DecodeOptions(jobs=3, shard_min_bytes=0))
    assert _view(two) == _view(one)
    assert calls == [(0, 3), (1, 3), (2, 3)]  # the dead workers' shards were decoded here
