"""A scenario: one day of orders described in a TOML file (format: ``scenarios/README.md``).

Where scenarios are found: a path (anything ending in ``.toml`` or that exists) is read
as is; a bare name is looked up in each of the ``folders`` the caller gives (the
commands take them from ``ORDERHUB_SCENARIOS``, ``:``-separated: ``env_folders``) and
then in the checkout's ``scenarios/`` folder next to the ``sim`` package (``make
setup`` installs the checkout in editable mode, so that folder is always there).

>>> s = load_scenario("double11-42k")
>>> s.orders_per_day, s.window, s.inventory()["LT-GIFTBOX-D11"]
(42000, ('00:00', '02:00'), 120)
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.domain import SHANGHAI, DeliveryService, OrderType

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PLANTED = ("incomplete_address", "remote_standard_express", "payment_mismatch",
           "duplicate_order", "invalid_phone")
REMOTE_DEFAULT = ("新疆", "西藏", "青海", "内蒙古", "甘肃", "宁夏")  # the default rule set's
# What each marketplace's API can carry (see sim/shapes): non-live sources, order types.
SOURCES = {"tmall": None, "jd": (), "douyin": ("shortvideo",)}  # None: any lower-case word
NO_ORDER_TYPES = {"jd": ("gift",)}
FAULT_KINDS = {"outage": "outage", "throttle": "throttle", "error5xx": "5xx", "5xx": "5xx",
               "timeout": "timeout"}  # scenario word -> the emulators' fault kind
ORDER_TYPES = tuple(t.value for t in OrderType)
DELIVERIES = tuple(d.value for d in DeliveryService)
# Valid-but-odd clean orders (hard negatives), share of all orders by label (about 1.5%).
ODD_DEFAULT = {"rare_phone_prefix": 0.0025, "duplicate_window_edge": 0.002,
               "remote_express": 0.002, "renamed_district": 0.0025, "gift_zero_fen": 0.002,
               "long_address": 0.002, "no_district_city": 0.0025}
# Ship-by hours after payment (issue #19's promises).
PROMISES_DEFAULT = {"same_city": 2.0, "express": 24.0, "standard": 48.0, "live_flash": 24.0,
                    "presale_final": 48.0}
Share = float


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _minutes(text: str) -> int:
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and int(minutes) < 60 and int(hours) * 60 + int(minutes) <= 24 * 60):
        raise ValueError(f"{text!r} is not a time of day HH:MM (00:00 to 24:00)")
    return int(hours) * 60 + int(minutes)


def _clock(text: str) -> str:
    _minutes(text)
    return text


def _mix(table: dict[str, Share], allowed: tuple[str, ...] | None = None) -> dict[str, Share]:
    if allowed is not None and (unknown := [k for k in table if k not in allowed]):
        raise ValueError(f"unknown {unknown}; use {list(allowed)}")
    if any(v < 0 for v in table.values()) or sum(table.values()) <= 0:
        raise ValueError("shares must be >= 0 and add up to more than zero")
    return table


class ChannelMix(_Strict):
    share: Share = Field(ge=0)
    shops: list[str] = Field(min_length=1)
    live_rooms: list[str] = []  # source_detail of live-stream flash sales
    sources: dict[str, Share] = {}  # shares of named non-live sources; the rest has none
    order_types: dict[str, Share] | None = None  # this channel's mix (default: the day's)

    @field_validator("shops", "live_rooms")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        if any(not v.strip() for v in value) or len(set(value)) != len(value):
            raise ValueError("names must be non-empty and distinct")
        return value

    @field_validator("sources")
    @classmethod
    def _sources(cls, value: dict[str, Share]) -> dict[str, Share]:
        if any(v < 0 for v in value.values()) or sum(value.values()) > 1:
            raise ValueError("source shares must be >= 0 and add up to at most 1")
        return value


class Presale(_Strict):
    deposit_ratio: float = Field(default=0.2, gt=0, lt=1)  # deposit / amount due
    final_at: str | None = "20:00"  # final payments of today's deposits open (None: not today)
    final_spread_s: float = Field(default=1800.0, gt=0)  # mean wait after final_at
    deposit_days: tuple[int, int] = (3, 20)  # presale_final orders: deposit paid days before

    @field_validator("final_at")
    @classmethod
    def _final_at(cls, value: str | None) -> str | None:
        return value if value is None else _clock(value)


class Buyers(_Strict):
    tiers: dict[str, Share] = {"normal": 1.0}
    new_first_order: Share = Field(default=0.15, ge=0, le=1)  # first orders (tagged)
    repeat: Share = Field(default=0.2, ge=0, le=1)  # orders from a buyer seen earlier today

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, value: dict[str, Share]) -> dict[str, Share]:
        return _mix(value)

    @model_validator(mode="after")
    def _total(self) -> Buyers:
        if self.new_first_order + self.repeat > 1:
            raise ValueError("new_first_order + repeat is more than 1")
        return self


class Regions(_Strict):
    warehouse: tuple[str, str] = ("浙江省", "杭州市")  # same-city deliveries go here
    remote_share: Share = Field(default=0.03, ge=0, le=1)  # clean remote orders (express)
    remote_provinces: tuple[str, ...] = REMOTE_DEFAULT  # prefixes, as in the rule set


class FollowUps(_Strict):
    pay_delay_s: float = Field(default=30.0, gt=0)  # mean wait from creation to payment
    unpaid: Share = Field(default=0.02, ge=0, le=1)  # never paid, closed after unpaid_close_s
    unpaid_close_s: tuple[float, float] = (600.0, 1800.0)
    address_change: Share = Field(default=0.01, ge=0, le=1)  # after payment
    cancel: Share = Field(default=0.01, ge=0, le=1)  # after payment (refund before shipping)
    change_after_s: tuple[float, float] = (60.0, 1200.0)


class Group(_Strict):
    """One packing group's crew: ``workers`` and, optionally, the shifts they work
    (business clock, local time; none: all day)."""

    workers: int = Field(ge=0, strict=True)
    shifts: list[tuple[str, str]] | None = Field(default=None, min_length=1)

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, value: list[tuple[str, str]] | None) -> list[tuple[str, str]] | None:
        for start, end in value or ():
            if not _minutes(start) < _minutes(end):
                raise ValueError(f"shift {start}-{end} does not run forward in one day "
                                 "(split a night shift in two: 22:00-24:00, 00:00-06:00)")
        return value


class Warehouse(_Strict):
    """The packing groups' crews, passed to the WMS emulator as is."""

    default_workers: int = Field(default=40, ge=1, strict=True)  # a group not listed
    groups: dict[str, Group] = {}

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: dict[str, Group]) -> dict[str, Group]:
        if any(not name.strip() for name in value):
            raise ValueError("a packing group needs a name")
        return value


