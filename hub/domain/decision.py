"""What the hub decides about one version of one order, and the stages it records.

``Anomaly`` and ``Decision`` are frozen ``msgspec.Struct``s rather than frozen dataclasses,
for speed: the router makes one ``Decision`` per order (and an ``Anomaly`` per finding),
and a Struct is built in C from positional arguments in ~0.1 us where the frozen
dataclass's ``__init__`` took ~2.8 us (its per-field ``object.__setattr__``). They are not
tracked by the cyclic GC (``gc=False``: they hold no reference cycles). Fields, keyword
construction, equality, ``repr``, pickling and ``to_dict`` / ``from_dict`` are as before.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Lane(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Reason(StrEnum):
    """Anomaly reason codes; a hold's ``hold_reason`` is one of these."""

    INCOMPLETE_ADDRESS = "incomplete_address"
    REMOTE_STANDARD_EXPRESS = "remote_standard_express"
    OUT_OF_STOCK_PAID = "out_of_stock_paid"
    UNMAPPED_SKU = "unmapped_sku"  # a line the catalogue maps to no merchant SKU
    PAYMENT_MISMATCH = "payment_mismatch"
    DUPLICATE_ORDER = "duplicate_order"
    INVALID_PHONE = "invalid_phone"
    RECONCILE_MISMATCH = "reconcile_mismatch"
    RULE_HOLD = "rule_hold"
    INTERCEPT_TOO_LATE = "intercept_too_late"  # the WMS had packed or shipped it already
    DISPATCH_FAILED = "dispatch_failed"  # the WMS refused the dispatch at every try
    SHIPPED_AFTER_CANCEL = "shipped_after_cancel"  # the marketplace cancelled, the WMS shipped


class Stage(StrEnum):
    RECEIVED = "received"
    VALIDATED = "validated"
    SCORED = "scored"
    ROUTED = "routed"
    HELD = "held"
    RELEASED = "released"
    AUTO_REMEDIED = "auto_remedied"
    DISPATCHED = "dispatched"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    INTERCEPTED = "intercepted"  # the WMS stopped it before packing (a cancellation)
    AMENDED = "amended"  # the WMS took a later version's address or lines before packing
    RECONCILE_MISMATCH = "reconcile_mismatch"
    INTERCEPT_TOO_LATE = "intercept_too_late"  # an anomaly: customer service must act
    DISPATCH_FAILED = "dispatch_failed"  # dead-lettered: the WMS refused it at every try
    SHIPPED_AFTER_CANCEL = "shipped_after_cancel"  # an anomaly found by the reconciler


# ``Decision.extra`` key of a decision that decides a held order version again (its value:
# the hold's reason, e.g. ``unmapped_sku`` once the catalogue maps the line): the ledger
# stores it although that version was decided, if the order is still held.
REDECIDES = "redecides"


class Anomaly(msgspec.Struct, frozen=True, gc=False):
    code: str  # a Reason value
    severity: str  # "info" | "warn" | "critical"
    group: str  # the responsible group to alert, e.g. "cs-address"
    detail: str = ""


class Decision(msgspec.Struct, frozen=True, gc=False):
    """One routing decision. ``version`` is the order's modified time (ISO 8601)."""

    channel: str
    shop: str
    order_id: str
    version: str
    lane: str
    score: float
    breakdown: dict[str, float]
    packing_group: str
    anomalies: tuple[Anomaly, ...] = ()
    hold_reason: str | None = None
    remedies: tuple[str, ...] = ()
    delivery: str = "standard"
    alert_groups: tuple[str, ...] = ()
    rules_fired: tuple[str, ...] = ()
    ruleset_version: int = 0
    extra: dict[str, str] = {}  # a new empty dict per Decision (msgspec copies it)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.channel, self.shop, self.order_id)

    @property
    def held(self) -> bool:
        return self.hold_reason is not None

    def to_dict(self) -> dict:
        """Every field, the anomalies as dicts, the containers copied (as
        ``dataclasses.asdict`` gave it)."""
        data = {name: getattr(self, name) for name in self.__struct_fields__}
        data["anomalies"] = tuple(
            {"code": a.code, "severity": a.severity, "group": a.group, "detail": a.detail}
            for a in self.anomalies)
        data["breakdown"], data["extra"] = dict(self.breakdown), dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Decision:
        data = dict(data)
        data["anomalies"] = tuple(Anomaly(**a) for a in data.get("anomalies", ()))
        for name in ("remedies", "alert_groups", "rules_fired"):
            data[name] = tuple(data.get(name, ()))
        return cls(**data)
