"""The rehearsal's verdict from outside: what the warehouse shipped against what the
buyer wanted. Pure functions over the trace's events (the buyer's side and the planted
truth) and the emulators' records (``records/<name>.json``); the hub's ledger is never
read here and no hub logic is imported.

Definitions (counts of marketplace orders; times are business times):

- *owed*: the order reached a paid state in a version that is not a bare presale
  deposit (``paid``, or the ``presale_final`` payment); ``paid_at`` is that moment.
- *reached the WMS*: the WMS holds a warehouse order for it (``accepted_at``).
- *named*: an accepted DingTalk message lists it (``- {channel} {order_id} (...)``).
- ``lost``: owed, never cancelled, no planted anomaly, never reached the WMS and never
  named in an alert (a hold no person was told of looks lost to the merchant).
- ``shipped_twice``: two shipments, or two warehouse orders not intercepted.
- ``avoidable_shipped_after_cancel``: cancelled at the marketplace more than ``notice_s``
  before the WMS packed it (intercept and amend work until packing) and shipped anyway;
  cancelled after packing: ``unavoidable_shipped_after_cancel``; cancelled before packing
  but within ``notice_s`` of it: ``within_notice_shipped_after_cancel``. ``notice_s`` is
  the least time the hub needs to learn of a change and act on it: the rehearsal passes
  two pull intervals in pull mode (the change shows at the next pull, and acting takes
  the hub's own time, which a speed-up stretches in business time), and one wall second
  at the speed-up in push mode.
- ``stale_address``: shipped to another address than the one in force when it was
  packed, the buyer having changed it before then (compared on the receiver fields the
  shipment carries; shipments without any are counted ``address_unchecked``).
- ``wrong_items``: the shipped lines (summed per merchant SKU) differ from the paid
  lines in force when it was packed (a line refunded before packing counts here), both
  expanded by ``bundles``: the verdict's own copy of the catalogue, platform SKU id ->
  ((merchant sku, quantity), ...) (``Scenario.expansions()``; a SKU not in it counts as
  itself), so a bundle or a multi-pack paid once is its components shipped.
- ``held_clean``: a clean owed order, not cancelled, that reached the WMS more than
  ``hold_after_s`` after payment, or never reached it but was named in an alert (a
  false hold); with how long (payment to WMS, or to the end of the records).
- ``alerts_refused``: messages the robot refused (any errcode).
- ``late``: owed orders in the warehouse shipped after ``paid_at`` + the promise, or
  unshipped once it passed by the end of the records; by lane (the WMS order's) and by
  order type. ``on_time`` shares are on_time / (on_time + late).
- ``complaint_risk``: orders with any of the per-order figures above / paid orders.
- anomalies: an order is *flagged* when named in an alert, or owed and not cancelled but
  never dispatched, or dispatched with another delivery service than the buyer chose
  (the hub's own remedy); compared with the planted truth. ``hard_negatives``: the odd but
  clean orders. Detection delay: observable -> first accepted alert naming the order.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from sim.stock import stock_outs

PAID_STATES = ("paid", "partially_shipped", "shipped", "finished")
RECEIVER_FIELDS = ("name", "phone", "province", "city", "district", "street", "detail")
CASE_COMPLAINTS = {"before": 0.056, "after": 0.012}
HARD_FIGURES = ("lost", "shipped_twice", "avoidable_shipped_after_cancel", "stale_address",
                "wrong_items")
PER_ORDER = (*HARD_FIGURES, "unavoidable_shipped_after_cancel",
             "within_notice_shipped_after_cancel", "held_clean", "late")
ALERT_LINE = re.compile(r"^\s*[-*]\s+(\S+)\s+(\S+)\s+\(", re.MULTILINE)
EXAMPLES = 5
STOCK_SLACK_S = 600.0  # how long before the ERP ran out a hold for stock still counts
Key = tuple[str, str, str]
Promise = Callable[[str, str], float]  # (order_type, delivery) -> hours after payment


def stats(values: Iterable[float]) -> dict[str, float | None]:
    arr = np.asarray(list(values), dtype=float)
    if not arr.size:
        return {"mean": None, "p50": None, "p95": None, "p99": None, "max": None, "n": 0}
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {"mean": round(float(arr.mean()), 3), "p50": round(float(p50), 3),
            "p95": round(float(p95), 3), "p99": round(float(p99), 3),
            "max": round(float(arr.max()), 3), "n": int(arr.size)}


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# -- the buyer's side, from the trace ---------------------------------------------------------
@dataclass
class Version:
    at: datetime
    status: str
    receiver: dict[str, str]
    items: Counter


@dataclass
class Intent:
    """One marketplace order as the buyer saw it (the trace)."""

    key: Key
    order_type: str = "normal"
    delivery: str = "standard"
    created_at: datetime | None = None
    paid_at: datetime | None = None  # owed from then (not a bare presale deposit)
    ever_paid: bool = False
    cancelled_at: datetime | None = None
    truth: set[str] = field(default_factory=set)
    observable: dict[str, float] = field(default_factory=dict)
    odd: tuple[str, ...] = ()
    versions: list[Version] = field(default_factory=list)

    def at(self, moment: datetime) -> Version:
        """The version in force at ``moment`` (the first one if none yet)."""
        found = self.versions[0]
        for version in self.versions:
            if version.at > moment:
                break
            found = version
        return found

    def paid_version(self, moment: datetime) -> Version | None:
        """The last paid-state version at or before ``moment``."""
        found = None
        for version in self.versions:
            if version.at > moment:
                break
            if version.status in PAID_STATES:
                found = version
        return found


def _lines(items: Iterable[Any], bundles: Mapping[str, Any]) -> Counter:
    out: Counter = Counter()
    for item in items:
        sku = item["sku"] if isinstance(item, dict) else item.sku
        quantity = int(item["quantity"] if isinstance(item, dict) else item.quantity)
        for part_sku, part_qty in bundles.get(sku, ((sku, 1),)):
            out[part_sku] += part_qty * quantity
    return out


def intents(events: Iterable[Any], origin: datetime,
            bundles: Mapping[str, Any] | None = None) -> dict[Key, Intent]:
    """The buyer's intent per order from the trace's events (``sim.trace.TraceEvent``, or
    anything with ``at``, ``kind``, ``order``, ``truth`` and optional ``observable``,
    ``odd``)."""
    bundles = bundles or {}
    out: dict[Key, Intent] = {}
    for event in events:
        order = getattr(event, "order", None)
        if order is None:
            continue
        at = origin + timedelta(seconds=float(event.at))
        intent = out.get(order.key)
        if intent is None:
            intent = out[order.key] = Intent(order.key, created_at=at)
        status = str(order.status.value if hasattr(order.status, "value") else order.status)
        order_type = str(getattr(order.order_type, "value", order.order_type))
        intent.order_type = order_type
        intent.delivery = str(getattr(order.delivery, "value", order.delivery))
        intent.truth |= set(getattr(event, "truth", ()) or ())
        intent.observable.update(getattr(event, "observable", None) or {})
        intent.odd = tuple(getattr(event, "odd", None) or ()) or intent.odd
        if status in PAID_STATES:
            intent.ever_paid = True
            if intent.paid_at is None and order_type != "presale_deposit":
                intent.paid_at = at
        if status == "cancelled" and intent.cancelled_at is None:
            intent.cancelled_at = at
        intent.versions.append(Version(at, status, order.receiver.model_dump(),
                                       _lines(order.items, bundles)))
    return out


# -- the outside records -----------------------------------------------------------------------
def _key(record: Mapping[str, Any]) -> Key:
    return (record["channel"], record.get("shop", ""), record["order_id"])


@dataclass
class Alert:
    at: datetime
    accepted: bool
    orders: list[tuple[str, str]]  # (channel, order_id) named
    errcode: Any = None


def alerts(dingtalk: Mapping[str, Any] | None,
           clock: Callable[[str], datetime] = datetime.fromisoformat) -> list[Alert]:
    """Every message the robot received; ``clock`` turns its ``at`` into business time."""
    out = []
    for message in (dingtalk or {}).get("messages", []):
        named = ALERT_LINE.findall(message.get("text") or "")
        out.append(Alert(clock(message["at"]), bool(message.get("accepted", True)), named,
                         message.get("errcode")))
    return out


@dataclass
class Warehouse:
    """What the WMS did per marketplace order."""

    orders: dict[Key, list[dict]] = field(default_factory=lambda: defaultdict(list))
    shipments: dict[Key, list[dict]] = field(default_factory=lambda: defaultdict(list))
    end: datetime | None = None  # the latest time the records show


def warehouse(wms: Mapping[str, Any] | None) -> Warehouse:
    out = Warehouse()
    stamps: list[datetime] = []
    for order in (wms or {}).get("orders", []):
        out.orders[_key(order)].append(order)
        stamps += [t for k in ("accepted_at", "picked_at", "packed_at", "shipped_at",
                               "intercepted_at") if (t := when(order.get(k)))]
    for shipment in (wms or {}).get("shipments", []):
        out.shipments[_key(shipment)].append(shipment)
    stamps += [t for r in (wms or {}).get("requests", []) if (t := when(r.get("at")))]
    out.end = max(stamps) if stamps else None
    return out


def reached_at(orders: list[dict]) -> datetime | None:
    times = [t for o in orders if (t := when(o.get("accepted_at")))]
    return min(times) if times else None


def packed_at(order: dict) -> datetime | None:
    """When the WMS could no longer stop or change it (packed; shipped if no packing)."""
    return when(order.get("packed_at")) or when(order.get("shipped_at"))


# -- the verdict -----------------------------------------------------------------------------
def _named(alert_list: list[Alert], intent_by: dict[tuple[str, str], Key]) -> dict[Key, datetime]:
    first: dict[Key, datetime] = {}
    for alert in alert_list:
        if not alert.accepted:
            continue
        for channel, order_id in alert.orders:
            key = intent_by.get((channel, order_id))
            if key is not None and (key not in first or alert.at < first[key]):
                first[key] = alert.at
    return first


def _address_differs(shipped: Mapping[str, Any], wanted: Mapping[str, str]) -> bool | None:
    carried = [f for f in RECEIVER_FIELDS if shipped.get(f)]
    if not carried:
        return None
    return any(str(shipped[f]).strip() != str(wanted.get(f, "")).strip() for f in carried)


@dataclass
class Outside:
    """The trace's buyers and the records, parsed once."""

    buyers: dict[Key, Intent]
    wms: Warehouse
    alerts: list[Alert]
    named: dict[Key, datetime]  # first accepted alert naming each order
    origin: datetime
    end: datetime  # the latest time the records show
    bundles: Mapping[str, Any] = field(default_factory=dict)  # sku id -> ((sku, qty), ...)
    stock_out: dict[str, datetime] = field(default_factory=dict)  # sku -> when it ran out

    @classmethod
    def read(cls, events: Iterable[Any], records: Mapping[str, Any], *, origin: datetime,
             alert_clock: Callable[[str], datetime] = datetime.fromisoformat,
             bundles: Mapping[str, Any] | None = None,
             stock: Mapping[str, int] | None = None) -> Outside:
        buyers = intents(events, origin, bundles)
        wms = warehouse(records.get("wms"))
        sent = alerts(records.get("dingtalk"), alert_clock)
        named = _named(sent, {(k[0], k[2]): k for k in buyers})
        end = max([t for t in (wms.end, *(a.at for a in sent)) if t is not None],
                  default=origin)
        ran_out = stock_outs(stock or {}, records.get("erp"))
        return cls(buyers, wms, sent, named, origin, end, dict(bundles or {}), ran_out)

    def held_for_stock(self, key: Key) -> bool:
        """Never dispatched, and a SKU it needs had run out by then (or did within
        ``STOCK_SLACK_S``: the hub counts stock as it decides, the ERP as it dispatches):
        a hold the warehouse's own stock justifies."""
        buyer = self.buyers[key]
        if buyer.paid_at is None or self.wms.orders.get(key) or not buyer.versions:
            return False
        wanted = buyer.paid_version(buyer.paid_at) or buyer.versions[-1]
        slack = timedelta(seconds=STOCK_SLACK_S)
        return any(sku in self.stock_out and buyer.paid_at + slack >= self.stock_out[sku]
                   for sku in wanted.items)


