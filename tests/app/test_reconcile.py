"""A reconciliation round with fakes: the marketplace's fresh status (not the ledger's
copy), the WMS's stage and the ledger's, within the budget; raised once it lasts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hub.app.reconcile import Memory, reconcile_once, to_ask
from hub.domain.decision import Stage

NOW = datetime(2026, 11, 11, 3, tzinfo=UTC)


class Ledger:
    def __init__(self, views) -> None:
        self.views, self.recorded = views, []

    async def reconcile_candidates(self, sample):
        return self.views[:sample]

    async def record_stage(self, events, outbox):
        self.recorded.append((list(events), list(outbox)))
        return len(events)


class Wms:
    def __init__(self, stages) -> None:
        self.stages = stages

    async def status_of(self, keys):
        return {tuple(k): self.stages[tuple(k)] for k in keys if tuple(k) in self.stages}


class Market:
    def __init__(self, statuses) -> None:
        self.statuses, self.asked = statuses, []

    async def order_statuses(self, ids):
        self.asked.append(list(ids))
        return {i: self.statuses[i] for i in ids if i in self.statuses}


def view(n: int, stage: str, status: str = "paid") -> dict:
    # ``marketplace_status`` is the ledger's copy: the round must not use it
    return {"key": ("tmall", "s", f"T{n}"), "marketplace_status": status, "stage": stage}


def rounds(ledger, wms, markets, memory, walls, **kw):
    return [asyncio.run(reconcile_once(ledger, wms, markets, memory, now=NOW, wall=w,
                                       settle_wall_s=5, **kw)) for w in walls]


def test_a_cancelled_order_the_wms_shipped_is_raised_with_an_alert_once_it_lasts() -> None:
    key = ("tmall", "s", "T1")
    ledger = Ledger([view(1, Stage.SHIPPED, status="paid")])  # the hub never saw the cancel
    market = Market({"T1": "cancelled"})
    memory = Memory()
    first, second, third = rounds(ledger, Wms({key: "shipped"}), {("tmall", "s"): market},
                                  memory, [0.0, 10.0, 20.0])
    assert first.found == [] and third.found == []  # once
    [found] = second.found
    assert (found["reason"], found["marketplace"]) == ("shipped_after_cancel", "cancelled")
    [(events, alerts)] = ledger.recorded
    assert [e.stage for e in events] == [Stage.SHIPPED_AFTER_CANCEL]
    assert alerts[0].payload["group"] == "cs-orders"
    assert alerts[0].payload["reasons"] == ["shipped_after_cancel"]


def test_the_ledgers_copy_of_the_status_is_not_the_marketplaces() -> None:
    key = ("tmall", "s", "T2")
    ledger = Ledger([view(2, Stage.SHIPPED, status="cancelled")])  # stale copy says cancelled
    market = Market({"T2": "shipped"})  # the marketplace says shipped: all is well
    memory = Memory()
    done = rounds(ledger, Wms({key: "shipped"}), {("tmall", "s"): market}, memory,
                  [0.0, 10.0])
    assert [d.found for d in done] == [[], []] and ledger.recorded == []
    assert market.asked == [["T2"], ["T2"]]


def test_the_new_stages_raise_no_false_mismatch() -> None:
    views = [view(3, Stage.INTERCEPTED, "cancelled"), view(4, Stage.DISPATCHED),
             view(5, Stage.INTERCEPT_TOO_LATE, "cancelled"), view(6, Stage.DISPATCH_FAILED),
             view(7, Stage.SHIPPED_AFTER_CANCEL, "cancelled")]
    wms = Wms({("tmall", "s", "T3"): "intercepted", ("tmall", "s", "T4"): "picked",
               ("tmall", "s", "T5"): "shipped", ("tmall", "s", "T7"): "shipped"})
    market = Market({"T3": "cancelled", "T4": "paid", "T5": "cancelled", "T6": "paid",
                     "T7": "cancelled"})  # T4: the amended order is where the WMS has it
    ledger = Ledger(views)
    memory = Memory()
    done = rounds(ledger, wms, {("tmall", "s"): market}, memory, [0.0, 10.0, 20.0])
    # T4's picked is the WMS ahead of the ledger: a plain lag, raised only if it lasts
    assert [f["key"][2] for d in done for f in d.found] == ["T4"]


def test_a_disagreement_that_goes_away_is_never_raised() -> None:
    key = ("tmall", "s", "T8")
    ledger = Ledger([view(8, Stage.DISPATCHED)])
    wms = Wms({key: "packed"})
    memory = Memory()
    rounds(ledger, wms, {}, memory, [0.0])
    ledger.views = [view(8, Stage.PACKED)]  # the status feed caught up
    assert [d.found for d in rounds(ledger, wms, {}, memory, [10.0, 20.0])] == [[], []]


def test_a_client_for_every_shop_of_a_channel_is_asked_for_each_shop() -> None:
    ledger = Ledger([view(1, Stage.DISPATCHED), {"key": ("tmall", "other", "T9"),
                                                 "marketplace_status": "paid",
                                                 "stage": Stage.DISPATCHED}])
    market = Market({"T1": "paid", "T9": "paid"})
    [done] = rounds(ledger, Wms({}), {("tmall", ""): market}, Memory(), [0.0])
    assert sorted(market.asked) == [["T1"], ["T9"]] and (done.asked, done.answered) == (2, 2)


def test_the_budget_asks_the_shipped_first_then_the_longest_unasked() -> None:
    views = [view(n, Stage.DISPATCHED) for n in range(10)]
    wms = {("tmall", "s", "T7"): "shipped", ("tmall", "s", "T3"): "packed"}
    memory = Memory(asked={("tmall", "s", "T0"): 5.0, ("tmall", "s", "T1"): 1.0})
    plan = to_ask(views, wms, memory, budget=4)
    assert [k[2] for k in plan[("tmall", "s")]] == ["T7", "T3", "T2", "T4"]


def test_a_round_within_budget_covers_every_order_over_rounds() -> None:
    ledger = Ledger([view(n, Stage.DISPATCHED) for n in range(5)])
    market = Market({})
    memory = Memory()
    rounds(ledger, Wms({}), {("tmall", "s"): market}, memory, [0.0, 1.0, 2.0], budget=2)
    assert sorted(i for ids in market.asked for i in ids) == [
        "T0", "T0", "T1", "T2", "T3", "T4"]