class Sku(_Strict):
    """A merchant SKU: what the warehouse counts, one stock for every marketplace."""

    sku: str = Field(min_length=1)
    name: str = ""  # default: the code
    price_fen: int = Field(gt=0)
    stock: int = Field(ge=0)  # the ERP's level at the start of the day
    weight: float = Field(default=1.0, gt=0)  # how often bought (only without [[listings]])


class Component(_Strict):
    sku: str = Field(min_length=1)  # a merchant SKU of [[skus]]
    quantity: int = Field(default=1, ge=1, strict=True)


class ListingSpec(_Strict):
    """What the marketplaces sell: one merchant SKU (quantity 1), a multi-pack (quantity
    n) or a bundle of several, listed on some or all of the channels."""

    code: str = Field(min_length=1)  # unique; the outer code of a multi-pack or bundle
    item: str = ""  # listings with the same item are variants of one marketplace item
    name: str = ""
    components: list[Component] = Field(min_length=1)
    price_fen: int | None = Field(default=None, gt=0)  # default: the components' prices
    weight: float = Field(default=1.0, gt=0)  # how often bought
    channels: list[Literal["tmall", "jd", "douyin"]] | None = None  # default: all


PLATFORMS = ("tmall", "jd", "douyin")


class Fault(_Strict):
    at: str  # HH:MM, business time of the day
    target: Literal["tmall", "jd", "douyin", "wms"]
    kind: str
    duration_s: float = Field(gt=0)
    rate: float | None = Field(default=None, gt=0, le=1)  # share of calls hit (a storm < 1)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        return _clock(value)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {value!r}; use one of {list(FAULT_KINDS)}")
        return value

    @model_validator(mode="after")
    def _wms(self) -> Fault:
        if self.target == "wms" and self.kind == "throttle":
            raise ValueError("the WMS has outages, error5xx and timeouts, not throttling")
        return self


class RuleChange(_Strict):
    at: str  # HH:MM
    file: str  # a rule file, relative to the scenario file

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        return _clock(value)


