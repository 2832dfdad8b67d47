"""How ``orderhub run`` takes SIGTERM and SIGINT: the hub's process stops, Ray's do not.

A stop signal often reaches every process of the hub at once: a terminal's Ctrl-C goes
to the whole foreground process group, ``kill -- -PGID`` to the group, systemd's default
``KillMode=control-group`` to every process in the unit's cgroup. Ray's local processes
(GCS, raylet and, through the raylet, every actor's worker) used to die of it at once,
and the drain then waited on actors that no longer existed. Ray already starts its
processes with SIGINT blocked for this reason; :func:`starting_ray` blocks SIGTERM
too while the local Ray starts, so the hub alone decides when they stop: after the
drain, ``ray.shutdown()`` stops them (SIGKILL once their blocked SIGTERM has gone
unanswered for a second), and if the hub itself dies they follow it (Ray's kernel
fate-sharing, PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT})


@contextmanager
def starting_ray() -> Iterator[None]:
    """Wrap ``ray.init``: SIGTERM and SIGINT are blocked in this thread while it runs, so
    the processes it starts inherit the mask (across fork and exec) and never see those
    signals; ``ray.init`` replaces the SIGTERM handler with its own (``sys.exit``
    mid-flight), so the handlers from before are put back; then this process gets the
    signals again, any that arrived meanwhile included."""
    handlers = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM and SIGINT set ``stop`` (and nothing else: the caller drains)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, lambda *_: stop.set())
