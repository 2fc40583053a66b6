"""Decoding options: the default process count, and what decoding a classic pcap imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from authaudit.pcap.options import MAX_DEFAULT_JOBS, default_decode_jobs
from tests.conftest import PUBLIC


def test_default_jobs_are_the_usable_cpus_up_to_the_cap() -> None:
    cpus = len(os.sched_getaffinity(0))
    assert default_decode_jobs() == min(cpus, MAX_DEFAULT_JOBS)


def test_default_jobs_without_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_affinity(_pid: int) -> set[int]:
        raise OSError("not here")

    monkeypatch.setattr(os, "sched_getaffinity", no_affinity)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert default_decode_jobs() == MAX_DEFAULT_JOBS
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_decode_jobs() == 1


@pytest.mark.parametrize(
    ("name", "scapy"),
    [("smtp-auth-login_gurpartap.pcap", False), ("smtp-auth-login_gurpartap.pcapng", True)],
)
def test_scapy_is_imported_only_for_pcapng(name: str, scapy: bool) -> None:
    path = PUBLIC / name
    if not path.is_file():
        pytest.skip(f"{name} not in the public corpus")
    code = (
        "import sys\n"
        "from authaudit.pcap.decode import decode_capture\n"
        f"r = decode_capture({str(path)!r})\n"
        "print(len(r.attempts), 'scapy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, imported = out.stdout.split()
    assert int(count) >= 1
    assert imported == str(scapy)
