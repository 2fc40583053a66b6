"""usable_cpus: the affinity mask, else cpu_count, never less than 1."""

from __future__ import annotations

import os

import pytest

from authaudit.cpus import usable_cpus


def test_the_affinity_mask() -> None:
    assert usable_cpus() == len(os.sched_getaffinity(0))


def test_without_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_affinity(_pid: int) -> set[int]:
        raise OSError("not here")

    monkeypatch.setattr(os, "sched_getaffinity", no_affinity)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert usable_cpus() == 64
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cpus() == 1
