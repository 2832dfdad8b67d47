"""What a shadow run (issue #22) costs the live decide path, measured in one run.

The live path's decide time per batch: the checks, the scores and the routing
(``find_anomalies``, ``score_order``, ``route``), what the router and its pools do to
decide a batch before committing it. With a shadow run the router then hands the batch
to ``ShadowRun.observe`` (the candidate's rules decide beside, differences counted).
Each batch is decided both ways, alternating which goes first; the figure is the median
over rounds of (decide + shadow) / decide, target <= 1.20.

    python -m benchmarks.domain --shadow-only        # just this, merged into domain.json
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from hub.app.shadow import ShadowRun
from hub.domain import ADAPTERS, find_anomalies, load_ruleset, route, score_order, stock_states
from hub.domain import priority_tables as tables

# the candidate: the bench rules with two more that move orders (a group, a hold)
CANDIDATE_RULES = """
  - id: douyin-live-gift-bench
    precedence: 5
    when: {all: [{field: channel, eq: douyin}, {field: source, eq: live_room}]}
    then: {packing_group: live-gift-bench}
  - id: big-order-review
    precedence: 6
    when: {field: amounts.paid_fen, ge: 300000}
    then: {hold: rule_hold}
"""
TARGET = 1.20


def candidate(ruleset: Any) -> Any:
    text = ruleset.text.replace(f"version: {ruleset.version}\n",
                                f"version: {ruleset.version + 1}\n", 1)
    return load_ruleset(text.rstrip() + "\n" + CANDIDATE_RULES, "candidate.yaml")


def _batches(blobs: list, crm: Any, enrich: Any) -> list:
    return [enrich(ADAPTERS[channel].parse_page(orjson.loads(blob)).orders, crm)
            for channel, blob in blobs]


def _decide(batch: list, inventory: Any, recent: list, ruleset: Any, t: Any) -> tuple:
    stocks = stock_states(batch, inventory, t.low_stock)
    found = find_anomalies(batch, inventory, recent, ruleset, stocks)
    scores = [score_order(o, s[0], t) for o, s in zip(batch, stocks, strict=True)]
    return found, scores, route(batch, found, scores, ruleset), stocks


def shadow_cost(blobs: list, inventory: Any, crm: Any, ruleset: Any, enrich: Any,
                rounds: int = 5, progress: bool = True) -> dict[str, Any]:
    """The shadow run's cost against the live decide time (see the module's docstring)."""
    batches = _batches(blobs, crm, enrich)
    t = tables(ruleset)
    run = ShadowRun(1, candidate(ruleset), datetime.now(UTC))
    clock = time.perf_counter
    now = datetime.now(UTC)
    plain_runs, shadow_runs, observe_runs, route_runs = [], [], [], []
    warm = batches[0]
    found, scores, decisions, stocks = _decide(warm, inventory, [], ruleset, t)
    run.observe(warm, found, scores, decisions, ruleset, now, stocks)  # compiles its rules
    run = ShadowRun(1, run.candidate, now)
    for r in range(rounds):
        plain = with_shadow = observe = routed = 0.0
        recent: list = []
        for i, batch in enumerate(batches):
            for shadowed in ((False, True) if (i + r) % 2 else (True, False)):
                t0 = clock()
                found, scores, decisions, stocks = _decide(batch, inventory, recent, ruleset, t)
                t1 = clock()
                if shadowed:
                    run.observe(batch, found, scores, decisions, ruleset, now, stocks)
                    t2 = clock()
                    with_shadow += t2 - t0
                    observe += t2 - t1
                else:
                    plain += t1 - t0
                    t2 = clock()
                    route(batch, found, scores, ruleset)
                    routed += clock() - t2
            recent = batch
        plain_runs.append(plain)
        shadow_runs.append(with_shadow)
        observe_runs.append(observe)
        route_runs.append(routed)
        if progress:
            print(f"\rshadow cost: round {r + 1}/{rounds}  ratio "
                  f"{with_shadow / plain:.3f}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    orders = sum(len(b) for b in batches)
    ratios = [s / p for s, p in zip(shadow_runs, plain_runs, strict=True)]
    ratio = statistics.median(ratios)
    report = run.report(60, now)
    return {
        "decide_with_shadow_ratio": round(ratio, 3),
        "shadow_overhead_share": round(ratio - 1, 3),
        "ratio_runs": [round(x, 3) for x in ratios],
        "decide_us_per_order": round(statistics.median(plain_runs) / orders * 1e6, 2),
        "shadow_us_per_order": round(statistics.median(observe_runs) / orders * 1e6, 2),
        "route_us_per_order": round(statistics.median(route_runs) / orders * 1e6, 2),
        "orders": orders, "rounds": rounds,
        "candidate_changed_share": round(report.changed["any"] / max(1, report.orders), 4),
        "target_ratio": TARGET, "met": ratio <= TARGET,
    }
