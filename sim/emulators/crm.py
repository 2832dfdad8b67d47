"""Emulated CRM: customer tier and tags per buyer id, looked up in batches.

Customers come from the config or from a trace's buyers (``seed_orders``); a buyer the
CRM does not know is tier ``normal`` with no tags.

Routes:

- ``POST /customers/lookup`` ``{"buyer_ids": ["b1", "b2", ...]}`` (at most ``max_batch``)
  -> ``{"customers": {"b1": {"tier": "plus", "tags": ["new_first_order"], "known": true},
  ...}}``
- ``GET /customers/{buyer_id}`` -> one profile
- common: ``/healthz``, ``/_stats``, ``/_control/faults``

>>> crm = CrmState(CrmConfig(customers={"b1": Profile(tier="plus")}))
>>> found = crm.lookup(["b1", "b9"])
>>> found["b1"]["tier"], found["b9"]
('plus', {'tier': 'normal', 'tags': [], 'known': False})
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hub.clock import Clock
from sim.emulators.backoffice import (
    BackOffice,
    BadRequest,
    Emulator,
    OutageWindow,
    json_response,
    mount_common,
    read_json,
)


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: str = Field(default="normal", min_length=1)
    tags: list[str] = []


class CrmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customers: dict[str, Profile] = {}
    seed_from_trace: bool = True  # the suite loads the trace's buyers when it has a trace
    max_batch: int = Field(default=1000, ge=1)
    outages: list[OutageWindow] = []
    seed: int = 0


class CrmState:
    """Profiles by buyer id. Thread-safe."""

    def __init__(self, config: CrmConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or CrmConfig()
        self.clock = clock or Clock()
        self._lock = threading.Lock()
        self.log: list[dict[str, Any]] = []  # records: lookups, counted
        self._profiles: dict[str, Profile] = dict(self.config.customers)
        self.counts: Counter[str] = Counter()

    def seed_orders(self, orders: Iterable[Any]) -> int:
        """Take each order's buyer (id, tier, tags) unless the config names that buyer;
        returns how many buyers were added."""
        added = 0
        with self._lock:
            for order in orders:
                buyer = order.buyer
                if buyer.id in self._profiles:
                    continue
                self._profiles[buyer.id] = Profile(tier=buyer.tier, tags=list(buyer.tags))
                added += 1
        return added

    def lookup(self, buyer_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        out = {}
        with self._lock:
            self.log.append({"seq": len(self.log) + 1, "at": self.clock.now().isoformat(),
                             "op": "lookup", "orders": [], "results": [], "n": 0})
            for bid in buyer_ids:
                profile = self._profiles.get(bid)
                self.counts["known" if profile else "unknown"] += 1
                profile = profile or Profile()
                out[bid] = {"tier": profile.tier, "tags": list(profile.tags),
                            "known": bid in self._profiles}
            self.log[-1]["n"] = len(out)
        return out

    def export(self) -> dict[str, Any]:
        """The CRM's records: each lookup, as a count of buyers (the ids are not kept)."""
        with self._lock:
            return {"requests": list(self.log)}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            tiers = Counter(p.tier for p in self._profiles.values())
            return {"customers": len(self._profiles), "tiers": dict(tiers),
                    "looked_up": dict(self.counts)}


def create_app(state: CrmState, office: BackOffice) -> FastAPI:
    app = FastAPI(title="CRM emulator")
    mount_common(app, office, lambda: {"crm": state.snapshot()}, records=state.export)

    @app.post("/customers/lookup")
    async def lookup(request: Request) -> Response:
        if (blocked := await office.gate("lookup")) is not None:
            return blocked
        body = await read_json(request)
        ids = body.get("buyer_ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadRequest(["buyer_ids: a list of buyer id strings is needed"])
        if len(ids) > state.config.max_batch:
            raise BadRequest([f"buyer_ids: at most {state.config.max_batch} a call, "
                              f"got {len(ids)}"])
        office.count("buyers_looked_up", n=len(ids))
        return json_response({"customers": state.lookup(ids)})

    @app.get("/customers/{buyer_id}")
    async def one(buyer_id: str) -> Response:
        if (blocked := await office.gate("lookup")) is not None:
            return blocked
        return json_response({"buyer_id": buyer_id, **state.lookup([buyer_id])[buyer_id]})

    return app


class CrmEmulator(Emulator):
    name = "crm"

    def __init__(self, clock: Clock, config: CrmConfig | None = None, *, port: int = 0,
                 origin: datetime | None = None) -> None:
        super().__init__(port=port)
        config = config or CrmConfig()
        self.state = CrmState(config, clock)
        self.office = BackOffice("crm", clock, origin=origin, outages=config.outages,
                                 seed=config.seed)
        self.app = create_app(self.state, self.office)

    def records(self) -> dict[str, Any]:
        return self.state.export()
