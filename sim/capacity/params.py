"""The model's inputs that are not the scenario: the two ways of working as parameter
sets (``sets/old_flow.toml``, ``sets/hub.toml``: data, one model), the unit costs
(``sets/costs.toml``), the warehouse's service times (the WMS emulator's defaults), and
the hub's measured processing time and capacity read from the project's benchmark
results (``benchmarks/results/*.json``).

Hub figures: ``hub.json`` (the pull mode's steps: per-order hub CPU at its highest
sustained rate, the emulators' share left out; latency p50 at its lowest rate) and its
``max_sustained_orders_per_s`` on the machine's cores. When ``cluster.json`` is there
(``python -m benchmarks.cluster``: the hub with a PostgreSQL ledger on one Ray node and
on two), its per-order CPU on the most nodes it ran, every part included (Ray's own
processes and the PostgreSQL backends too), sizes the Ray nodes a day needs.
"""

from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SETS = Path(__file__).with_name("sets")
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
# pick + pack (a worker's time) and the wait for the carrier, business seconds, per lane
SERVICE = {"P0": (150.0, 600.0), "P1": (210.0, 900.0), "P2": (300.0, 900.0),
           "P3": (360.0, 1800.0)}
SERVICE_DEFAULT = (300.0, 900.0)  # a warehouse without lanes


class CapacityError(ValueError):
    """Unusable capacity-model input (a sweep, a cost, a parameter set); says which."""


def load_set(name: str) -> dict[str, Any]:
    """A parameter set by name (``old_flow``, ``hub``) or path to a TOML file."""
    path = Path(name) if name.endswith(".toml") else SETS / f"{name}.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = sorted(p.stem for p in SETS.glob("*.toml") if p.stem != "costs")
        raise CapacityError(f"{path}: no such parameter set (known: {known})") from None


def costs(overrides: dict[str, float] | None = None) -> dict[str, float]:
    base = tomllib.loads((SETS / "costs.toml").read_text(encoding="utf-8"))
    for key, value in (overrides or {}).items():
        if key not in base:
            raise CapacityError(f"--cost {key}: unknown; use one of {sorted(base)}")
        base[key] = float(value)
    return base


def with_values(params: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A copy with dotted keys set: ``{"checks.clerks": 8}``."""
    out = copy.deepcopy(params)
    for dotted, value in values.items():
        *path, last = dotted.split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return out


@dataclass(frozen=True)
class HubPerf:
    """The hub as measured: latency at light load, per-order CPU, sustained rate."""

    latency_s: float  # page pulled -> decided and dispatched, at light load (wall)
    cpu_s_per_order: float  # the hub's processes, emulators left out
    sustained_per_s: float  # measured on ``cores``
    cores: int
    source: str
    cluster_cpu_s_per_order: float | None = None  # all parts, on a multi-node cluster
    cluster_source: str | None = None

    def capacity(self, cores: float) -> float:
        """Orders a second the hub sustains on ``cores`` (the measured rate, scaled)."""
        return self.sustained_per_s * cores / self.cores

    def cores_needed(self, peak_per_s: float, utilisation: float = 0.7) -> int:
        """Cores to decide ``peak_per_s`` at ``utilisation``: a core does the lesser of
        what the per-order CPU allows and its share of the measured sustained rate."""
        per_core = min(1.0 / self.cpu_s_per_order, self.sustained_per_s / self.cores) * \
            utilisation
        return max(1, int(-(-peak_per_s // per_core)))

    def nodes_needed(self, peak_per_s: float, cores_per_node: int = 8,
                     utilisation: float = 0.7) -> int | None:
        """Ray nodes of ``cores_per_node`` to decide ``peak_per_s`` at ``utilisation``,
        from the cluster benchmark's per-order CPU (None without one)."""
        if not self.cluster_cpu_s_per_order:
            return None
        cores = peak_per_s * self.cluster_cpu_s_per_order / utilisation
        return max(1, int(-(-cores // cores_per_node)))


def hub_perf(results: Path = RESULTS) -> HubPerf:
    """The hub's figures from the benchmark results (module docstring)."""
    hub = json.loads((results / "hub.json").read_text(encoding="utf-8"))
    cores = int(hub.get("machine", {}).get("cpus") or 2)
    pull = hub["modes"].get("pull") or next(iter(hub["modes"].values()))
    steps = pull["steps"]
    sustained = float(pull.get("max_sustained_orders_per_s") or hub["max_sustained_orders_per_s"])
    at_max = min(steps, key=lambda s: abs(s["rate"] - sustained))
    cpu_ms = float(at_max["hub_cpu_ms_per_order"]) - float(
        at_max.get("cpu_ms_per_order", {}).get("emulators", 0.0))
    latency = float(min(steps, key=lambda s: s["rate"])["latency_s"]["p50_s"])
    source = "benchmarks/results/hub.json"
    cluster_cpu, cluster_source = _cluster_cpu(results / "cluster.json")
    return HubPerf(latency, cpu_ms / 1000.0, sustained, cores, source, cluster_cpu,
                   cluster_source)


def _cluster_cpu(path: Path) -> tuple[float | None, str | None]:
    """Per-order CPU (every part) of the cluster benchmark's run on the most nodes."""
    if not path.is_file():
        return None, None
    runs = json.loads(path.read_text(encoding="utf-8")).get("runs") or []
    measured = [r for r in runs if (r.get("per_order_cpu_s") or {}).get("total")]
    if not measured:
        return None, None
    most = max(measured, key=lambda r: r.get("nodes", 1))
    return (float(most["per_order_cpu_s"]["total"]),
            f"benchmarks/results/cluster.json ({most.get('nodes', 1)} nodes)")

