"""The domain pipeline on one core: raw marketplace JSON bytes -> parsed -> checked ->
scored -> routed, in batches; and our rule evaluator beside zen-engine on the same table.

    python -m benchmarks.domain            # 100,000 orders in batches of 1,000
    python -m benchmarks.domain --quick    # 5,000 orders, a short zen run
    python -m benchmarks.domain --profile  # and the top functions of a cProfile run
    python -m benchmarks.domain --shadow-only  # only the shadow run's cost (benchmarks.shadow),
                                               # merged into the JSON's other figures

The pipeline runs ``--runs`` times (3) over the same pages; ``orders_per_s`` is the median
run's wall-clock rate (``orders_per_s_best`` the best), and CPU-time figures stand beside
the wall-clock ones, as the machine is shared.

Synthetic orders (three channels, ~7% planted anomalies, duplicates across batches) are
made and turned into API response pages (``sim.shapes`` + orjson) BEFORE timing. Each
batch is one page of one channel; the previous batch is the ``recent_orders`` window.
Writes ``benchmarks/results/domain.json``. Targets: >= 30,000 orders/s, rules >= 20x zen.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import os
import platform
import pstats
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from benchmarks.shadow import shadow_cost
from hub.domain import (
    ADAPTERS,
    SHANGHAI,
    Amounts,
    Buyer,
    Item,
    Order,
    Receiver,
    default_ruleset,
    find_anomalies,
    load_ruleset,
    route,
    score_order,
    stock_states,
)
from hub.domain import priority_tables as tables
from sim.shapes import SHAPES

RESULTS = Path(__file__).parent / "results" / "domain.json"
# Young-generation threshold while the pipeline runs (as a router process would set it):
# a batch makes ~20,000 short-lived acyclic objects, and the default 700 collects dozens
# of times per batch for nothing. Collection still runs, just less often.
GC_THRESHOLD = (50_000, 20, 100)
CHANNELS = ("tmall", "jd", "douyin")
STAGES = ("json", "parse", "enrich", "checks", "score", "route", "free")
EXTRA_RULES = """
  - id: presale-final-at-night
    precedence: 30
    when: {all: [{field: order_type, eq: presale_final}, {any: [{field: hour, lt: 6},
                                                               {field: hour, ge: 22}]}]}
    then: {lane: P1, packing_group: presale}
  - id: big-paid-review
    precedence: 40
    when: {all: [{field: amounts.paid_fen, ge: 500000}, {field: status, ne: cancelled}]}
    then: {alert: finance}
  - id: remote-bench
    precedence: 50
    when: {all: [{field: receiver.province, in: [新疆维吾尔自治区, 西藏自治区, 青海省]},
                 {not: {field: anomalies, contains: duplicate_order}}]}
    then: {packing_group: remote}
  - id: bulk
    precedence: 60
    when: {all: [{field: items.quantity, gt: 5}, {field: items.count, le: 3},
                 {field: channel, not_in: [jd]}]}
    then: {packing_group: bulk}
  - id: jd-express
    precedence: 70
    when: {all: [{field: channel, eq: jd}, {field: delivery, eq: express}]}
    then: {lane: P1}
  - id: zhejiang-warehouse
    precedence: 80
    when: {field: receiver.city, in: [杭州市, 宁波市, 绍兴市, 嘉兴市]}
    then: {packing_group: hz}
  - id: slow-lane
    precedence: 90
    when: {any: [{field: score, lt: 30.5}, {field: lane, eq: P3}]}
    then: {packing_group: slow}
