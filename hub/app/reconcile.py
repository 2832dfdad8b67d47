"""One reconciliation round: the ledger's orders in flight, the marketplaces' current
status of them (asked fresh, per shop, at most ``budget`` orders a shop a round: their
quotas are shared with the pull), the WMS's stage, compared by
:func:`hub.domain.reconcile.finding`.

A disagreement is raised only when it is still there the next round and has lasted
``settle_wall_s`` of real time (the WMS's status feed and the ledger race each other),
and once per order and reason. A ``reconcile_mismatch`` is a stage event; a
``shipped_after_cancel`` is a stage event and an alert to customer service.

The orders the marketplaces are asked about first are those the WMS has shipped or
packed (where a cancellation would be too late), then the rest, oldest question first:
a shop whose in-flight orders exceed its budget is covered over several rounds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from hub.app.records import OrderKey, StageEvent
from hub.domain.decision import Reason, Stage
from hub.domain.outbox import CS_GROUP, DINGTALK, OutboxMessage, ident
from hub.domain.reconcile import Finding, finding

MARKET_BUDGET = 200  # orders asked of one shop's marketplace per round
NEVER = float("-inf")  # when an order never asked about was asked
TODO = "recall the parcel (courier interception / return to sender) and refund the buyer"


class ReconcileLedger(Protocol):
    async def reconcile_candidates(self, sample: int) -> list[dict[str, Any]]: ...

    async def record_stage(self, events: Sequence[StageEvent],
                           outbox: Sequence[OutboxMessage]) -> int: ...


class WmsLookup(Protocol):
    async def status_of(self, keys: Sequence[Sequence[str]]) -> dict[OrderKey, str]: ...


class StatusLookup(Protocol):
    """One shop's marketplace: the current status of each order id it knows (ids it does
    not know are left out; when its quota runs out, what it got so far)."""

    async def order_statuses(self, order_ids: Sequence[str]) -> dict[str, str]: ...


@dataclass
class Memory:
    """What a reconciler remembers between rounds."""

    suspects: dict[OrderKey, tuple[str, float]] = field(default_factory=dict)
    raised: set[tuple[OrderKey, str]] = field(default_factory=set)
    asked: dict[OrderKey, float] = field(default_factory=dict)  # when last asked (wall s)


@dataclass
class Round:
    found: list[dict[str, Any]] = field(default_factory=list)
    asked: int = 0  # orders whose marketplace status was asked
    answered: int = 0


def to_ask(views: Sequence[Mapping[str, Any]], wms: Mapping[OrderKey, str],
           memory: Memory, budget: int) -> dict[tuple[str, str], list[OrderKey]]:
    """Per (channel, shop), the orders to ask its marketplace about this round."""
    by_shop: dict[tuple[str, str], list[OrderKey]] = defaultdict(list)
    for view in views:
        key = tuple(view["key"])
        by_shop[(key[0], key[1])].append(key)  # type: ignore[arg-type]
    urgent = {Stage.SHIPPED: 0, Stage.PACKED: 1}
    for keys in by_shop.values():
        keys.sort(key=lambda k: (urgent.get(wms.get(k), 2),  # type: ignore[arg-type]
                                 memory.asked.get(k, NEVER)))
        del keys[budget:]
    return by_shop


def market_for(markets: Mapping[tuple[str, str], StatusLookup], channel: str,
               shop: str) -> StatusLookup | None:
    """The shop's marketplace client, else the channel's that sees every shop (shop "")."""
    return markets.get((channel, shop)) or markets.get((channel, ""))


async def market_statuses(plan: Mapping[tuple[str, str], Sequence[OrderKey]],
                          markets: Mapping[tuple[str, str], StatusLookup]
                          ) -> dict[OrderKey, str]:
    out: dict[OrderKey, str] = {}
    for (channel, shop), keys in plan.items():
        market = market_for(markets, channel, shop)
        if market is None or not keys:
            continue
        got = await market.order_statuses([k[2] for k in keys])
        out.update({(channel, shop, oid): str(status) for oid, status in got.items()})
    return out


def shipped_after_cancel_alert(key: OrderKey, detail: str) -> OutboxMessage:
    return OutboxMessage(
        destination=DINGTALK, key=f"alert:{CS_GROUP}:{ident(key)}:shipped_after_cancel",
        payload={"group": CS_GROUP, "channel": key[0], "shop": key[1], "order_id": key[2],
                 "hold_reason": Reason.SHIPPED_AFTER_CANCEL.value,
                 "reasons": [Reason.SHIPPED_AFTER_CANCEL.value], "details": [detail],
                 "todo": TODO},
        order_key=key)


def judge(views: Sequence[Mapping[str, Any]], market: Mapping[OrderKey, str],
          wms: Mapping[OrderKey, str], memory: Memory, wall: float,
          settle_wall_s: float) -> list[dict[str, Any]]:
    """The findings to raise now; ``memory`` moves on to this round."""
    raised = []
    suspects: dict[OrderKey, tuple[str, float]] = {}
    for view in views:
        key: OrderKey = tuple(view["key"])  # type: ignore[assignment]
        status = market.get(key)
        found: Finding | None = finding(status, wms.get(key), view["stage"])
        if found is None:
            continue
        before, since = memory.suspects.get(key, (None, wall))
        suspects[key] = (found.detail, since if before == found.detail else wall)
        if (before == found.detail and wall - since >= settle_wall_s
                and (key, found.detail) not in memory.raised):
            memory.raised.add((key, found.detail))
            raised.append({"key": key, "reason": found.reason.value, "detail": found.detail,
                           "marketplace": status, "wms": wms.get(key),
                           "ledger": view["stage"]})
    memory.suspects = suspects
    return raised


def events_of(found: Sequence[Mapping[str, Any]], now: datetime
              ) -> tuple[list[StageEvent], list[OutboxMessage]]:
    events, alerts = [], []
    for f in found:
        detail = {"reason": f["detail"], "marketplace": str(f["marketplace"]),
                  "wms": str(f["wms"]), "ledger": str(f["ledger"])}
        if f["reason"] == Reason.SHIPPED_AFTER_CANCEL:
            events.append(StageEvent(f["key"], Stage.SHIPPED_AFTER_CANCEL, now,
                                     detail | {"todo": TODO}))
            alerts.append(shipped_after_cancel_alert(f["key"], f["detail"]))
        else:
            events.append(StageEvent(f["key"], Stage.RECONCILE_MISMATCH, now, detail))
    return events, alerts


async def reconcile_once(ledger: ReconcileLedger, wms: WmsLookup,
                         markets: Mapping[tuple[str, str], StatusLookup], memory: Memory, *,
                         now: datetime, wall: float, sample: int = 2000,
                         budget: int = MARKET_BUDGET, settle_wall_s: float = 10.0) -> Round:
    """One round (see the module's text); ``wall`` is a monotonic wall-clock reading."""
    out = Round()
    views = await ledger.reconcile_candidates(sample)
    if not views:
        return out
    keys = [tuple(v["key"]) for v in views]
    wms_status = await wms.status_of(keys)
    plan = to_ask(views, wms_status, memory, budget)
    market = await market_statuses(plan, markets)
    for shop_keys in plan.values():
        for key in shop_keys:
            memory.asked[key] = wall
    memory.asked = {k: memory.asked[k] for k in keys if k in memory.asked}
    out.asked = sum(len(v) for (c, s), v in plan.items() if market_for(markets, c, s))
    out.answered = len(market)
    out.found = judge(views, market, wms_status, memory, wall, settle_wall_s)
    if out.found:
        events, alerts = events_of(out.found, now)
        await ledger.record_stage(events, alerts)
    return out
