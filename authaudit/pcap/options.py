"""The limits of one capture decoding run, apart from the decoder so that the command line and
the library entry point can name them without importing the capture readers (scapy)."""

from __future__ import annotations

from dataclasses import dataclass

from authaudit.cpus import usable_cpus

__all__ = ["MAX_DEFAULT_JOBS", "DecodeOptions", "default_decode_jobs"]

MAX_DEFAULT_JOBS = 4
"""Most processes a large capture is decoded with unless ``--jobs`` says otherwise: every process
reads the whole file, so more than a few add reading more than they take off decoding."""


def default_decode_jobs() -> int:
    """Processes for decoding a large capture: the CPUs this process may use, at most
    :data:`MAX_DEFAULT_JOBS`."""
    return min(usable_cpus(), MAX_DEFAULT_JOBS)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeOptions:
    """Limits of one decoding run; every one bounds memory (see docs/design.md)."""

    max_flows: int = 100_000
    """TCP connections followed at once; the least recently active is dropped beyond it."""
    max_buffered: int = 1 << 20
    """Out-of-order bytes held per connection side before the hole is declared a gap."""
    idle_timeout: float = 600.0
    """Seconds of capture time after which a silent connection is closed."""
    max_line: int = 16_384
    """Longest SMTP line kept whole; longer ones are cut and noted."""
    detect_bytes: int = 8_192
    """Bytes per side examined before a connection that still looks like nothing is dropped."""
    jobs: int = 1
    """Processes sharing the work on a large capture, each following its own share of the
    connections (see ``shards.py``); 1 decodes in this process."""
    shard_min_bytes: int = 32 << 20
    """Captures smaller than this are decoded in one process whatever ``jobs`` says."""