"""


def bench_ruleset():
    """The default rule set plus seven more routing rules (nine in all)."""
    return load_ruleset(default_ruleset().text.rstrip() + "\n" + EXTRA_RULES, "bench.yaml")


def _places() -> list[tuple[str, str, str]]:
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp

        table = jionlp.china_location_loader()
    out = []
    for province, cities in table.items():
        for city, districts in cities.items():
            if city.startswith("_") or not isinstance(districts, dict):
                continue
            out += [(province, city, d) for d in districts if not d.startswith("_")]
    return out


def synthetic(n: int, seed: int = 11) -> tuple[list[Order], dict[str, int], dict[str, Buyer]]:
    """``n`` orders (channel by position in batches), an inventory snapshot, CRM buyers."""
    rng = random.Random(seed)
    places = _places()
    remote = [p for p in places if p[0].startswith(("新疆", "西藏", "青海", "内蒙古", "甘肃"))]
    mainland = [p for p in places if p not in remote]
    skus = [f"LAMP-{i:04d}" for i in range(400)]
    inventory = {s: rng.choice((0, 3, 15, 500, 5000, 5000)) for s in skus[:360]}
    crm = {f"buyer-{i}": Buyer(id=f"buyer-{i}", tier=rng.choice(("plus", "vip", "svip", "vip")),
                               tags=("new_first_order",) if i % 9 == 0 else ())
           for i in range(0, 40_000, 3)}
    origin = datetime(2026, 11, 11, 0, 0, tzinfo=SHANGHAI)
    orders: list[Order] = []
    for i in range(n):
        channel = CHANNELS[(i // 1000) % 3]
        created = origin + timedelta(seconds=i * 0.9 + rng.random())
        kind = rng.choices(("normal", "live_flash", "presale_final", "presale_deposit", "gift"),
                           (70, 12, 9, 6, 3))[0]
        live = kind == "live_flash"
        lines = tuple(Item(sku=rng.choice(skus), outer_sku="", quantity=rng.choice((1, 1, 2, 3)),
                           price_fen=rng.choice((1990, 9900, 25900, 129900)))
                      for _ in range(rng.choice((1, 1, 1, 2, 3))))
        total = sum(x.price_fen * x.quantity for x in lines)
        discount = rng.choice((0, 0, 500, 1000)) if total > 2000 else 0
        freight = rng.choice((0, 0, 0, 600))
        paid = total - discount + freight
        province, city, district = rng.choice(remote if rng.random() < 0.03 else mainland)
        r = {"name": "张三", "phone": "1" + rng.choice("3456789") + f"{rng.randrange(10**9):09d}",
             "province": province, "city": city, "district": district, "street": "长安街道",
             "detail": f"幸福路{rng.randrange(1, 999)}号{rng.randrange(1, 30)}幢"
                       f"{rng.randrange(101, 2999)}室"}
        delivery = rng.choices(("standard", "express", "same_city"), (75, 15, 10))[0]
        plant = rng.random()
        if plant < 0.012:
            r["district"] = ""
        elif plant < 0.024:
            r["phone"] = "1" + r["phone"][2:]
        elif plant < 0.036:
            paid -= 1
        if kind == "presale_deposit":
            paid = paid // 5
        status = rng.choices(("paid", "unpaid", "shipped", "cancelled"), (90, 4, 5, 1))[0]
        if status == "unpaid":
            paid = 0
        buyer = f"buyer-{rng.randrange(40_000)}"
        fields = dict(
            channel=channel, shop=f"{channel}-flagship",
            order_id=f"{channel[0].upper()}{i + 1:08d}",
            status=status, created_at=created, paid_at=created + timedelta(seconds=30),
            modified_at=created + timedelta(seconds=31),
            buyer=Buyer(id=buyer), receiver=Receiver(**r), items=lines,
            amounts=Amounts(total_fen=total, discount_fen=discount, freight_fen=freight,
                            paid_fen=paid),
            order_type=kind, source="live_room" if live else "",
            source_detail=f"{rng.randrange(1, 99)}" if live else "",
            delivery=delivery)
        if orders and rng.random() < 0.01:  # a duplicate of a recent order (same channel)
            twin = orders[-1 - rng.randrange(min(len(orders), 200))]
            if twin.channel == channel:
                fields.update(buyer=twin.buyer, receiver=twin.receiver, items=twin.items,
                              amounts=twin.amounts, status=twin.status)
        orders.append(Order(**fields))
    return orders, inventory, crm


def pages(orders: list[Order], batch: int) -> list[tuple[str, bytes]]:
    """Each batch as one API response page of its channel, serialised."""
    out = []
    for start in range(0, len(orders), batch):
        chunk = orders[start:start + batch]
        channel = str(chunk[0].channel)
        shape = SHAPES[channel]
        raws = [shape.to_raw(o) for o in chunk if str(o.channel) == channel]
        body = shape.page(raws, page_no=start // batch, page_size=batch, total=len(orders),
                          has_next=start + batch < len(orders))
        out.append((channel, orjson.dumps(body)))
    return out


def enrich(orders: list[Order], crm: dict[str, Buyer]) -> list[Order]:
    """CRM tiers and tags for the buyers the CRM knows (what the router does). A shallow
    copy with the buyer swapped: ``model_copy`` would cost as much as the routing."""
    out = []
    for o in orders:
        fields = o.__dict__  # pydantic attributes are slow to read; the dict is not
        known = crm.get(fields["buyer"].id)
        if known is not None:
            copy = object.__new__(Order)
            _set(copy, "__dict__", {**fields, "buyer": known})
            _set(copy, "__pydantic_fields_set__", o.__pydantic_fields_set__)
            _set(copy, "__pydantic_extra__", None)
            _set(copy, "__pydantic_private__", None)
            o = copy
        out.append(o)
    return out


_set = object.__setattr__


class Tally:
    """What the decisions were, without keeping them (as the router does not)."""

    def __init__(self) -> None:
        self.orders = self.held = self.anomalous = self.remedied = 0
        self.lanes = dict.fromkeys(("P0", "P1", "P2", "P3"), 0)

    def add(self, decisions) -> None:
        self.orders += len(decisions)
        for d in decisions:
            self.lanes[d.lane] += 1
            if d.anomalies:
                self.anomalous += 1
                self.held += d.hold_reason is not None
                self.remedied += bool(d.remedies)


def pipeline(blobs, inventory, crm, ruleset, progress: bool = True):
    """Every page through the pipeline: (wall seconds per stage, CPU seconds per stage,
    tally). CPU time (``time.process_time``) leaves out the time other processes on a
    shared machine take from this one."""
    spent = dict.fromkeys(STAGES, 0.0)
    used = dict.fromkeys(STAGES, 0.0)
    t = tables(ruleset)
    recent: list[Order] = []
    tally, clock, cpu = Tally(), time.perf_counter, time.process_time
    for n, (channel, blob) in enumerate(blobs, 1):
        adapter = ADAPTERS[channel]
        c0, t0 = cpu(), clock()
        payload = adapter.decode(blob)  # typed (msgspec) when the page has the usual shape
        t1, c1 = clock(), cpu()
        page = adapter.parse_page(payload)
        t2, c2 = clock(), cpu()
        batch = enrich(page.orders, crm)
        t3, c3 = clock(), cpu()
        stocks = stock_states(batch, inventory, t.low_stock)
        found = find_anomalies(batch, inventory, recent, ruleset, stocks)
        t4, c4 = clock(), cpu()
        scores = [score_order(o, s[0], t) for o, s in zip(batch, stocks, strict=True)]
        t5, c5 = clock(), cpu()
        decisions = route(batch, found, scores, ruleset)
        t6, c6 = clock(), cpu()
        tally.add(decisions)  # the benchmark's own count: not timed
        c7, t7 = cpu(), clock()
        recent = batch  # the batch before is dropped: freeing it is the pipeline's work
        t8, c8 = clock(), cpu()
        for stage, took, cpu_took in zip(
                STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t8 - t7),
                (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c5 - c4, c6 - c5, c8 - c7), strict=True):
            spent[stage] += took
            used[stage] += cpu_took
        if progress and (n % 5 == 0 or n == len(blobs)):
            done = sum(spent.values())
            print(f"\rpipeline: batch {n}/{len(blobs)}  {tally.orders:,} orders  "
                  f"{tally.orders / done:,.0f} orders/s", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return spent, used, tally


def calibrate() -> dict:
    """How fast this machine runs plain Python and orjson, to compare runs across machines."""
    t0 = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i & 7
    loop = time.perf_counter() - t0
    blob = orjson.dumps([{"id": i, "name": "杭州市西湖区", "tags": ["a", "b"], "n": 1.5}
                         for i in range(10_000)])
    t0 = time.perf_counter()
    orjson.loads(blob)
    return {"py_loop_ns_per_iter": round(loop * 1000, 1),
            "orjson_loads_mb_per_s": round(len(blob) / (time.perf_counter() - t0) / 1e6, 1)}


def facts_of(blobs, inventory, crm, ruleset, limit: int) -> list[dict]:
    """The facts the routing rules saw, for the first ``limit`` orders."""
    from hub.domain import order_facts

    out: list[dict] = []
    for channel, blob in blobs:
        batch = enrich(ADAPTERS[channel].parse_page(orjson.loads(blob)).orders, crm)
        found = find_anomalies(batch, inventory, [], ruleset)
        scores = [score_order(o, s[0], tables(ruleset))
                  for o, s in zip(batch, stock_states(batch, inventory, 20), strict=True)]
        out += [order_facts(o, s.score, s.lane, tuple(a.code for a in f))
                for o, s, f in zip(batch, scores, found, strict=True)]
        if len(out) >= limit:
            break
    return out[:limit]


def rules_vs_zen(ruleset, facts: list[dict], batch: int, zen_rows: int) -> dict:
    """Rows/s of our compiled evaluator and of zen-engine on the same table and facts."""
    from benchmarks.zen_export import nest_facts, rule_ids, zen_decision

    evaluate = ruleset.evaluator.evaluate
    chunks = [facts[i:i + batch] for i in range(0, len(facts), batch)]
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        ours = [hits for chunk in chunks for hits in evaluate(chunk)]
        best = min(best, time.perf_counter() - t0)
    ours_rate = len(facts) / best
    decision = zen_decision(ruleset)
    nested = [nest_facts(f) for f in facts[:zen_rows]]
    as_json = [orjson.dumps(f) for f in nested]
    zen_rates, zen_hits = {}, []
    for mode, contexts in (("dict", nested), ("json-bytes", as_json)):
        t0 = time.perf_counter()
        zen_hits = [rule_ids(decision.evaluate(c)["result"]) for c in contexts]
        zen_rates[mode] = len(contexts) / (time.perf_counter() - t0)
    agree = sum([h.rule_id for h in o] == z for o, z in zip(ours, zen_hits, strict=False))
    mode = max(zen_rates, key=zen_rates.get)
    return {"ours_rules_rows_per_s": round(ours_rate), "zen_rows_per_s": round(zen_rates[mode]),
            "zen_mode": mode, "zen_rows_per_s_by_mode": {k: round(v) for k, v in
                                                         zen_rates.items()},
            "rules_vs_zen_ratio": round(ours_rate / zen_rates[mode], 1),
            "rules_rows": len(facts), "zen_rows": len(nested),
            "zen_agreement": round(agree / max(len(zen_hits), 1), 4)}


def profile(blobs, inventory, crm, ruleset, top: int = 25) -> str:
    prof = cProfile.Profile()
    prof.enable()
    pipeline(blobs, inventory, crm, ruleset, progress=False)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def pin_one_core() -> tuple[set[int] | None, int | None]:
    """Pin this process to one CPU; returns (the previous set, the CPU) to restore."""
    if not hasattr(os, "sched_setaffinity"):
        return None, None
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    return before, cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.domain", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--quick", action="store_true", help="5,000 orders and a short zen run")
    p.add_argument("--orders", type=int, help="orders to run (default 100,000; quick 5,000)")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--zen-rows", type=int, help="rows for zen (default 20,000; quick 2,000)")
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--profile", action="store_true", help="print a cProfile of the pipeline")
    p.add_argument("--no-pin", action="store_true", help="do not pin to one core")
    p.add_argument("--shadow-only", action="store_true",
                   help="measure only the shadow run's cost and merge it into --out")
    p.add_argument("--shadow-rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=3,
                   help="pipeline runs over the same pages (best and median are reported)")
    args = p.parse_args(argv)
    n = args.orders or (5_000 if args.quick else 100_000)
    zen_rows = args.zen_rows or (2_000 if args.quick else 20_000)
    before, pinned = (None, None) if args.no_pin else pin_one_core()
    try:
        print(f"making {n:,} synthetic orders ...", file=sys.stderr, flush=True)
        ruleset = bench_ruleset()
        orders, inventory, crm = synthetic(n)
        blobs = pages(orders, args.batch)
        del orders
        pipeline(blobs[:2], inventory, crm, ruleset, progress=False)  # warm caches
        if args.shadow_only:
            return _shadow_only(args, blobs, inventory, crm, ruleset)
        gc.collect()
        gc.freeze()  # the prepared pages are not the pipeline's garbage to scan
        calibration = calibrate()
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        threshold = gc.get_threshold()
        gc.set_threshold(*GC_THRESHOLD)
        try:
            runs = [pipeline(blobs, inventory, crm, ruleset) for _ in range(max(1, args.runs))]
        finally:
            gc.set_threshold(*threshold)
        print("rules: ours vs zen-engine ...", file=sys.stderr, flush=True)
        facts = facts_of(blobs, inventory, crm, ruleset, max(zen_rows, min(n, 50_000)))
        rules = rules_vs_zen(ruleset, facts, args.batch, zen_rows)
        report_profile = profile(blobs[: max(1, len(blobs) // 4)], inventory, crm,
                                 ruleset) if args.profile else ""
        shadow = shadow_cost(blobs, inventory, crm, ruleset, enrich, args.shadow_rounds)
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)
        gc.unfreeze()
    count = runs[0][2].orders
    walls = sorted(sum(spent.values()) for spent, _, _ in runs)
    cpus = sorted(sum(used.values()) for _, used, _ in runs)
    median = walls[(len(walls) - 1) // 2]  # the slower middle one for an even count
    spent, used, tally = next(r for r in runs if sum(r[0].values()) == median)
    total = median
    result = {
        "orders_per_s": round(count / total), **rules,
        "orders": count, "batch": args.batch,
        "us_per_order": {k: round(v / count * 1e6, 2) for k, v in spent.items()}
        | {"total": round(total / count * 1e6, 2)},
        "orders_per_cpu_s": round(count / sum(used.values())),
        "cpu_us_per_order": {k: round(v / count * 1e6, 2) for k, v in used.items()}
        | {"total": round(sum(used.values()) / count * 1e6, 2)},
        "runs": len(runs),
        "orders_per_s_runs": [round(count / w) for w in walls[::-1]],
        "orders_per_s_best": round(count / walls[0]),
        "orders_per_s_median": round(count / median),
        "orders_per_cpu_s_best": round(count / cpus[0]),
        "gc_threshold_during_runs": list(GC_THRESHOLD),
        "anomaly_share": round(tally.anomalous / count, 4),
        "held_share": round(tally.held / count, 4),
        "remedied_share": round(tally.remedied / count, 4),
        "lanes": tally.lanes,
        "targets": {"orders_per_s": 30_000, "rules_vs_zen_ratio": 20},
        "shadow": shadow,
        "calibration": calibration, "loadavg_1m_at_start": load,
        "cpu": pinned, "quick": args.quick, "python": platform.python_version(),
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    us = result["us_per_order"]
    cpu = result["cpu_us_per_order"]
    print(f"{'stage':<10}{'us/order':>10}{'cpu us':>10}")
    for stage in (*STAGES, "total"):
        print(f"{stage:<10}{us[stage]:>10.2f}{cpu[stage]:>10.2f}")
    print(f"orders/s          {result['orders_per_s']:>10,}   (median of {len(runs)} runs; best "
          f"{result['orders_per_s_best']:,}; target 30,000)")
    print(f"orders/CPU s      {result['orders_per_cpu_s']:>10,}   (best "
          f"{result['orders_per_cpu_s_best']:,}; load {load} -> {os.getloadavg()[0]:.2f})")
    print(f"rules rows/s      {rules['ours_rules_rows_per_s']:>10,}   ours")
    print(f"zen rows/s        {rules['zen_rows_per_s']:>10,}   ({rules['zen_mode']})")
    print(f"rules vs zen      {rules['rules_vs_zen_ratio']:>10}x  (target 20x; agreement "
          f"{rules['zen_agreement']:.2%})")
    print(f"wrote {args.out}")
    if report_profile:
        print(report_profile)
    return 0


def _shadow_only(args: argparse.Namespace, blobs, inventory, crm, ruleset) -> int:
    """``--shadow-only``: the shadow figure alone, merged into the JSON already there."""
    figures = orjson.loads(args.out.read_bytes()) if args.out.exists() else {}
    gc.set_threshold(*GC_THRESHOLD)
    figures["shadow"] = shadow = shadow_cost(blobs, inventory, crm, ruleset, enrich,
                                             args.shadow_rounds)
    shadow["timestamp"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(figures, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"decide with shadow / without: {shadow['decide_with_shadow_ratio']} (median of "
          f"{shadow['rounds']} rounds; target <= {shadow['target_ratio']}); shadow "
          f"{shadow['shadow_us_per_order']} us/order beside decide "
          f"{shadow['decide_us_per_order']} us/order")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