class Scenario(_Strict):
    # `crews` is read from the file's [warehouse]; a dumped scenario validates again
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    description: str = ""
    seed: int = 1
    date: date
    orders_per_day: int = Field(gt=0)
    hourly_weights: list[float] = Field(min_length=24, max_length=24)
    window: tuple[str, str] = ("00:00", "24:00")
    tail_s: float = Field(default=1800.0, ge=0)  # follow-ups kept this long after the window
    speedup: float = Field(default=60.0, gt=0)
    pull_interval_s: float = Field(default=30.0, gt=0)
    push: bool = False
    channels: dict[Literal["tmall", "jd", "douyin"], ChannelMix]
    order_types: dict[str, Share]
    presale: Presale = Presale()
    buyers: Buyers = Buyers()
    delivery: dict[str, Share]  # of clean orders outside remote provinces
    regions: Regions = Regions()
    follow_ups: FollowUps = FollowUps()
    anomalies: dict[str, Share]  # planted share of all orders, by reason code
    skus: list[Sku] = Field(min_length=1)
    listings: list[ListingSpec] = []  # none: each SKU is a listing of itself everywhere
    outer_codes: Share = Field(default=0.85, ge=0, le=1)  # listings with an outer code
    by_outer_code: Share = Field(default=0.0, ge=0, le=1)  # of those naming a SKU: not in the ERP
    faults: list[Fault] = []
    rule_changes: list[RuleChange] = []
    odd: dict[str, Share] = ODD_DEFAULT  # valid-but-odd clean orders, share of all orders
    promises: dict[str, float] = PROMISES_DEFAULT  # ship-by hours after payment
    crews: Warehouse = Field(default=Warehouse(), alias="warehouse")  # [warehouse]
    source: Path | None = None  # the file it was read from

    @field_validator("odd")
    @classmethod
    def _odd(cls, value: dict[str, Share]) -> dict[str, Share]:
        if unknown := [k for k in value if k not in ODD_DEFAULT]:
            raise ValueError(f"unknown {unknown}; use {list(ODD_DEFAULT)}")
        if any(v < 0 for v in value.values()) or sum(value.values()) > 0.1:
            raise ValueError("shares must be >= 0 and add up to at most 0.1")
        return value

    @field_validator("promises")
    @classmethod
    def _promises(cls, value: dict[str, float]) -> dict[str, float]:
        if unknown := [k for k in value if k not in (*DELIVERIES, *ORDER_TYPES)]:
            raise ValueError(f"unknown {unknown}; use a delivery service {list(DELIVERIES)} "
                             f"or an order type {list(ORDER_TYPES)}")
        if bad := [k for k, v in value.items() if not v > 0]:
            raise ValueError(f"{bad}: hours must be more than zero")
        return {**{d: PROMISES_DEFAULT[d] for d in DELIVERIES}, **value}

    @field_validator("order_types")
    @classmethod
    def _types(cls, value: dict[str, Share]) -> dict[str, Share]:
        return _mix(value, ORDER_TYPES)

    @field_validator("delivery")
    @classmethod
    def _delivery(cls, value: dict[str, Share]) -> dict[str, Share]:
        return _mix(value, tuple(d.value for d in DeliveryService))

    @field_validator("hourly_weights")
    @classmethod
    def _weights(cls, value: list[float]) -> list[float]:
        if any(w < 0 for w in value) or sum(value) <= 0:
            raise ValueError("weights must be >= 0 and add up to more than zero")
        return value

    @field_validator("anomalies")
    @classmethod
    def _anomalies(cls, value: dict[str, Share]) -> dict[str, Share]:
        if unknown := [k for k in value if k not in PLANTED]:
            raise ValueError(f"cannot plant {unknown}; plantable: {list(PLANTED)} "
                             "(out_of_stock_paid emerges from the stock table)")
        if any(v < 0 for v in value.values()) or sum(value.values()) >= 0.5:
            raise ValueError("shares must be >= 0 and add up to less than 0.5")
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: tuple[str, str]) -> tuple[str, str]:
        if not _minutes(value[0]) < _minutes(value[1]):
            raise ValueError(f"window {value[0]}-{value[1]} does not run forward in one day")
        return value

    @field_validator("skus")
    @classmethod
    def _skus(cls, value: list[Sku]) -> list[Sku]:
        names = [s.sku for s in value]
        if len(set(names)) != len(names):
            raise ValueError("SKU codes must be distinct")
        return value

    @model_validator(mode="after")
    def _listings(self) -> Scenario:
        known = {s.sku for s in self.skus}
        codes: set[str] = set()
        for n, listing in enumerate(self.listings):
            where = f"listings.{n}"
            if listing.code in codes:
                raise ValueError(f"{where}.code: {listing.code!r} is listed twice")
            codes.add(listing.code)
            parts = [c.sku for c in listing.components]
            for m, sku in enumerate(parts):
                if sku not in known:
                    raise ValueError(f"{where}.components.{m}.sku: unknown merchant SKU "
                                     f"{sku!r} (not in [[skus]])")
                if parts.index(sku) != m:
                    raise ValueError(f"{where}.components.{m}.sku: {sku!r} twice (give a "
                                     "quantity)")
            if off := [c for c in listing.channels or () if c not in self.channels]:
                raise ValueError(f"{where}.channels: {off} not among the scenario's "
                                 f"channels {list(self.channels)}")
        return self

    @model_validator(mode="after")
    def _channels(self) -> Scenario:
        if sum(c.share for c in self.channels.values()) <= 0:
            raise ValueError("channels: shares add up to zero")
        for name, c in self.channels.items():
            where = f"channels.{name}"
            mix = self.order_types if c.order_types is None else _mix(c.order_types,
                                                                       ORDER_TYPES)
            if banned := [t for t in NO_ORDER_TYPES.get(name, ()) if mix.get(t)]:
                raise ValueError(f"{where}.order_types: {name} cannot carry {banned} orders")
            if mix.get("live_flash") and not c.live_rooms:
                raise ValueError(f"{where}.live_rooms: live_flash orders need a live room")
            allowed = SOURCES[name]
            for src in c.sources:
                ok = (src.isascii() and src.isalpha() and src.islower() and src != "live"
                      if allowed is None else src in allowed)
                if not ok or src == "live_room":
                    raise ValueError(f"{where}.sources: {name} cannot carry source {src!r} "
                                     "(live_room is for live_flash orders only)")
        return self

    @model_validator(mode="after")
    def _warehouse_city(self) -> Scenario:
        from sim.population import places  # the place table loads jionlp: only here

        try:
            places(tuple(self.regions.warehouse), tuple(self.regions.remote_provinces))
        except ValueError as exc:
            raise ValueError(f"regions.warehouse: the generator cannot serve {exc}") from None
        return self

    def promise_hours(self, order_type: str, delivery: str) -> float:
        """Ship-by hours after payment: the order type's promise if the scenario gives
        one, else the delivery service's.

        >>> s = load_scenario("double11-42k")
        >>> s.promise_hours("live_flash", "same_city"), s.promise_hours("normal", "same_city")
        (24.0, 2.0)
        """
        hours = self.promises.get(order_type)
        return float(hours if hours is not None else self.promises[delivery])

    @property
    def warehouse(self) -> dict:
        """The packing groups' crews (``[warehouse]``) as the WMS emulator's ``WmsConfig``
        fields: ``{"default_workers": N, "groups": {group: {"workers": N[, "shifts":
        [[HH:MM, HH:MM], ...]]}}}``."""
        return self.crews.model_dump(mode="json", exclude_none=True)

    @property
    def origin(self) -> datetime:
        """Midnight of the scenario's day, Asia/Shanghai: business time zero."""
        return datetime.combine(self.date, time(0), SHANGHAI)

    def window_seconds(self) -> tuple[float, float]:
        return 60.0 * _minutes(self.window[0]), 60.0 * _minutes(self.window[1])

    def inventory(self) -> dict[str, int]:
        """The ERP's stock at the start of the day: merchant sku -> units."""
        return {s.sku: s.stock for s in self.skus}

    def listing_specs(self) -> list[dict]:
        """The listings (``[[listings]]``, or one per SKU when there are none) as plain
        dicts, channels and price filled in."""
        price = {s.sku: s.price_fen for s in self.skus}
        everywhere = tuple(c for c in PLATFORMS if c in self.channels)
        if not self.listings:
            return [{"code": s.sku, "item": s.sku, "components": ((s.sku, 1),),
                     "price_fen": s.price_fen, "weight": s.weight, "channels": everywhere}
                    for s in self.skus]
        return [{"code": x.code, "item": x.item or x.code,
                 "components": tuple((c.sku, c.quantity) for c in x.components),
                 "price_fen": x.price_fen or sum(price[c.sku] * c.quantity
                                                 for c in x.components),
                 "weight": x.weight, "channels": tuple(x.channels or everywhere)}
                for x in self.listings]

    def shelf(self) -> tuple:
        """Every listing of every shop with its platform ids (``sim.catalogue.Listing``)."""
        from sim.catalogue import listings

        shops = {c: self.channels[c].shops for c in PLATFORMS if c in self.channels}
        return listings(self.listing_specs(), shops, self.outer_codes, self.by_outer_code)

    def catalogue(self) -> dict:
        """The ERP's catalogue at the start of the day (``ErpConfig.catalogue``):
        ``{"skus": [{"sku", "name"}], "listings": [{"channel", "shop", "item_id",
        "sku_id", "components": [{"sku", "quantity"}]}]}``."""
        from sim.catalogue import erp_catalogue

        return erp_catalogue(self.shelf(), {s.sku: s.name or s.sku for s in self.skus})

    def expansions(self) -> dict[str, tuple[tuple[str, int], ...]]:
        """Platform SKU id -> (merchant sku, quantity), ...: the verdict's own copy of
        what each listing contains."""
        from sim.catalogue import expansions

        return expansions(self.shelf())

    def mix_of(self, channel: str) -> dict[str, Share]:
        """The order-type mix of one channel."""
        return self.channels[channel].order_types or self.order_types  # type: ignore[index]

    def rule_file(self, change: RuleChange) -> Path:
        path = Path(change.file)
        return path if path.is_absolute() or self.source is None else self.source.parent / path


