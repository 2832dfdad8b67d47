"""The most orders a second the hub's actor design could decide on this machine, from
the measured cost of its parts, with everything else taken as free.

    python -m benchmarks.hub_bound            # 20,000 orders a part
    python -m benchmarks.hub_bound --quick    # 3,000

Every order the hub decides crosses Ray actor boundaries as a whole ``Order``. A
puller sends a window's orders to the ledger (durable first) and then to the router
(pickled twice, flattened the first time only); the router puts a batch once and
both pools unpickle it. That is three sends and four receives an order. This measures,
in this run, on this machine:

- ``send_us`` / ``receive_us``: the CPU an order costs the sending and the receiving
  process of a real Ray actor call with a batch of 1,000 (Ray's own threads included),
  as an ``Order`` (``send_first_us``: not yet flattened) and as its plain flat tuple
  (what an actor would pay if the domain ran on tuples, not pydantic models);
- ``domain_us``: JSON page -> parsed -> enriched -> checked -> scored -> routed in one
  process (``benchmarks.domain``'s pipeline);
- ``ledger_us``: SQLite ingest + decisions + outbox rows (``benchmarks.ledger``);
- ``emulators_us``: not measured here: the least CPU the emulators spent an order at
  any step of the last ``benchmarks.hub`` run, read from its ``results/hub.json``.

This shared host's speed drifts (the same code's CPU an order varies by up to 2x
within a day), so ``calibration`` records it as ``benchmarks.domain`` does, and a bound
compares only with a hub run made beside it.

The bound is ``cores x 1e6 / us an order``: every core busy all the time, and HTTP,
the relay, the WMS's status, Ray's scheduling, asyncio and the collector free. A real
hub stays under it. Writes ``benchmarks/results/hub_bound.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

RESULTS = Path(__file__).parent / "results"
OUT = RESULTS / "hub_bound.json"
SENDS, RECEIVES = 3, 4  # puller -> ledger, puller -> router, router -> both pools
TARGET = 10_000


def _sink() -> Any:
    import ray

    @ray.remote(num_cpus=0)
    class Sink:
        """Takes a batch and counts it: the receiving side of a crossing, nothing more."""

        def __init__(self) -> None:
            from hub.gcwatch import GcWatch

            GcWatch.install(actor=True)  # the collector's thresholds of a hub actor

        def take(self, batch: list) -> int:
            return len(batch)

        def cpu(self) -> float:
            return time.process_time()

    return Sink.remote()


def crossing(batches: list[list], sink: Any) -> dict[str, float]:
    """CPU an item costs the sender and the receiver when ``batches`` go to ``sink``."""
    import ray

    items = sum(len(b) for b in batches)
    before_sink, before = ray.get(sink.cpu.remote()), time.process_time()
    taken = sum(ray.get(sink.take.remote(b)) for b in batches)
    spent = time.process_time() - before
    spent_sink = ray.get(sink.cpu.remote()) - before_sink
    if taken != items:
        raise SystemExit(f"the sink took {taken} of {items} items")
    return {"send_us": 1e6 * spent / items, "receive_us": 1e6 * spent_sink / items}


def crossings(orders: list, batch: int) -> dict[str, Any]:
    """Orders (fresh, then flattened) and their flat tuples through a real actor call."""
    from hub.domain import flatten

    parts = [orders[i:i + batch] for i in range(0, len(orders), batch)]
    sink = _sink()
    crossing([parts[0][:10]], sink)  # the actor's start and first import are not a crossing
    fresh = crossing(parts, sink)
    kept = crossing(parts, sink)
    tuples = crossing([[flatten(o) for o in p] for p in parts], sink)
    return {"order": {"send_first_us": fresh["send_us"], "send_us": kept["send_us"],
                      "receive_us": (fresh["receive_us"] + kept["receive_us"]) / 2},
            "tuple": {"send_first_us": tuples["send_us"], "send_us": tuples["send_us"],
                      "receive_us": tuples["receive_us"]}}


def domain_us(blobs: list, inventory: dict, crm: dict) -> float:
    """The pipeline's CPU an order, over ``benchmarks.domain``'s pages."""
    from benchmarks.domain import bench_ruleset, pipeline

    ruleset = bench_ruleset()
    pipeline(blobs[:2], inventory, crm, ruleset, progress=False)
    _, used, tally = pipeline(blobs, inventory, crm, ruleset, progress=False)
    return 1e6 * sum(used.values()) / tally.orders


def ledger_us(batches: int, batch: int) -> float:
    from benchmarks.ledger import bench_sqlite

    return 1e6 / bench_sqlite(batches, batch, "normal")["orders_per_process_cpu_s"]


def useful_work(n: int, batch: int = 1000,
                on_orders: Callable[[list[Any]], object] | None = None) -> dict[str, float]:
    """The useful work's CPU us an order, unrounded: ``domain_us`` (the pipeline over
    ``n`` synthetic orders in pages of ``batch``) and ``ledger_us``, under a hub actor's
    collector thresholds. ``on_orders`` is given those orders, under the same
    thresholds, before the pipeline runs."""
    from benchmarks.domain import pages, synthetic
    from hub.gcwatch import ACTOR_THRESHOLD

    gc.collect()
    threshold = gc.get_threshold()
    gc.set_threshold(*ACTOR_THRESHOLD)  # as in the hub's actors, where this work runs
    try:
        orders, inventory, crm = synthetic(n)
        blobs = pages(orders, batch)
        if on_orders is not None:
            on_orders(orders)
        del orders
        domain = domain_us(blobs, inventory, crm)
        ledger = ledger_us(max(2, n // batch), batch)
    finally:
        gc.set_threshold(*threshold)
    return {"domain_us": domain, "ledger_us": ledger}


def emulators_us(path: Path = RESULTS / "hub.json") -> dict[str, Any] | None:
    """The least CPU the emulators spent an order at any step of a hub benchmark run.
    Their cost an order falls as the rate rises (polling and timers are paid by the
    second), so the least is the nearest to what they would cost at the target."""
    try:
        hub = json.loads(path.read_text())
        steps = [(1000 * step["cpu_ms_per_order"]["emulators"], mode, step["rate"])
                 for mode, run in hub["modes"].items() for step in run["steps"]]
        us, mode, rate = min(steps)
        return {"us": us, "source": str(path), "mode": mode, "rate": rate}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def bound(cross: dict[str, float], domain: float, ledger: float, emulators: float,
          cores: int) -> dict[str, float]:
    """The us an order and the orders a second ``cores`` busy all the time could give."""
    moving = cross["send_first_us"] + (SENDS - 1) * cross["send_us"] \
        + RECEIVES * cross["receive_us"]
    total = moving + domain + ledger + emulators
    return {"crossings_us": round(moving, 1), "us_per_order": round(total, 1),
            "orders_per_s": round(cores * 1e6 / total)}


def measure(n: int, batch: int = 1000, hub: Path = RESULTS / "hub.json") -> dict[str, Any]:
    """Every part, and the bound with and without the emulators, as ``Order`` and tuple;
    the emulators' cost read from ``hub`` (a ``benchmarks.hub`` result)."""
    from benchmarks.domain import calibrate

    cores = os.cpu_count() or 1
    cross: dict[str, Any] = {}
    work = useful_work(n, batch,  # the crossings take the pipeline's own orders
                       on_orders=lambda orders: cross.update(crossings(orders, batch)))
    domain, ledger = work["domain_us"], work["ledger_us"]
    emu = emulators_us(hub)
    emulators = emu["us"] if emu else 0.0
    bounds = {f"{form}{'' if with_emu else ', emulators free'}":
              bound(cross[form], domain, ledger, emulators if with_emu else 0.0, cores)
              for form in ("order", "tuple") for with_emu in (True, False)}
    return {"benchmark": "hub_bound", "orders": n, "batch": batch, "cores": cores,
            "sends": SENDS, "receives": RECEIVES,
            "crossing_us": {k: {f: round(v, 2) for f, v in c.items()} for k, c in cross.items()},
            "domain_us": round(domain, 2), "ledger_us": round(ledger, 2),
            "emulators": emu, "bounds": bounds, "target_orders_per_s": TARGET,
            "calibration": calibrate(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def report(result: dict[str, Any]) -> str:
    c = result["crossing_us"]
    emu = result["emulators"]
    lines = [
        f"{'part (CPU us an order)':<34}{'Order':>9}{'tuple':>9}",
        *(f"{name:<34}{c['order'][key]:>9.1f}{c['tuple'][key]:>9.1f}"
          for name, key in (("send, first (flattened)", "send_first_us"),
                            ("send, again", "send_us"), ("receive", "receive_us"))),
        f"{'domain (parse .. route)':<34}{result['domain_us']:>9.1f}",
        f"{'ledger (SQLite ingest + decide)':<34}{result['ledger_us']:>9.1f}",
        f"{'emulators (from ' + (Path(emu['source']).name if emu else 'nowhere') + ')':<34}"
        f"{emu['us'] if emu else 0.0:>9.1f}",
        f"bound on {result['cores']} cores, {result['sends']} sends + "
        f"{result['receives']} receives an order (target {TARGET:,}/s):",
    ]
    for name, b in result["bounds"].items():
        lines.append(f"  {name:<30}{b['us_per_order']:>8.1f} us  {b['orders_per_s']:>8,}/s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import ray

    p = argparse.ArgumentParser(prog="python -m benchmarks.hub_bound",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3,000 orders a part, not 20,000")
    p.add_argument("--orders", type=int, help="orders a part")
    p.add_argument("--hub", type=Path, default=RESULTS / "hub.json",
                   help="the benchmarks.hub result to read the emulators' cost from")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    n = args.orders or (3_000 if args.quick else 20_000)
    if n < 1000:
        p.error("--orders must be at least 1000 (one batch)")
    print(f"measuring the parts with {n:,} orders ...", file=sys.stderr, flush=True)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    try:
        result = measure(n, hub=args.hub)
    finally:
        ray.shutdown()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    print(report(result))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
