"""A scenario: one day of orders described in a TOML file under ``scenarios/``.

>>> s = load_scenario("double11-42k")
>>> s.orders_per_day, s.window
(42000, ('00:00', '02:00'))
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.domain.order import SHANGHAI

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
PLANTED = ("incomplete_address", "remote_standard_express", "payment_mismatch",
           "duplicate_order", "invalid_phone")


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(_Strict):
    share: float = Field(ge=0)
    shops: list[str] = Field(min_length=1)


class Sku(_Strict):
    sku: str
    price_fen: int = Field(gt=0)
    stock: int = Field(ge=0)
    weight: float = Field(default=1.0, gt=0)


class Fault(_Strict):
    at: str  # HH:MM (business time of the day)
    target: str  # tmall, jd, douyin
    kind: str  # outage, throttle, 5xx, timeout
    duration_s: float = Field(gt=0)


class RuleChange(_Strict):
    at: str
    file: str  # relative to the scenario file


class Scenario(_Strict):
    name: str
    description: str = ""
    seed: int = 1
    date: date
    orders_per_day: int = Field(gt=0)
    hourly_weights: list[float] = Field(min_length=24, max_length=24)
    window: tuple[str, str] = ("00:00", "24:00")
    speedup: float = Field(default=60.0, gt=0)
    pull_interval_s: float = Field(default=30.0, gt=0)
    push: bool = False
    channels: dict[str, Channel]
    order_types: dict[str, float]  # normal, live_flash, presale_final, gift ...
    tiers: dict[str, float]  # plus, svip, vip, normal
    new_buyer_share: float = Field(default=0.15, ge=0, le=1)
    delivery: dict[str, float]  # express, same_city, standard (share of clean orders)
    warehouse: tuple[str, str] = ("浙江省", "杭州市")  # same-city orders go here
    remote_share: float = Field(default=0.03, ge=0, le=1)  # clean remote orders (express)
    anomalies: dict[str, float]  # planted share of all orders, by reason code
    unpaid_share: float = Field(default=0.02, ge=0, le=1)
    address_change_share: float = Field(default=0.01, ge=0, le=1)
    cancel_share: float = Field(default=0.01, ge=0, le=1)
    skus: list[Sku] = Field(min_length=1)
    faults: list[Fault] = []
    rule_changes: list[RuleChange] = []
    source: Path | None = None

    @field_validator("anomalies")
    @classmethod
    def _known_anomalies(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(PLANTED))
        if unknown:
            raise ValueError(f"unknown anomaly kinds {unknown}; plantable: {list(PLANTED)}")
        if sum(value.values()) >= 0.5:
            raise ValueError("anomaly shares add up to 50% or more")
        return value

    @field_validator("window")
    @classmethod
    def _window(cls, value: tuple[str, str]) -> tuple[str, str]:
        start, end = (_minutes(v) for v in value)
        if not 0 <= start < end <= 24 * 60:
            raise ValueError(f"window {value[0]}-{value[1]} is not a span within one day")
        return value

    @model_validator(mode="after")
    def _shares(self) -> Scenario:
        for name in ("channels", "order_types", "tiers", "delivery"):
            table = getattr(self, name)
            total = sum(c.share if isinstance(c, Channel) else c for c in table.values())
            if total <= 0:
                raise ValueError(f"{name}: shares add up to zero")
        return self

    @property
    def origin(self) -> datetime:
        """Midnight of the scenario's day, Asia/Shanghai: business time zero."""
        return datetime.combine(self.date, time(0), SHANGHAI)

    def window_seconds(self) -> tuple[float, float]:
        return tuple(60.0 * _minutes(v) for v in self.window)  # type: ignore[return-value]

    def inventory(self) -> dict[str, int]:
        return {s.sku: s.stock for s in self.skus}


def _minutes(text: str) -> int:
    try:
        hours, minutes = text.split(":")
        value = int(hours) * 60 + int(minutes)
    except ValueError:
        raise ValueError(f"{text!r} is not HH:MM") from None
    if not 0 <= int(minutes) < 60:
        raise ValueError(f"{text!r} is not HH:MM")
    return value


def parse_window(text: str) -> tuple[str, str]:
    """``"00:00-02:00"`` -> ``("00:00", "02:00")``."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ScenarioError(f"window {text!r}: expected HH:MM-HH:MM")
    return start.strip(), end.strip()


def scenario_path(name: str | Path) -> Path:
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return path
    return SCENARIOS / f"{name}.toml"


def load_scenario(name: str | Path) -> Scenario:
    """A scenario by name (``scenarios/NAME.toml``) or by path."""
    path = scenario_path(name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = sorted(p.stem for p in SCENARIOS.glob("*.toml"))
        raise ScenarioError(f"{path}: no such scenario (known: {', '.join(known)})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    try:
        return Scenario.model_validate({**data, "source": path})
    except ValidationError as exc:
        raise ScenarioError("\n".join(
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '<file>'}: {e['msg']}"
            for e in exc.errors())) from None
