"""Reading the hubs' pull logs (``hub.actors.leasing.PullLog``: one JSON object a line)
to judge, from the hubs' own accounts, who pulled which shop when.

A hub's *holding* of a shop is the span from the start of its first pull to the end of
its last pull under one lease epoch (with leases off: under no epoch, the whole run).
Exactly one puller at any time means that no two holdings of one shop overlap.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Holding:
    shop: str  # channel/shop
    hub: str
    epoch: int | None
    start: float  # wall seconds
    end: float
    pulls: int


def read(*paths: Path) -> list[dict]:
    lines = []
    for path in paths:
        if path.exists():
            text = path.read_text(encoding="utf-8")
            # a hub killed mid-write leaves at most one partial last line
            lines += [json.loads(line) for line in text.splitlines()
                      if line.strip().endswith("}")]
    return lines


def holdings(pulls: Iterable[dict]) -> list[Holding]:
    runs: dict[tuple[str, str, int | None], list[dict]] = defaultdict(list)
    for p in pulls:
        runs[(f"{p['channel']}/{p['shop']}", p["hub"], p["epoch"])].append(p)
    out = [Holding(shop, hub, epoch, min(p["start"] for p in ps), max(p["end"] for p in ps),
                   len(ps)) for (shop, hub, epoch), ps in runs.items()]
    return sorted(out, key=lambda h: (h.shop, h.start))


def overlaps(pulls: Iterable[dict]) -> list[tuple[Holding, Holding]]:
    """Every pair of holdings of one shop that overlap in time (should be none)."""
    by_shop: dict[str, list[Holding]] = defaultdict(list)
    for h in holdings(pulls):
        by_shop[h.shop].append(h)
    bad = []
    for spans in by_shop.values():
        for i, a in enumerate(spans):
            bad += [(a, b) for b in spans[i + 1:] if b.start < a.end]
    return bad


def epochs_out_of_order(pulls: Iterable[dict]) -> list[tuple[Holding, Holding]]:
    """Holdings of one shop where a later one has an epoch no higher than an earlier one."""
    by_shop: dict[str, list[Holding]] = defaultdict(list)
    for h in holdings(pulls):
        by_shop[h.shop].append(h)
    return [(a, b) for spans in by_shop.values() for a, b in itertools.pairwise(spans)
            if a.epoch is None or b.epoch is None or b.epoch <= a.epoch]


def taken_over(pulls: Iterable[dict], dead: str, killed_at: float) -> dict[str, float | None]:
    """For each shop the ``dead`` hub held last, how long after ``killed_at`` another hub
    started pulling it (None: never)."""
    pulls = list(pulls)
    last: dict[str, dict] = {}
    for p in sorted(pulls, key=lambda p: p["start"]):
        if p["start"] <= killed_at:
            last[f"{p['channel']}/{p['shop']}"] = p
    orphaned = [shop for shop, p in last.items() if p["hub"] == dead]
    out: dict[str, float | None] = {}
    for shop in orphaned:
        after = [p["start"] for p in pulls if f"{p['channel']}/{p['shop']}" == shop
                 and p["hub"] != dead and p["start"] > killed_at]
        out[shop] = min(after) - killed_at if after else None
    return out
