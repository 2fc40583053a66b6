"""A pause of Python's cyclic garbage collector around a hot loop.

The per-packet and per-line loops allocate millions of short-lived objects and build no reference
cycles; the collector's passes over the long-lived state they grow (flows, tallies) cost 5-10 % of
a run and free nothing. Reference counting still frees everything as usual; the collector runs
again, and catches up, when the loop ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (it stays as it was if already off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
