"""What the three marketplace adapters share: field readers that name the path of
what they could not read, exact money, Shanghai times, and the page result.

Adapters build orders with ``model_construct`` after their own checks (which name
the field path, as pydantic would): validating the nested model again would cost
more than the rest of the domain pipeline together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel

from hub.domain.order import SHANGHAI, Amounts, Buyer, Item, Order, Receiver

M = TypeVar("M", bound=BaseModel)
_set = object.__setattr__


class ParseError(ValueError):
    """A raw order that cannot become an ``Order``: ``path`` names the field."""

    def __init__(self, path: str, reason: str, order_id: str = "") -> None:
        super().__init__(f"{path or '<order>'}: {reason}")
        self.path, self.reason, self.order_id = path, reason, order_id


class MarketplaceError(Exception):
    """The marketplace answered with its error envelope."""

    def __init__(self, code: str, message: str, sub_code: str = "", *,
                 throttled: bool = False, retryable: bool = False) -> None:
        super().__init__(f"{code} {sub_code} {message}".replace("  ", " ").strip())
        self.code, self.message, self.sub_code = code, message, sub_code
        self.throttled, self.retryable = throttled, retryable or throttled


@dataclass(frozen=True, slots=True)
class Quarantined:
    raw: Any
    error: ParseError


@dataclass(slots=True)
class Page:
    orders: list[Order] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    has_next: bool = False
    total: int | None = None


def obj(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParseError(path, f"expected an object, got {type(value).__name__}")
    return value


def text(data: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ParseError(f"{path}{key}", "missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParseError(f"{path}{key}", f"expected a string, got {type(value).__name__}")
    return str(value)


def integer(data: Mapping[str, Any], key: str, path: str, *, default: int | None = None,
            minimum: int = 0) -> int:
    value = data.get(key, default)
    if value is None:
        raise ParseError(f"{path}{key}", "missing")
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{path}{key}", f"expected an integer, got {value!r:.40}")
    if value < minimum:
        raise ParseError(f"{path}{key}", f"must be >= {minimum}, got {value}")
    return value


def fen(data: Mapping[str, Any], key: str, path: str, *, default: str | None = None) -> int:
    """Yuan as a decimal string ("179.00") to integer fen, exactly."""
    value = data.get(key, default)
    if value is None or value == "":
        if default is None:
            raise ParseError(f"{path}{key}", "missing")
        value = default
    if isinstance(value, str):
        whole, _, cents = value.partition(".")
        if whole.isdigit() and whole.isascii() and len(cents) <= 2 and (
                not cents or (cents.isdigit() and cents.isascii())):
            return int(whole) * 100 + int(cents.ljust(2, "0") or 0)
    elif isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * 100
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ParseError(f"{path}{key}", f"expected a decimal string, got {value!r:.40}")
    try:
        amount = Decimal(str(value)) * 100
    except InvalidOperation:
        raise ParseError(f"{path}{key}", f"not a number: {value!r:.40}") from None
    if not amount.is_finite() or amount != amount.to_integral_value() or amount < 0:
        raise ParseError(f"{path}{key}", f"not a non-negative amount in fen: {value!r:.40}")
    return int(amount)


def local_time(data: Mapping[str, Any], key: str, path: str, *,
               required: bool = True) -> datetime | None:
    """'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai, as Taobao and JD send it."""
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ParseError(f"{path}{key}", "missing")
        return None
    if not isinstance(value, str):
        raise ParseError(f"{path}{key}", f"expected 'YYYY-MM-DD HH:MM:SS', got {value!r:.40}")
    try:
        if len(value) != 19 or value[10] != " ":
            raise ValueError(value)
        return datetime.fromisoformat(value).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise ParseError(f"{path}{key}", f"bad time {value!r:.40}") from None


def unix_time(data: Mapping[str, Any], key: str, path: str, *,
              required: bool = True) -> datetime | None:
    """Unix seconds, as Douyin sends them; 0 means 'not yet'."""
    value = data.get(key)
    if value in (None, 0, "", "0"):
        if required:
            raise ParseError(f"{path}{key}", "missing")
        return None
    seconds = integer(data, key, path, minimum=1)
    if seconds > 4_102_444_800:  # 2100-01-01: milliseconds sent by mistake, or garbage
        raise ParseError(f"{path}{key}", f"not unix seconds: {seconds}")
    return datetime.fromtimestamp(seconds, SHANGHAI)


def listing(value: Any, path: str, *, required: bool = True) -> list:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ParseError(path, f"expected a list, got {type(value).__name__}")
    if required and not value:
        raise ParseError(path, "empty: an order needs at least one item")
    return value


def build(cls: type[M], values: dict[str, Any]) -> M:
    """A pydantic model from values already checked, every field given: what
    ``model_construct`` does, without its per-field default handling."""
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def make_item(sku: str, outer_sku: str, quantity: int, price_fen: int, path: str) -> Item:
    if quantity < 1:
        raise ParseError(path, f"quantity must be >= 1, got {quantity}")
    return build(Item, {"sku": sku, "outer_sku": outer_sku, "quantity": quantity,
                        "price_fen": price_fen})


def make_order(**fields: Any) -> Order:
    """An ``Order`` from fields the adapter has already checked (all of them)."""
    fields["buyer"] = build(Buyer, fields["buyer"])
    fields["receiver"] = build(Receiver, fields["receiver"])
    fields["amounts"] = build(Amounts, fields["amounts"])
    fields["items"] = tuple(fields["items"])
    return build(Order, fields)


def guarded(parse: Any, raw: Any, *args: Any) -> Order:
    """Run an adapter so that any input gives an ``Order`` or a ``ParseError``."""
    try:
        return parse(raw, *args)
    except ParseError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        order_id = raw.get("tid") or raw.get("orderId") or raw.get("order_id") \
            if isinstance(raw, Mapping) else ""
        raise ParseError("", f"malformed order: {type(exc).__name__}: {exc}",
                         str(order_id or "")) from None


def split_page(records: list, parse: Any, *args: Any) -> tuple[list[Order], list[Quarantined]]:
    orders, bad = [], []
    for index, raw in enumerate(records):
        try:
            orders.append(guarded(parse, raw, *args))
        except ParseError as exc:
            bad.append(Quarantined(raw, ParseError(f"[{index}].{exc.path}".rstrip("."),
                                                   exc.reason, exc.order_id)))
    return orders, bad