def seconds_of_day(text: str) -> float:
    """``"00:30"`` -> 1800.0."""
    return 60.0 * _minutes(text)


def parse_window(text: str) -> tuple[str, str]:
    """``"00:00-02:00"`` -> ``("00:00", "02:00")``."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ScenarioError(f"window {text!r}: expected HH:MM-HH:MM")
    return start.strip(), end.strip()


SCENARIOS_ENV = "ORDERHUB_SCENARIOS"


def env_folders(environ: Mapping[str, str]) -> list[Path]:
    """The extra scenario folders ``environ`` names in ``ORDERHUB_SCENARIOS``.

    >>> env_folders({"ORDERHUB_SCENARIOS": "/a:/b"})
    [PosixPath('/a'), PosixPath('/b')]
    """
    return [Path(p) for p in environ.get(SCENARIOS_ENV, "").split(os.pathsep) if p]


def scenario_dirs(folders: Sequence[Path] = ()) -> list[Path]:
    return [*folders, SCENARIOS]


def scenario_path(name: str | Path, folders: Sequence[Path] = ()) -> Path:
    """The file of a scenario given by path, or by name in ``folders`` then
    ``scenarios/``."""
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return path
    for folder in scenario_dirs(folders):
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    return SCENARIOS / f"{name}.toml"


def known_scenarios(folders: Sequence[Path] = ()) -> list[str]:
    return sorted({p.stem for d in scenario_dirs(folders) for p in d.glob("*.toml")})


def _check_rule_files(scenario: Scenario, path: Path) -> None:
    """Each scheduled rule file loads, and keeps what the planted truth relies on."""
    from hub.domain import RuleError, default_ruleset, load_ruleset

    window = default_ruleset().duplicate_window_minutes
    for n, change in enumerate(scenario.rule_changes):
        where = f"{path}: rule_changes.{n}.file"
        file = scenario.rule_file(change)
        try:
            rules = load_ruleset(file.read_text(encoding="utf-8"), str(file))
        except OSError as exc:
            raise ScenarioError(f"{where}: cannot read {file} ({exc.strerror})") from None
        except RuleError as exc:
            raise ScenarioError(f"{where}: {file} is not a valid rule set:\n{exc}") from None
        if tuple(rules.remote_regions) != tuple(scenario.regions.remote_provinces) or \
                rules.duplicate_window_minutes != window:
            raise ScenarioError(f"{where}: {file} changes remote_regions or "
                                "duplicate_window_minutes, which the planted truth relies on")


def _problem(path: Path, error: dict) -> str:
    field = ".".join(str(p) for p in error["loc"])
    reason = error["msg"].removeprefix("Value error, ")
    return f"{path}: {field}: {reason}" if field else f"{path}: {reason}"


def load_scenario(name: str | Path, *, folders: Sequence[Path] = ()) -> Scenario:
    """A scenario by path, or by name (``NAME.toml`` in ``folders``, then in
    ``scenarios/``); ScenarioError if unusable."""
    path = scenario_path(name, folders)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario "
                            f"(known: {', '.join(known_scenarios(folders))})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    try:
        scenario = Scenario.model_validate({**data, "source": path})
    except ValidationError as exc:
        raise ScenarioError("\n".join(_problem(path, e) for e in exc.errors())) from None
    _check_rule_files(scenario, path)
    return scenario
