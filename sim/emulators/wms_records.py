"""The WMS's own records (issue #19's outside records, contract §2 ``wms.json``):
every request with its answers, every warehouse order it made and every shipment
as it left (items and receiver as they stood then). Append-only while running.

Status and lookup requests are kept as counts only (``orders: []`` and ``n``): they
are many and say nothing about what shipped.
"""

from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.clock import Clock

Key = tuple[str, str, str]  # (channel, shop, order_id)


@dataclass(slots=True)
class WmsOrder:
    key: str
    ident: Key
    wms_no: str
    lane: str
    group: str
    delivery: str
    warehouse: str | None
    items: list[dict[str, Any]]
    dispatched_at: datetime
    seq: int
    receiver: dict[str, Any] | None = None
    ship_by: str | None = None
    carrier_wanted: str | None = None
    stage: str = "dispatched"
    times: dict[str, str] = field(default_factory=dict)
    tracking_no: str | None = None
    carrier: str | None = None
    planted: str | None = None
    working: bool = False  # holds a worker of its group (from start until packed)
    intercepted_by: str | None = None
    amendments: list[dict[str, Any]] = field(default_factory=list)

    def amend(self, at: datetime, key: str, receiver: dict[str, Any] | None,
              items: list[dict[str, Any]] | None) -> None:
        if receiver is not None:
            self.receiver = receiver
        if items is not None:
            self.items = items
        self.amendments.append({"at": at.isoformat(), "key": key, "receiver": receiver,
                                "items": items})

    def view(self) -> dict[str, Any]:
        channel, shop, order_id = self.ident
        return {"key": self.key, "channel": channel, "shop": shop, "order_id": order_id,
                "wms_order_no": self.wms_no, "stage": self.stage, "lane": self.lane,
                "packing_group": self.group, "tracking_no": self.tracking_no,
                "carrier": self.carrier, "times": dict(self.times),
                **({"planted": self.planted} if self.planted else {})}

    def record(self) -> dict[str, Any]:
        channel, shop, order_id = self.ident
        times = self.times
        out = {"wms_order_no": self.wms_no, "key": self.key, "channel": channel,
               "shop": shop, "order_id": order_id, "lane": self.lane,
               "packing_group": self.group, "delivery": self.delivery,
               "items": self.items, "receiver": self.receiver,
               "accepted_at": times.get("dispatched"), "picked_at": times.get("picked"),
               "packed_at": times.get("packed"), "shipped_at": times.get("shipped"),
               "intercepted_at": times.get("intercepted"), "tracking_no": self.tracking_no,
               "carrier": self.carrier, "ship_by": self.ship_by,
               "amendments": list(self.amendments), "stage": self.stage}
        if self.intercepted_by:
            out["intercepted_by"] = self.intercepted_by
        if self.planted:
            out["planted"] = self.planted
        if "dropped" in times:
            out["dropped_at"] = times["dropped"]
        return out


class WmsRecords:
    """Append-only lists; ``export()`` is the JSON the verdict reads."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self.requests: list[dict[str, Any]] = []
        self.orders: list[WmsOrder] = []  # every warehouse order ever made, in order
        self.shipments: list[dict[str, Any]] = []

    def request(self, op: str, orders: list[Any], results: list[dict[str, Any]],
                **extra: Any) -> None:
        """A dispatch, intercept or amend with what was sent and what was answered."""
        entry = {"seq": next(self._seq), "at": self.clock.now().isoformat(), "op": op,
                 "orders": orders, "results": copy.deepcopy(results), **extra}
        with self._lock:
            self.requests.append(entry)

    def counted(self, op: str, n: int, **extra: Any) -> None:
        """A status or lookup request: how many events or orders, not the bodies."""
        self.request(op, [], [], n=n, **extra)

    def refused(self, op: str, status: int) -> None:
        """A request the WMS refused before reading it (outage, injected error)."""
        self.request(op, [], [], refused=status)

    def shipped(self, order: WmsOrder) -> None:
        channel, shop, order_id = order.ident
        shipment = {"wms_order_no": order.wms_no, "channel": channel, "shop": shop,
                    "order_id": order_id, "tracking_no": order.tracking_no,
                    "carrier": order.carrier, "shipped_at": order.times.get("shipped"),
                    "items": copy.deepcopy(order.items),
                    "receiver": copy.deepcopy(order.receiver)}
        if order.planted:
            shipment["planted"] = order.planted
        with self._lock:
            self.shipments.append(shipment)

    def export(self) -> dict[str, Any]:
        with self._lock:
            return {"requests": list(self.requests),
                    "orders": [o.record() for o in self.orders],
                    "shipments": list(self.shipments)}
