"""What the hub benchmark measures besides counts: CPU per process (psutil), where the
actors spend their time (Ray's task timeline), and creation-to-decision latency read
back from the ledger's events."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import psutil

from benchmarks.hub_feed import parse_id

DECIDED = ("routed", "held", "auto_remedied")
UNDECIDED = ("received", "validated", "scored")


# -- CPU ------------------------------------------------------------------------------------
def _group(proc: psutil.Process, emulators: int | None) -> str:
    if proc.pid == os.getpid():
        return "driver (hub API)"
    if proc.pid == emulators:
        return "emulators"
    try:
        title = proc.cmdline()
    except psutil.Error:
        return "exited"
    head = title[0] if title else ""
    if "py-spy" in head:
        return "py-spy"
    if head.startswith("ray::"):
        name = head[5:].split(".")[0].strip() or "worker"
        return "ray worker (idle)" if name == "IDLE" else name
    return "ray system"


class CpuSampler:
    """CPU seconds of this process and everything it started (Ray's processes, the
    emulator child), grouped by actor class; ``delta()`` since the last call."""

    def __init__(self, emulators_pid: int | None = None) -> None:
        self.emulators_pid = emulators_pid
        self._last: dict[int, tuple[str, float]] = {}
        self._at = time.monotonic()
        self.delta()

    def _now(self) -> dict[int, tuple[str, float]]:
        me = psutil.Process()
        out: dict[int, tuple[str, float]] = {}
        for proc in [me, *me.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                out[proc.pid] = (_group(proc, self.emulators_pid), t.user + t.system)
            except psutil.Error:
                continue
        return out

    def pids(self, *groups: str) -> dict[str, int]:
        """One process id per wanted group (as last seen)."""
        found: dict[str, int] = {}
        for pid, (group, _) in self._last.items():
            for wanted in groups:
                if group.endswith(wanted):
                    found.setdefault(group, pid)
        return found

    def delta(self) -> dict[str, float]:
        """Per group: CPU used since the last call, as a percentage of one core."""
        now, at = self._now(), time.monotonic()
        wall = max(at - self._at, 1e-6)
        used: dict[str, float] = defaultdict(float)
        for pid, (group, cpu) in now.items():
            before = self._last.get(pid, (group, 0.0))[1]
            used[group] += max(cpu - before, 0.0)
        self._last, self._at = now, at
        return {g: round(100 * s / wall, 1) for g, s in sorted(used.items(), key=lambda x: -x[1])}


# -- where the actors' time goes -----------------------------------------------------------
def actor_time(since: float, until: float) -> dict[str, dict[str, float]]:
    """Per ``Actor.method`` run in ``[since, until)`` (wall seconds): calls, mean ms and the
    share of the window spent in it (``busy``; for a synchronous actor, its utilisation;
    an async method's time includes its awaits). From Ray's task timeline."""
    import ray

    try:
        events = ray.timeline()
    except Exception as exc:  # the timeline is a diagnostic; the benchmark goes on
        return {"error": {"message": str(exc)}}  # type: ignore[dict-item]
    window_us = (since * 1e6, until * 1e6)
    calls: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e.get("ph") != "X" or not str(e.get("cat", "")).startswith("task::"):
            continue
        start, dur = float(e["ts"]), float(e.get("dur", 0.0))
        lo, hi = max(start, window_us[0]), min(start + dur, window_us[1])
        if hi > lo:
            calls[e["cat"][6:]].append(hi - lo)
    span = max(until - since, 1e-6)
    out = {name: {"calls": len(d), "mean_ms": round(sum(d) / len(d) / 1e3, 2),
                  "busy": round(sum(d) / 1e6 / span, 3)} for name, d in calls.items()}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["busy"]))


# -- counts and latency from the ledger ----------------------------------------------------
def ledger_counts(ledger: Any) -> dict[str, int]:
    """Orders in the ledger: total, undecided (received, not yet decided), decided."""
    stages = ledger.counts()["stages"]
    total = sum(stages.values())
    undecided = sum(stages.get(s, 0) for s in UNDECIDED)
    return {"total": total, "undecided": undecided, "decided": total - undecided}


def step_latencies(ledger: Any, created: Any, page: int = 50_000) -> dict[int, dict[str, Any]]:
    """Per step: orders received, orders decided, and creation-to-decision latency (s) of
    each order's first decision. ``created(step, index)`` is when the order was made."""
    received: set[tuple[int, int]] = set()
    first: dict[tuple[int, int], float] = {}
    after = 0
    while True:
        events = ledger.events_since(after_id=after, limit=page)
        for e in events:
            where = parse_id(e.key[2])
            if where is None:
                continue
            if e.stage == "received":
                received.add(where)
            elif e.stage in DECIDED and where not in first:
                first[where] = e.at.timestamp() - created(*where)
        if len(events) < page:
            break
        after = events[-1].id
    lats: dict[int, list[float]] = defaultdict(list)
    for (step, _), lat in first.items():
        lats[step].append(lat)
    got: dict[int, int] = defaultdict(int)
    for step, _ in received:
        got[step] += 1
    return {step: {"received": got.get(step, 0), "decided": len(lats.get(step, ())),
                   **latency_stats(lats.get(step, ()))} for step in sorted({*got, *lats})}


def latency_stats(values: Iterable[float]) -> dict[str, float | None]:
    arr = np.fromiter(values, dtype=float)
    if arr.size == 0:
        return {"p50_s": None, "p99_s": None, "max_s": None}
    p50, p99 = np.percentile(arr, [50, 99])
    return {"p50_s": round(float(p50), 3), "p99_s": round(float(p99), 3),
            "max_s": round(float(arr.max()), 3)}


def slope_per_s(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) samples; 0 for fewer than three."""
    if len(samples) < 3:
        return 0.0
    t, v = np.array(samples, dtype=float).T
    return float(np.polyfit(t - t[0], v, 1)[0])


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def at_epoch(moment: datetime) -> float:
    return moment.timestamp()


# -- sampled stacks (optional: only when py-spy is installed) -------------------------------
SERIALIZING = ("ray/_private/serialization.py", "cloudpickle", "__setstate__")


class StackSampler:
    """``py-spy record`` on a few hub processes for part of a step; ``summary()`` gives,
    per process, the share of samples spent (de)serialising Ray arguments and the
    functions seen most often at the top of the stack and in the hub's own code."""

    def __init__(self, exe: str | None) -> None:
        import shutil

        self.exe = exe if exe and os.path.exists(exe) else shutil.which(exe or "py-spy")
        self._runs: dict[str, tuple[Any, str]] = {}

    def start(self, pids: dict[str, int], seconds: float) -> None:
        import subprocess

        if not self.exe:
            return
        for name, pid in pids.items():
            out = f"{tempfile_dir()}/spy-{pid}-{time.time_ns()}.txt"
            proc = subprocess.Popen(
                [self.exe, "record", "-p", str(pid), "-d", str(max(int(seconds), 1)),
                 "-r", "50", "--nonblocking", "-f", "raw", "-o", out],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self._runs[name] = (proc, out)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (proc, path) in self._runs.items():
            try:
                proc.wait(timeout=60)
                out[name] = _stacks(path)
            except Exception as exc:  # a diagnostic only
                proc.kill()
                out[name] = {"error": str(exc)}
            finally:
                if os.path.exists(path):
                    os.remove(path)
        self._runs = {}
        return out


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def _stacks(path: str, top: int = 6) -> dict[str, Any]:
    total = serial = 0
    self_time: dict[str, int] = defaultdict(int)
    hub_code: dict[str, int] = defaultdict(int)
    with open(path, encoding="utf-8") as f:
        for line in f:
            stack, _, count = line.rstrip().rpartition(" ")
            n, frames = int(count), stack.split(";")
            total += n
            serial += n * any(m in stack for m in SERIALIZING)
            self_time[frames[-1]] += n
            for frame in dict.fromkeys(fr for fr in frames if "(hub/" in fr):
                hub_code[frame] += n

    def share(counts: dict[str, int]) -> dict[str, float]:
        best = sorted(counts.items(), key=lambda kv: -kv[1])[:top]
        return {k: round(v / total, 3) for k, v in best}

    if not total:
        return {"samples": 0}
    return {"samples": total, "serializing": round(serial / total, 3),
            "top_of_stack": share(self_time), "hub_functions": share(hub_code)}


def window_cost(orders: list[Any], window_s: float = 1800.0, cap: int = 200_000,
                rates: tuple[int, ...] = (100, 1000, 10_000)) -> dict[str, Any]:
    """What shipping the recent-orders window with a batch costs: Ray's pickling of
    ``orders`` and back, per order, and the projection for a window full at ``rates``
    (``window_s`` of orders, at most ``cap``, as the router's recent index keeps)."""
    import ray.cloudpickle as pickle

    began = time.perf_counter()
    blob = pickle.dumps(orders)
    dumped = time.perf_counter()
    pickle.loads(blob)
    loaded = time.perf_counter()
    per = {"pickle_us": 1e6 * (dumped - began) / len(orders),
           "unpickle_us": 1e6 * (loaded - dumped) / len(orders)}
    each = (per["pickle_us"] + per["unpickle_us"]) / 1e6
    return {"orders": len(orders), "bytes_per_order": round(len(blob) / len(orders)),
            **{k: round(v, 1) for k, v in per.items()}, "load_average": load_average(),
            "seconds_per_batch_when_full": {
                str(rate): round(min(rate * window_s, cap) * each, 2) for rate in rates}}
