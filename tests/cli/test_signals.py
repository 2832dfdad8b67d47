"""hub.commands.signals: what ``ray.init`` starts inside ``starting_ray`` never sees
SIGTERM or SIGINT; the hub's own handlers and mask are back afterwards."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hub.commands.signals import STOP_SIGNALS, starting_ray, stop_on_signals

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(),
                                reason="reads signal masks from /proc (Linux)")


def _blocked(pid: int) -> set[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigBlk:"):
            bits = int(line.split()[1], 16)
            return {n for n in range(1, 65) if bits & (1 << (n - 1))}
    raise AssertionError("no SigBlk line")


def _child() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])


def test_children_started_inside_inherit_the_blocked_stop_signals() -> None:
    stop = threading.Event()
    stop_on_signals(stop)
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set())
    with starting_ray():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(15))  # as ray.init does
        inside = _child()
    outside = _child()
    try:
        assert _blocked(inside.pid) >= STOP_SIGNALS
        assert not STOP_SIGNALS & _blocked(outside.pid)
        inside.terminate()  # SIGTERM, blocked: it lives on
        with pytest.raises(subprocess.TimeoutExpired):
            inside.wait(timeout=0.5)
    finally:
        for proc in (inside, outside):
            proc.kill()
            proc.wait()
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == before
    signal.raise_signal(signal.SIGTERM)  # the hub's handler is back, not ray.init's
    assert stop.wait(5)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