def judge(outside: Outside, *, promise: Promise, hold_after_s: float = 900.0,
          notice_s: float = 0.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``verdict`` of a run (see the module's docstring for each figure) and the
    series for the report's plot: per lane, (business s since origin shipped or judged
    late, on time?)."""
    buyers, wms, sent, named = outside.buyers, outside.wms, outside.alerts, outside.named
    end, origin = outside.end, outside.origin
    points: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    hit: dict[str, set[Key]] = {name: set() for name in PER_ORDER}
    held_for: list[float] = []
    held_never = address_unchecked = items_unchecked = 0
    late_by: dict[str, dict[str, Counter]] = {"lane": defaultdict(Counter),
                                              "order_type": defaultdict(Counter)}
    for key, buyer in buyers.items():
        mine, shipped = wms.orders.get(key, []), wms.shipments.get(key, [])
        reached = reached_at(mine)
        owed = buyer.paid_at is not None
        cancelled = buyer.cancelled_at
        live = [o for o in mine if not o.get("intercepted_at")]
        if len(shipped) > 1 or len(live) > 1:
            hit["shipped_twice"].add(key)
        if owed and cancelled is None and reached is None and not buyer.truth \
                and key not in named:
            hit["lost"].add(key)
        if owed and not buyer.truth and (cancelled is None or (reached and cancelled > reached)) \
                and not outside.held_for_stock(key):
            if reached is not None:
                waited = (reached - buyer.paid_at).total_seconds()
                if waited > hold_after_s:
                    hit["held_clean"].add(key)
                    held_for.append(waited)
            elif key in named and cancelled is None:
                hit["held_clean"].add(key)
                held_for.append(max((end - buyer.paid_at).total_seconds(), 0.0))
                held_never += 1
        for shipment in shipped[:1]:
            order = next((o for o in mine if o.get("wms_order_no") == shipment.get(
                "wms_order_no")), mine[0] if mine else {})
            stop_by = packed_at(order) or when(shipment.get("shipped_at")) or end
            if cancelled is not None:
                if cancelled >= stop_by:
                    name = "unavoidable"
                elif cancelled + timedelta(seconds=notice_s) >= stop_by:
                    name = "within_notice"
                else:
                    name = "avoidable"
                hit[f"{name}_shipped_after_cancel"].add(key)
                continue
            wanted = buyer.paid_version(stop_by) or buyer.at(stop_by)
            receiver = shipment.get("receiver") or order.get("receiver") or {}
            differs = _address_differs(receiver, wanted.receiver)
            if differs is None:
                address_unchecked += 1
            elif differs and any(v.at <= stop_by and v.receiver != buyer.versions[0].receiver
                                 for v in buyer.versions):
                hit["stale_address"].add(key)
            items = shipment.get("items") or order.get("items")
            if not items:
                items_unchecked += 1
            elif _lines(items, outside.bundles) != wanted.items:
                hit["wrong_items"].add(key)
        if owed and cancelled is None and live:
            lane = live[0].get("lane") or "?"
            due = buyer.paid_at + timedelta(hours=promise(buyer.order_type, buyer.delivery))
            out = when(shipped[0].get("shipped_at")) if shipped else None
            verdict = "on_time" if out is not None and out <= due else \
                "late" if out is not None or end > due else "pending"
            if verdict == "late":
                hit["late"].add(key)
            if verdict != "pending":
                points[lane].append(((min(out or end, end) - origin).total_seconds(),
                                     verdict == "on_time"))
            for axis, value in (("lane", lane), ("order_type", buyer.order_type)):
                late_by[axis][value][verdict] += 1
                late_by[axis]["all"][verdict] += 1
    paid = [k for k, b in buyers.items() if b.ever_paid]
    risky = set().union(*hit.values()) & set(paid)
    refused = [a for a in sent if not a.accepted]
    verdict: dict[str, Any] = {name: len(hit[name]) for name in HARD_FIGURES}
    verdict |= {
        "unavoidable_shipped_after_cancel": len(hit["unavoidable_shipped_after_cancel"]),
        "within_notice_shipped_after_cancel": len(hit["within_notice_shipped_after_cancel"]),
        "notice_s": notice_s,
        "held_clean": {"count": len(hit["held_clean"]), "never_reached_wms": held_never,
                       "hold_after_s": hold_after_s, "held_s": stats(held_for)},
        "alerts_refused": len(refused),
        "alerts_refused_by_errcode": dict(Counter(str(a.errcode) for a in refused)),
        "late": {"count": len(hit["late"]),
                 **{axis: {k: c["late"] for k, c in sorted(v.items())}
                    for axis, v in late_by.items()}},
        "on_time": {axis: {k: _share(c) for k, c in sorted(v.items())}
                    for axis, v in late_by.items()},
        "complaint_risk": round(len(risky) / len(paid), 4) if paid else None,
        "complaint_risk_case": CASE_COMPLAINTS,
        "address_unchecked": address_unchecked, "items_unchecked": items_unchecked,
        "orders": {"generated": len(buyers), "paid": len(paid),
                   "owed": sum(1 for b in buyers.values() if b.paid_at is not None),
                   "reached_wms": sum(1 for k in buyers if wms.orders.get(k)),
                   "shipped": sum(1 for k in buyers if wms.shipments.get(k)),
                   "unknown_to_trace": len(set(wms.orders) - set(buyers))},
        "examples": {name: ["/".join(k) for k in sorted(keys)[:EXAMPLES]]
                     for name, keys in hit.items() if keys},
    }
    verdict["anomalies"] = anomalies(outside)
    return verdict, {"shipping_by_lane": dict(points)}


def _share(c: Counter) -> dict[str, Any]:
    judged = c["on_time"] + c["late"]
    return {"share": round(c["on_time"] / judged, 4) if judged else None,
            "on_time": c["on_time"], "late": c["late"], "pending": c["pending"]}


def _alerted(buyer: Intent, at: datetime | None) -> bool:
    """Named in an alert before the buyer changed the order after paying (an alert about
    a cancellation or a new address the warehouse could not take any more is customer
    service's work, not an anomaly found)."""
    if at is None:
        return False
    changed = [v.at for v in buyer.versions if buyer.paid_at is not None
               and v.at > buyer.paid_at and v.receiver != buyer.versions[0].receiver]
    if buyer.cancelled_at is not None:
        changed.append(buyer.cancelled_at)
    return not changed or at < min(changed)


def _remedied(buyer: Intent, orders: list[dict[str, Any]]) -> bool:
    """The warehouse was sent another delivery service than the buyer chose: the hub
    found something and put it right itself (an auto-remedy), visible from outside."""
    return any(o.get("delivery") and o["delivery"] != buyer.delivery for o in orders)


def anomalies(outside: Outside) -> dict[str, Any]:
    """Precision and recall of the planted anomalies judged from outside; a clean order
    held for stock the warehouse really lacked (``Outside.held_for_stock``) is neither a
    false positive nor a hit, and is counted as ``stock_holds``."""
    buyers, wms, named, origin = outside.buyers, outside.wms, outside.named, outside.origin
    flagged = {k for k, b in buyers.items() if _alerted(b, named.get(k)) or (
        b.paid_at is not None and b.cancelled_at is None and not wms.orders.get(k))
        or _remedied(b, wms.orders.get(k, []))}
    planted = {k for k, b in buyers.items() if b.truth}
    stock_holds = {k for k in flagged - planted if outside.held_for_stock(k)}
    flagged -= stock_holds
    tp, fp, fn = len(flagged & planted), len(flagged - planted), len(planted - flagged)
    by_code: dict[str, Counter] = defaultdict(Counter)
    for key in planted:
        for code in buyers[key].truth:
            by_code[code]["planted"] += 1
            by_code[code]["flagged"] += key in flagged
    odd = {k for k, b in buyers.items() if b.odd and not b.truth}
    by_label: dict[str, Counter] = defaultdict(Counter)
    for key in odd:
        for label in buyers[key].odd:
            by_label[label]["n"] += 1
            by_label[label]["flagged"] += key in flagged
    odd_flagged = len(odd & flagged)
    delays = []
    for key in planted & set(named):
        buyer = buyers[key]
        seen = [origin + timedelta(seconds=float(s)) for c, s in buyer.observable.items()
                if c in buyer.truth]
        since = min(seen) if seen else (buyer.paid_at or buyer.created_at)
        delays.append(max((named[key] - since).total_seconds(), 0.0))
    return {
        "planted": len(planted), "flagged": len(flagged), "stock_holds": len(stock_holds),
        "true_positive": tp,
        "false_positive": fp, "missed": fn,
        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        "recall": round(tp / (tp + fn), 4) if tp + fn else None,
        "by_reason": {c: {"planted": v["planted"], "flagged": v["flagged"]}
                      for c, v in sorted(by_code.items())},
        "hard_negatives": {
            "n": len(odd), "flagged": odd_flagged,
            "precision": round(tp / (tp + odd_flagged), 4) if tp + odd_flagged else None,
            "by_label": {k: dict(v) for k, v in sorted(by_label.items())}},
        "detection_delay_s": stats(delays),
        "detected_without_alert": len((planted & flagged) - set(named)),
    }


def failures(verdict: Mapping[str, Any], floor: float = 0.99) -> list[str]:
    """What makes the run fail: the hard counts above zero, a message the robot refused
    (an alert nobody received), precision or recall below ``floor``. Empty when the
    run passes."""
    out = [f"{name} = {verdict[name]}" for name in (*HARD_FIGURES, "alerts_refused")
           if verdict.get(name)]
    for score in ("precision", "recall"):
        value = verdict.get("anomalies", {}).get(score)
        if value is not None and value < floor:
            out.append(f"anomaly {score} = {value} < {floor}")
    return out
