"""Decoding one large capture on several cores: every process follows a share of the connections.

Each worker reads the whole file (reading and header parsing are the cheap part) and keeps only
the segments of connections whose ``(source port XOR destination port) % workers`` is its own
index; the XOR is symmetric, so both directions of a connection land in the same worker. The
results are merged and put back in time order. Worker 0 alone counts packets and reports
packet-level damage. Workers are started with ``spawn``: the caller may run threads (a progress
bar), and forking a threaded process can deadlock.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing.sharedctypes import Synchronized

from authaudit.pcap.decode import CaptureResult, DecodeOptions, decode_shard

__all__ = ["decode_sharded"]

_POLL = 0.25
_done: Synchronized[int] | None = None


def _init(done: Synchronized[int]) -> None:
    global _done  # the progress counter shared with the parent, per worker process
    _done = done


def _worker(path: str, options: DecodeOptions, index: int, count: int) -> CaptureResult:
    import gc

    gc.disable()  # see decode_capture
    hook = None
    if index == 0 and _done is not None:
        counter = _done

        def hook(done: int, _total: int) -> None:
            counter.value = done

    return decode_shard(path, options, hook, (index, count))


def decode_sharded(
    path: str, options: DecodeOptions, *, progress: Callable[[int, int], None] | None = None
) -> CaptureResult:
    """The same result as :func:`~authaudit.pcap.decode.decode_capture`, using ``options.jobs``
    processes."""
    count = options.jobs
    total = os.path.getsize(path)
    ctx = multiprocessing.get_context("spawn")
    done = ctx.Value("q", 0)
    with ProcessPoolExecutor(count, mp_context=ctx, initializer=_init, initargs=(done,)) as pool:
        futures: list[Future[CaptureResult]] = [
            pool.submit(_worker, path, options, i, count) for i in range(count)
        ]
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=_POLL, return_when=FIRST_COMPLETED)
            if progress is not None:
                progress(min(int(done.value), total), total)
        results = [f.result() for f in futures]  # re-raises a worker's CaptureError
    merged = results[0]
    for extra in results[1:]:
        merged.attempts.extend(extra.attempts)
        merged.tls_sessions.extend(extra.tls_sessions)
        merged.skipped.extend(extra.skipped)
        merged.stats.update(extra.stats)
    merged.attempts.sort(key=lambda a: (a.time, a.flow.client_port))
    merged.tls_sessions.sort(key=lambda t: (t.time, t.flow.client_port))
    if progress is not None:
        progress(total, total)
    return merged
