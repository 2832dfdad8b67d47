"""A small ledger for the API and browser tests: five orders decided by the real domain
core under the default rules, with stage times set by a manual clock.

    t0        all five received
    t0+2 s    decided: "shipped" P3, "fast" P0 (vip-same-city-fast), "held" P3 held for
              incomplete_address, "open" P3 routed, "douyin" P3 routed
    t0+10     shipped: dispatched   t0+12 fast: dispatched
    t0+15     fast: picked
    t0+30     shipped: picked       t0+60 shipped: packed     t0+100 shipped: shipped SF1000001
    now = t0+120
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hub.clock import ManualClock
from hub.domain.order import Buyer, Order, Receiver
from hub.domain.outbox import outbox_for
from hub.domain.routing import decide
from hub.domain.rules import default_ruleset
from hub.ledger import StageEvent
from tests.factories import T0, order

TRACKING = "SF1000001"
PHONES = {"shipped": "13900001111", "fast": "13900002222", "held": "13900003333",
          "open": "13900004444", "douyin": "13900005555"}


def _receiver(phone: str, **changes: str) -> Receiver:
    fields = {"name": "张三", "phone": phone, "province": "浙江省", "city": "杭州市",
              "district": "西湖区", "street": "西溪街道", "detail": "文三路100号5幢301室"}
    return Receiver(**{**fields, **changes})


def orders() -> dict[str, Order]:
    return {
        "shipped": order(1, receiver=_receiver(PHONES["shipped"])),
        "fast": order(2, order_type="live_flash", delivery="same_city",
                      buyer=Buyer(id="buyer-2", tier="plus"),
                      receiver=_receiver(PHONES["fast"])),
        "held": order(3, receiver=_receiver(PHONES["held"], district="")),
        "open": order(4, receiver=_receiver(PHONES["open"])),
        "douyin": order(5, channel="douyin", order_id="D200005",
                        receiver=_receiver(PHONES["douyin"])),
    }


@dataclass
class Seeded:
    ledger: Any
    clock: ManualClock
    orders: dict[str, Order]
    t0: Any


def seed(ledger: Any, clock: ManualClock | None = None) -> Seeded:
    clock = clock or ManualClock(T0 + timedelta(minutes=5))
    t0 = clock.now()
    rules = default_ruleset()
    ledger.publish_ruleset(rules.version, rules.text, "default", t0)
    named = orders()
    batch = list(named.values())
    for one in batch:  # one by one: stored in this order, so "the last N" is well defined
        ledger.ingest([one], at=t0)
    decisions = decide(batch, {}, [], rules)
    ledger.commit_decisions(decisions, outbox_for(batch, decisions), at=t0 + timedelta(seconds=2))

    def stage(name: str, what: str, after_s: float, tracking: str | None = None) -> None:
        ledger.record_stage([StageEvent(key=named[name].key, stage=what,
                                        at=t0 + timedelta(seconds=after_s),
                                        tracking_no=tracking)])

    stage("shipped", "dispatched", 10)
    stage("fast", "dispatched", 12)
    stage("fast", "picked", 15)
    stage("shipped", "picked", 30)
    stage("shipped", "packed", 60)
    stage("shipped", "shipped", 100, TRACKING)
    clock.advance(120)
    return Seeded(ledger, clock, named, t0)
