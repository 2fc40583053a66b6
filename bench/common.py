"""Small pieces every benchmark script shares: output, a warm page cache, table cells."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["fmt", "note", "out", "verdict", "warm_cache"]


def out(text: str = "") -> None:
    """A line of the report (standard output)."""
    sys.stdout.write(text + "\n")


def note(text: str) -> None:
    """A progress line (standard error, flushed at once)."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def warm_cache(path: Path) -> None:
    """Read the file once so that every tool starts with it in the page cache."""
    with path.open("rb", buffering=0) as fh:
        while fh.read(8 << 20):
            pass


def fmt(value: float | None, spec: str) -> str:
    """``value`` formatted with ``spec``, or ``-`` when it was not measured."""
    return "-" if value is None else format(value, spec)


def verdict(ok: bool | None, unknown: str = "-") -> str:
    """PASS or MISS against a target, or ``unknown`` when it could not be judged."""
    return unknown if ok is None else "PASS" if ok else "MISS"
