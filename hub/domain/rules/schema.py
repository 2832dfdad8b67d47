"""The shape of a rule file: pydantic models for its settings, and the order facts a
condition may name. Condition trees are checked in ``conditions.py`` because the type a
value must have depends on the fact it is compared with."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.domain.decision import Lane, Reason
from hub.domain.order import Channel, DeliveryService, OrderStatus, OrderType

TEXT, NUMBER, TAGS = "text", "number", "tags"

# The flat dict a rule sees (built once per order by hub.domain.facts): name -> kind.
FACT_KINDS: dict[str, str] = {
    "channel": TEXT, "shop": TEXT, "order_id": TEXT, "status": TEXT, "order_type": TEXT,
    "source": TEXT, "source_detail": TEXT, "delivery": TEXT, "warehouse_hint": TEXT,
    "buyer.id": TEXT, "buyer.tier": TEXT, "buyer.tags": TAGS,
    "receiver.province": TEXT, "receiver.city": TEXT, "receiver.district": TEXT,
    "amounts.total_fen": NUMBER, "amounts.paid_fen": NUMBER, "amounts.discount_fen": NUMBER,
    "amounts.freight_fen": NUMBER, "items.count": NUMBER, "items.quantity": NUMBER,
    "items.skus": TAGS, "score": NUMBER, "lane": TEXT, "anomalies": TAGS, "hour": NUMBER,
}

# Facts whose values come from a closed list: a value outside it is a typo.
FACT_VALUES: dict[str, frozenset[str]] = {
    "channel": frozenset(Channel),
    "status": frozenset(OrderStatus),
    "order_type": frozenset(OrderType),
    "delivery": frozenset(DeliveryService),
    "lane": frozenset(Lane),
    "anomalies": frozenset(Reason),
}

LaneName = Literal["P0", "P1", "P2", "P3"]
DeliveryName = Literal["standard", "express", "same_city"]
ReasonCode = Literal[
    "incomplete_address", "remote_standard_express", "out_of_stock_paid", "payment_mismatch",
    "unmapped_sku",
    "duplicate_order", "invalid_phone", "reconcile_mismatch", "rule_hold",
    "intercept_too_late",
    "dispatch_failed", "shipped_after_cancel",
]
Name = Annotated[str, Field(min_length=1)]
Score = Annotated[float, Field(ge=0, le=100)]
Weight = Annotated[float, Field(ge=0, le=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Weights(Strict):
    order_type: Weight = 0.35
    customer_tier: Weight = 0.30
    region: Weight = 0.25
    inventory: Weight = 0.10

    @model_validator(mode="after")
    def _sum_to_one(self) -> Weights:
        total = self.order_type + self.customer_tier + self.region + self.inventory
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1, they sum to {total:g}")
        return self


def _needs(table: dict[str, float], keys: tuple[str, ...], what: str) -> dict[str, float]:
    missing = [k for k in keys if k not in table]
    if missing:
        raise ValueError(f"{what} needs an entry for {', '.join(missing)}")
    return table


class Scores(Strict):
    order_type: dict[Literal["normal", "presale_deposit", "presale_final", "live_flash", "gift",
                             "default"], Score] = {
        "live_flash": 100, "presale_final": 90, "normal": 40, "gift": 30,
        "presale_deposit": 20, "default": 40}
    customer_tier: dict[Name, Score] = {"plus": 100, "svip": 100, "vip": 70, "normal": 30,
                                        "default": 30}
    region: dict[Literal["same_city", "express", "remote", "default"], Score] = {
        "same_city": 100, "express": 70, "remote": 20, "default": 40}
    inventory: dict[Literal["low", "in_stock", "unknown", "out"], Score] = {
        "low": 100, "in_stock": 60, "unknown": 50, "out": 0}

    @model_validator(mode="after")
    def _complete(self) -> Scores:
        _needs(self.order_type, ("default",), "scores.order_type")
        _needs(self.customer_tier, ("default",), "scores.customer_tier")
        _needs(self.region, ("default",), "scores.region")
        _needs(self.inventory, ("low", "in_stock", "unknown", "out"), "scores.inventory")
        return self


class Lanes(Strict):
    """Minimum score per lane; below P2 is P3."""

    P0: Score = 80
    P1: Score = 60
    P2: Score = 40

    @model_validator(mode="after")
    def _descending(self) -> Lanes:
        if not self.P0 > self.P1 > self.P2:
            raise ValueError("lane thresholds must fall strictly: P0 > P1 > P2")
        return self


class RemoteRemedy(Strict):
    delivery: DeliveryName = "express"
    carrier: Name = "EMS"


class AnomalyPolicyModel(Strict):
    severity: Literal["info", "warn", "critical"]
    group: Name
    action: Literal["hold", "remedy", "alert"]


class Actions(Strict):
    lane: LaneName | None = None
    packing_group: Name | None = None
    hold: Name | None = None
    alert: Name | None = None
    delivery: DeliveryName | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Actions:
        if not self.model_dump(exclude_none=True):
            raise ValueError("`then` needs at least one action: "
                             "lane, packing_group, hold, alert or delivery")
        return self


class RuleModel(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=80)]
    precedence: Annotated[int, Field(ge=0)]
    description: str = ""
    when: Any = None  # checked by conditions.parse_condition
    then: Actions


DEFAULT_ANOMALIES: dict[str, dict[str, str]] = {
    "incomplete_address": {"severity": "warn", "group": "cs-address", "action": "hold"},
    "remote_standard_express": {"severity": "info", "group": "logistics", "action": "remedy"},
    "out_of_stock_paid": {"severity": "critical", "group": "supply", "action": "hold"},
    "unmapped_sku": {"severity": "warn", "group": "merchandising", "action": "hold"},
    "payment_mismatch": {"severity": "critical", "group": "finance", "action": "hold"},
    "duplicate_order": {"severity": "warn", "group": "cs-orders", "action": "hold"},
    "invalid_phone": {"severity": "warn", "group": "cs-address", "action": "hold"},
    "reconcile_mismatch": {"severity": "warn", "group": "cs-orders", "action": "alert"},
    "rule_hold": {"severity": "warn", "group": "cs-orders", "action": "hold"},
    "intercept_too_late": {"severity": "critical", "group": "cs-orders", "action": "alert"},
    "dispatch_failed": {"severity": "critical", "group": "warehouse", "action": "alert"},
    "shipped_after_cancel": {"severity": "critical", "group": "cs-orders", "action": "alert"},
}


class RuleFile(Strict):
    version: Annotated[int, Field(ge=1)]
    name: Name
    description: str = ""
    hit_policy: Literal["first", "collect"] = "first"
    weights: Weights = Weights()
    scores: Scores = Scores()
    lanes: Lanes = Lanes()
    low_stock: Annotated[int, Field(ge=0)] = 20
    remote_regions: Annotated[list[Name], Field(min_length=1)] = [
        "新疆", "西藏", "青海", "内蒙古", "甘肃", "宁夏"]
    remote_remedy: RemoteRemedy = RemoteRemedy()
    duplicate_window_minutes: Annotated[int, Field(gt=0)] = 30
    anomalies: dict[ReasonCode, AnomalyPolicyModel] = {}
    rules: list[Any] = []  # each checked on its own as a RuleModel
