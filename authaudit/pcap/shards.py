"""Decoding one large capture on several cores: every process follows a share of the connections.

Each process reads the whole file (reading is the cheap part) and keeps only the segments of
connections whose ``(source port XOR destination port) % workers`` is its own index, leaving the
others out before their segments are built; the XOR is symmetric, so both directions of a
connection land in the same process. This process decodes shard 0 itself (and alone counts
packets and reports packet-level damage) while worker processes decode the others; the results
are merged and put back in time order. Workers are started with ``spawn``: the caller may run
threads (a progress bar), and forking a threaded process can deadlock.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor

from authaudit.gcpause import gc_paused
from authaudit.pcap.decode import CaptureResult, DecodeOptions, decode_shard

__all__ = ["decode_sharded"]


def _worker(path: str, options: DecodeOptions, index: int, count: int) -> CaptureResult:
    with gc_paused():
        return decode_shard(path, options, None, (index, count))


def decode_sharded(
    path: str, options: DecodeOptions, *, progress: Callable[[int, int], None] | None = None
) -> CaptureResult:
    """The same result as :func:`~authaudit.pcap.decode.decode_capture`, using ``options.jobs``
    processes (this one and ``jobs - 1`` workers)."""
    count = options.jobs
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count - 1, mp_context=ctx) as pool:
        futures: list[Future[CaptureResult]] = [
            pool.submit(_worker, path, options, i, count) for i in range(1, count)
        ]
        with gc_paused():
            merged = decode_shard(path, options, progress, (0, count))
        results = [f.result() for f in futures]  # re-raises a worker's CaptureError
    for extra in results:
        merged.attempts.extend(extra.attempts)
        merged.tls_sessions.extend(extra.tls_sessions)
        merged.skipped.extend(extra.skipped)
        merged.stats.update(extra.stats)
    merged.attempts.sort(key=lambda a: (a.time, a.flow.client_port))
    merged.tls_sessions.sort(key=lambda t: (t.time, t.flow.client_port))
    return merged
