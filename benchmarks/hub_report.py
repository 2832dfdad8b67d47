"""The hub benchmark's table and its reading: a progress line per step, CPU per decided
order, and the sentence naming what ran out."""

from __future__ import annotations

import os
from typing import Any

SYNC_ACTORS = ("LedgerService", "Validator", "Scorer")
NOT_HUB = ("emulators", "py-spy", "exited")  # processes left out of the hub's CPU


def line(mode: str, row: dict[str, Any]) -> str:
    cpu = row["cpu_pct"]
    top = ", ".join(f"{k} {v:.0f}%" for k, v in list(cpu.items())[:3])
    return (f"{mode:<5} {row['rate']:>6} {row['offered_per_s']:>9.0f} {row['decided_per_s']:>9.0f}"
            f" {row['backlog_start']['total']:>8} {row['backlog_end']['total']:>8}"
            f" {row['backlog_slope_per_s']:>8.0f} {row['router']['mean_batch'] or 0:>6.0f}"
            f"  {'yes' if row['sustained'] else 'NO ':<3}  {top}")


HEADER = (f"{'mode':<5} {'rate':>6} {'offered/s':>9} {'decided/s':>9} {'backlog0':>8} "
          f"{'backlog1':>8} {'slope/s':>8} {'batch':>6}  held  cpu (% of a core)")


def per_order(row: dict[str, Any], wall: float, decided: int) -> None:
    """CPU ms per decided order by process, and each actor method's ms per order."""
    n = max(decided, 1)
    row["cpu_ms_per_order"] = {g: round(pct / 100 * wall * 1000 / n, 3)
                               for g, pct in row["cpu_pct"].items() if pct}
    hub_ms = sum(v for g, v in row["cpu_ms_per_order"].items() if g not in NOT_HUB)
    row["hub_cpu_ms_per_order"] = round(hub_ms, 3)
    row["cpu_bound_ceiling_per_s"] = round(cores() * 1000 / hub_ms) if hub_ms else None
    for timing in row["actor_time"].values():
        if isinstance(timing, dict) and "busy" in timing:
            timing["ms_per_order"] = round(timing["busy"] * wall * 1000 / n, 3)


def bottleneck(mode: dict[str, Any]) -> str:
    """What ran out at the first failed step (else the highest): the busiest synchronous
    actor, the process spending most CPU per order, and the CPU-bound ceiling."""
    steps = mode["steps"]
    if not steps:
        return "no step ran"
    failed = [s for s in steps if not s["sustained"]]
    row = failed[0] if failed else steps[-1]
    timings = {k: v for k, v in row["actor_time"].items() if isinstance(v, dict) and "busy" in v}
    actors: dict[str, float] = {}
    for name, t in timings.items():
        if name.split(".")[0] in SYNC_ACTORS:
            actors[name.split(".")[0]] = actors.get(name.split(".")[0], 0.0) + t["busy"]
    cpu = {g: v for g, v in row.get("cpu_ms_per_order", {}).items() if g not in NOT_HUB}
    text = (f"{mode['mode']} at {row['rate']}/s ({'failed' if failed else 'held'}, decided "
            f"{row['decided_per_s']:.0f}/s, load average {row.get('load_average')})")
    if actors:
        name, busy = max(actors.items(), key=lambda kv: kv[1])
        top = max((t for k, t in timings.items() if k.startswith(name + ".")),
                  key=lambda t: t["busy"])
        method = next(k for k, t in timings.items() if t is top)
        text += (f": busiest synchronous actor {name}, busy {busy:.0%} of the step; "
                 f"{method} {top['mean_ms']:.0f} ms a call, {top['ms_per_order']:.2f} ms "
                 "per order")
    if cpu:
        group, ms = max(cpu.items(), key=lambda kv: kv[1])
        text += (f"; hub CPU {row['hub_cpu_ms_per_order']:.2f} ms per decided order, most in "
                 f"{group} ({ms:.2f} ms), so {cores()} cores hold at most "
                 f"~{row['cpu_bound_ceiling_per_s']} orders/s")
    serial = {k: v["serializing"] for k, v in row.get("stacks", {}).items()
              if v.get("serializing", 0) >= 0.25}
    if serial:
        text += "; share of sampled stacks (de)serialising Ray arguments: " + ", ".join(
            f"{k} {v:.0%}" for k, v in serial.items())
    return text


def cores() -> int:
    return os.cpu_count() or 1


def compare(as_is: dict[str, Any] | None, changed: dict[str, Any]) -> dict[str, Any]:
    """Push mode as it is against the what-if, rung by rung: decided rate, p99 and the
    ms per order of the actor methods that moved most."""
    if not as_is:
        return {}
    mine = {r["rate"]: r for r in as_is["steps"]}
    rows = []
    for other in changed["steps"]:
        row = mine.get(other["rate"])
        if row is None:
            continue
        methods = {}
        for name, t in row["actor_time"].items():
            # the what-if's router is a Router subclass: match its methods by name
            theirs = next((v for k, v in other["actor_time"].items()
                           if k.endswith("Router." + name.removeprefix("Router."))), None) \
                if name.startswith("Router.") else other["actor_time"].get(name)
            if isinstance(t, dict) and "ms_per_order" in t and theirs:
                methods[name] = {"as_is": t["ms_per_order"], "changed": theirs["ms_per_order"]}
        rows.append({"rate": other["rate"],
                     "decided_per_s": {"as_is": row["decided_per_s"],
                                       "changed": other["decided_per_s"]},
                     "p99_s": {"as_is": row["latency_s"]["p99_s"],
                               "changed": other["latency_s"]["p99_s"]},
                     "hub_cpu_ms_per_order": {"as_is": row["hub_cpu_ms_per_order"],
                                              "changed": other["hub_cpu_ms_per_order"]},
                     "ms_per_order": methods})
    return {"max_sustained_orders_per_s": {"as_is": as_is["max_sustained_orders_per_s"],
                                           "changed": changed["max_sustained_orders_per_s"]},
            "rungs": rows}
