"""Keep Python's cyclic garbage collector from freezing a timed replay.

The rehearsal's driver process serves every emulator (and the hub's API) from
threads. Its heap grows as the emulators take in the trace, and each full
collection of it held the interpreter lock for 0.2-0.9 s (measured on the 2-core
machine, 200k-430k objects): every emulator stopped answering, a pull that
should take 0.1 s took 1 s, and at a speed-up of 60 that is a minute of business
time added to every order the late pull took in. Reference counting still frees
almost everything at once; the few cycles left (about 14,000 objects over a
two-hour window) are collected when the replay ends.

>>> import gc
>>> with collector_paused():
...     gc.isenabled()
False
>>> gc.isenabled()
True
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Collect once, then keep the cyclic collector off until the block ends (and
    collect again); a collector that was off stays off."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()
