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
from concurrent.futures.process import BrokenProcessPool

from authaudit.pcap.decode import CaptureResult, DecodeOptions, decode_shard

__all__ = ["decode_sharded"]


def _worker(path: str, options: DecodeOptions, index: int, count: int) -> CaptureResult:
    return decode_shard(path, options, None, (index, count))


def decode_sharded(
    path: str, options: DecodeOptions, *, progress: Callable[[int, int], None] | None = None
) -> CaptureResult:
    """The same result as :func:`~authaudit.pcap.decode.decode_capture`, using ``options.jobs``
    processes (this one and ``jobs - 1`` workers). Where no worker can be started (no
    ``/dev/shm``, a process limit) the whole capture is decoded here; a shard whose worker died
    (killed, out of memory) is decoded here afterwards."""
    count = options.jobs
    ctx = multiprocessing.get_context("spawn")
    try:
        pool = ProcessPoolExecutor(count - 1, mp_context=ctx)
    except (OSError, NotImplementedError):
        return decode_shard(path, options, progress)
    with pool:
        try:
            futures: list[Future[CaptureResult]] = [
                pool.submit(_worker, path, options, i, count) for i in range(1, count)
            ]
        except (OSError, BrokenProcessPool):
            pool.shutdown(wait=False, cancel_futures=True)
            return decode_shard(path, options, progress)
        merged = decode_shard(path, options, progress, (0, count))
        results = [
            _result(future, path, options, (index, count))
            for index, future in enumerate(futures, 1)
        ]
    for extra in results:
        merged.attempts.extend(extra.attempts)
        merged.tls_sessions.extend(extra.tls_sessions)
        merged.skipped.extend(extra.skipped)
        merged.stats.update(extra.stats)
    merged.attempts.sort(key=lambda a: (a.time, a.flow.client_port))
    merged.tls_sessions.sort(key=lambda t: (t.time, t.flow.client_port))
    return merged


def _result(
    future: Future[CaptureResult], path: str, options: DecodeOptions, shard: tuple[int, int]
) -> CaptureResult:
    """A worker's result; re-raises its CaptureError; decodes its shard here if it died."""
    try:
        return future.result()
    except BrokenProcessPool:
        return decode_shard(path, options, None, shard)
