"""What the emulated warehouse is told: its config (crews, service times, carriers,
callback) and the lines the hub sends it (dispatch, intercept, amend)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from sim.emulators.backoffice import OutageWindow
from sim.emulators.crews import PackingGroup


class ServiceTimes(BaseModel):
    """Business seconds: worker time to pick and to pack, then wait for the carrier."""

    model_config = ConfigDict(extra="forbid")

    pick_s: float = Field(default=120.0, ge=0)
    pack_s: float = Field(default=180.0, ge=0)
    ship_s: float = Field(default=900.0, ge=0)


class Carrier(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    prefix: str = Field(pattern=r"^[A-Z]{1,4}$")
    digits: int = Field(default=12, ge=6, le=15)


def _default_lanes() -> dict[str, ServiceTimes]:
    return {"P0": ServiceTimes(pick_s=60, pack_s=90, ship_s=600),
            "P1": ServiceTimes(pick_s=90, pack_s=120, ship_s=900),
            "P2": ServiceTimes(), "P3": ServiceTimes(pick_s=150, pack_s=210, ship_s=1800)}


def _default_carriers() -> dict[str, Carrier]:
    return {"standard": Carrier(name="YTO", prefix="YT", digits=13),
            "express": Carrier(name="SF", prefix="SF", digits=12),
            "same_city": Carrier(name="SF-SameCity", prefix="SC", digits=10)}


class WmsConfig(BaseModel):
    """``groups`` (the scenario's ``[warehouse.groups.<name>]``) give a packing group
    its workers and shifts; ``workers`` (all day) is the older short form; a group in
    neither has ``default_workers``, all day."""

    model_config = ConfigDict(extra="forbid")

    groups: dict[str, PackingGroup] = {}
    workers: dict[str, int] = {}  # packing group -> workers, all day
    default_workers: int = Field(default=8, ge=1)  # for a group not listed
    service: dict[str, ServiceTimes] = Field(default_factory=_default_lanes)  # per lane
    default_service: ServiceTimes = ServiceTimes()
    carriers: dict[str, Carrier] = Field(default_factory=_default_carriers)  # per delivery
    priority: bool = True  # waiting orders start by lane; False: first come, first served
    callback_url: str = ""  # the hub's status endpoint, e.g. http://127.0.0.1:8700/wms/status
    callback_batch: int = Field(default=500, ge=1)
    callback_poll_s: float = Field(default=0.2, gt=0)  # wall seconds between rounds
    # callbacks are signed as this warehouse with this secret (sim.emulators.callback_signing)
    warehouse: str = Field(default="main", min_length=1)
    callback_secret: SecretStr = SecretStr("demo-wms-callback")
    max_batch: int = Field(default=1000, ge=1)  # orders per dispatch call
    outages: list[OutageWindow] = []
    seed: int = 0

    @model_validator(mode="after")
    def _checked(self) -> WmsConfig:
        if not self.carriers:
            raise ValueError("carriers: at least one carrier is needed")
        bad = [g for g, n in self.workers.items() if n < 1]
        if bad:
            raise ValueError(f"workers: every packing group needs >= 1 worker: {bad}")
        both = sorted(set(self.workers) & set(self.groups))
        if both:
            raise ValueError(f"groups: {both} also in workers; give each group once")
        return self

    def crew(self, group: str) -> PackingGroup:
        if group in self.groups:
            return self.groups[group]
        return PackingGroup(workers=self.workers.get(group, self.default_workers))


class DispatchLine(BaseModel):
    """One order as the hub's outbox sends it (extra fields are kept, not checked)."""

    model_config = ConfigDict(extra="allow")

    key: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    shop: str = ""
    order_id: str = Field(min_length=1)
    lane: str = "P2"
    packing_group: str = ""
    delivery: str = "standard"
    warehouse_hint: str | None = None
    items: list[dict[str, Any]] = []
    receiver: dict[str, Any] | None = None
    carrier: str | None = None
    ship_by: str | None = None


class ChangeLine(BaseModel):
    """One intercept or amend line: which order, under which idempotency key."""

    model_config = ConfigDict(extra="allow")

    key: str = Field(min_length=1)
    channel: str = Field(min_length=1)
    shop: str = ""
    order_id: str = Field(min_length=1)
    reason: str = ""
    receiver: dict[str, Any] | None = None
    items: list[dict[str, Any]] | None = None
