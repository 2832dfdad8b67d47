"""What the three marketplace adapters share: the error and page types, field readers
that name the field they could not read, exact money, Shanghai times, and the fast
builders of the (frozen) canonical models.

Speed: the domain pipeline must reach 30,000 orders/s on one core, so an adapter has
about 10 us per order. The readers have a fast path (one type test and a dict look-up
in a bounded cache) and a slow path that converts or raises ``ParseError``. Models are
built after the adapter's own checks, which keep the model's invariants (at least one
item, quantity >= 1, amounts >= 0, aware Shanghai times, enum members), without running
pydantic's validation again. Frozen sub-models (items, buyers, receivers, amounts) are
immutable, so equal ones are shared through bounded caches.

>>> to_fen("179.5", "price"), to_fen(12, "price")
(17950, 1200)
>>> to_fen("1.999", "price")
Traceback (most recent call last):
...
hub.domain.adapters.common.ParseError: price: not an amount in yuan with at most 2 decimals: '1.999'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from hub.domain.order import SHANGHAI, Amounts, Buyer, Item, Order, Receiver

_new = object.__new__
_set = object.__setattr__
CACHE_LIMIT = 65536  # entries per cache; a full cache is simply cleared
LATEST = 4_102_444_800  # 2100-01-01 as unix seconds: anything later is not a plausible time


class ParseError(ValueError):
    """A raw order that cannot become an ``Order``: ``path`` names the field
    (e.g. ``orders.order[1].num``), ``reason`` says why; ``order_id`` when known."""

    def __init__(self, path: str, reason: str, order_id: str = "") -> None:
        super().__init__(f"{path or '<order>'}: {reason}")
        self.path, self.reason, self.order_id = path, reason, order_id

    def within(self, prefix: str) -> ParseError:
        """The same error with its path inside ``prefix`` (a list index or a field)."""
        path = f"{prefix}.{self.path}" if self.path and not self.path.startswith("[") \
            else prefix + self.path
        return ParseError(path, self.reason, self.order_id)


class MarketplaceError(Exception):
    """The marketplace answered with its error envelope instead of orders."""

    def __init__(self, code: str, message: str, sub_code: str = "", retryable: bool = False,
                 throttled: bool = False) -> None:
        self.code, self.message, self.sub_code = str(code), str(message), str(sub_code)
        self.throttled = bool(throttled)
        self.retryable = bool(retryable) or self.throttled
        super().__init__(" ".join(p for p in (self.code, self.sub_code, self.message) if p))


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A record of a page that did not parse, kept whole with the reason."""

    raw: Any
    error: ParseError


@dataclass(slots=True)
class Page:
    orders: list[Order] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    has_next: bool = False
    total: int | None = None


def kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def as_object(value: Any, path: str) -> dict:
    if value.__class__ is dict:
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise ParseError(path, f"expected an object, got {kind(value)}")


def as_list(value: Any, path: str) -> list:
    if value.__class__ is list:
        return value
    if isinstance(value, tuple):
        return list(value)
    raise ParseError(path, f"expected a list, got {kind(value)}")


def text(value: Any, path: str) -> str:
    """A required identifier or text: a non-empty string, or an integer id."""
    if value.__class__ is str and value:
        return value
    if value is None or value == "":
        raise ParseError(path, "missing")
    if value.__class__ is int:
        return str(value)
    raise ParseError(path, f"expected a string, got {kind(value)}")


def opt_text(value: Any, path: str) -> str:
    """An optional text: missing or null is ""."""
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    if value.__class__ is int:
        return str(value)
    raise ParseError(path, f"expected a string, got {kind(value)}")


def count(value: Any, path: str, minimum: int = 0) -> int:
    """A non-negative integer (JSON number or digit string) of at least ``minimum``."""
    if value.__class__ is not int:
        if value is None:
            raise ParseError(path, "missing")
        if (value.__class__ is str and value.isascii() and value.isdigit()) or (
                value.__class__ is float and value.is_integer()):
            value = int(value)
        else:
            raise ParseError(path, f"expected an integer, got {value!r:.40}")
    if value < minimum:
        raise ParseError(path, f"must be >= {minimum}, got {value}")
    return value


_FEN: dict[str, int] = {}


def to_fen(value: Any, path: str) -> int:
    """Yuan (a decimal string such as "179.00", or a number) to integer fen, exactly."""
    if value.__class__ is str:
        fen = _FEN.get(value)
        if fen is not None:
            return fen
        whole, dot, cents = value.partition(".")
        if whole.isdigit() and whole.isascii() and len(cents) <= 2 and (
                (cents.isdigit() and cents.isascii()) or not dot):
            fen = int(whole) * 100 + int(cents.ljust(2, "0") or 0)
        else:
            fen = _decimal_fen(value, value.strip(), path)
        if len(_FEN) >= CACHE_LIMIT:
            _FEN.clear()
        _FEN[value] = fen
        return fen
    if value.__class__ is int:
        if value < 0:
            raise ParseError(path, f"must not be negative, got {value}")
        return value * 100
    if value is None:
        raise ParseError(path, "missing")
    if value.__class__ is float:
        return _decimal_fen(value, repr(value), path)
    raise ParseError(path, f"expected an amount in yuan, got {kind(value)}")


def _decimal_fen(value: Any, literal: str, path: str) -> int:
    try:
        amount = Decimal(literal) * 100
    except InvalidOperation:
        raise ParseError(path, f"not an amount: {value!r:.40}") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ParseError(path, f"not an amount in yuan with at most 2 decimals: {value!r:.40}")
    if amount < 0:
        raise ParseError(path, f"must not be negative, got {value!r:.40}")
    return int(amount)


def opt_fen(value: Any, path: str) -> int:
    return 0 if value is None or value == "" else to_fen(value, path)


_LOCAL: dict[str, datetime] = {}
_UNIX: dict[int, datetime] = {}
_fromisoformat = datetime.fromisoformat
_fromtimestamp = datetime.fromtimestamp


def local_time(value: Any, path: str) -> datetime:
    """'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai, as Taobao and JD send times."""
    if value.__class__ is str:
        moment = _LOCAL.get(value)
        if moment is not None:
            return moment
        if len(value) == 19 and value[10] == " " and value.isascii():
            try:
                d = _fromisoformat(value)
            except ValueError:
                pass
            else:
                moment = datetime(d.year, d.month, d.day, d.hour, d.minute, d.second, 0, SHANGHAI)
                if len(_LOCAL) >= CACHE_LIMIT:
                    _LOCAL.clear()
                _LOCAL[value] = moment
                return moment
        raise ParseError(path, f"expected 'YYYY-MM-DD HH:MM:SS', got {value!r:.40}")
    if value is None:
        raise ParseError(path, "missing")
    raise ParseError(path, f"expected 'YYYY-MM-DD HH:MM:SS', got {kind(value)}")


def opt_local_time(value: Any, path: str) -> datetime | None:
    return None if value is None or value == "" else local_time(value, path)


def unix_time(value: Any, path: str) -> datetime:
    """Unix seconds, as Douyin sends times."""
    if value.__class__ is int:
        moment = _UNIX.get(value)
        if moment is not None:
            return moment
    seconds = count(value, path, minimum=1)
    if seconds >= LATEST:
        raise ParseError(path, f"not unix seconds (after 2100): {seconds}")
    moment = _fromtimestamp(seconds, SHANGHAI)
    if len(_UNIX) >= CACHE_LIMIT:
        _UNIX.clear()
    _UNIX[seconds] = moment
    return moment


def opt_unix_time(value: Any, path: str) -> datetime | None:
    """0 (or missing) means 'not yet', as Douyin sends an unpaid order's pay_time."""
    return None if value in (None, 0, "", "0") else unix_time(value, path)


# -- building the frozen models ------------------------------------------------------

_FIELDS: dict[type, set[str]] = {cls: set(cls.model_fields)
                                  for cls in (Order, Buyer, Receiver, Item, Amounts)}


def build(cls: type[BaseModel], values: dict[str, Any]) -> Any:
    """A model from already checked values, every field given: what ``model_construct``
    does, at a fifth of its cost. The field-name set is shared (pydantic copies it before
    ``model_copy(update=...)`` changes it)."""
    model = _new(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", _FIELDS[cls])
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


_ITEMS: dict[tuple, Item] = {}
_BUYERS: dict[tuple, Buyer] = {}
_RECEIVERS: dict[tuple, Receiver] = {}
_AMOUNTS: dict[tuple, Amounts] = {}


def item(sku: str, outer_sku: str, quantity: int, price_fen: int) -> Item:
    """Checked values -> a (shared) ``Item``; quantity >= 1 and price >= 0 are the caller's."""
    key = (sku, outer_sku, quantity, price_fen)
    found = _ITEMS.get(key)
    if found is None:
        if len(_ITEMS) >= CACHE_LIMIT:
            _ITEMS.clear()
        found = _ITEMS[key] = build(Item, {"sku": sku, "outer_sku": outer_sku,
                                           "quantity": quantity, "price_fen": price_fen})
    return found


def buyer(buyer_id: str, tier: str = "normal", tags: tuple[str, ...] = ()) -> Buyer:
    key = (buyer_id, tier, tags)
    found = _BUYERS.get(key)
    if found is None:
        if len(_BUYERS) >= CACHE_LIMIT:
            _BUYERS.clear()
        found = _BUYERS[key] = build(Buyer, {"id": buyer_id, "tier": tier, "tags": tags})
    return found


def receiver(name: str, phone: str, province: str, city: str, district: str, street: str,
             detail: str) -> Receiver:
    key = (name, phone, province, city, district, street, detail)
    found = _RECEIVERS.get(key)
    if found is None:
        if len(_RECEIVERS) >= CACHE_LIMIT:
            _RECEIVERS.clear()
        found = _RECEIVERS[key] = build(Receiver, {
            "name": name, "phone": phone, "province": province, "city": city,
            "district": district, "street": street, "detail": detail})
    return found


def amounts(total_fen: int, discount_fen: int, freight_fen: int, paid_fen: int) -> Amounts:
    key = (total_fen, discount_fen, freight_fen, paid_fen)
    found = _AMOUNTS.get(key)
    if found is None:
        if len(_AMOUNTS) >= CACHE_LIMIT:
            _AMOUNTS.clear()
        found = _AMOUNTS[key] = build(Amounts, {
            "total_fen": total_fen, "discount_fen": discount_fen, "freight_fen": freight_fen,
            "paid_fen": paid_fen})
    return found


def make_order(channel: Any, shop: str, order_id: str, status: Any, created: datetime,
               paid_at: datetime | None, modified: datetime, the_buyer: Buyer,
               the_receiver: Receiver, items: tuple[Item, ...], the_amounts: Amounts,
               order_type: Any, source: str, source_detail: str, delivery: Any,
               warehouse_hint: str) -> Order:
    """An ``Order`` from checked parts (enum members, Shanghai times, >= 1 item)."""
    return build(Order, {
        "channel": channel, "shop": shop, "order_id": order_id, "status": status,
        "created_at": created, "paid_at": paid_at, "modified_at": modified,
        "buyer": the_buyer, "receiver": the_receiver, "items": items,
        "amounts": the_amounts, "order_type": order_type, "source": source,
        "source_detail": source_detail, "delivery": delivery,
        "warehouse_hint": warehouse_hint})


# -- running an adapter over one record, a list, or a page ---------------------------

def order_id_of(raw: Any, keys: tuple[str, ...]) -> str:
    if isinstance(raw, Mapping):
        for key in keys:
            value = raw.get(key)
            if value.__class__ in (str, int) and value != "":
                return str(value)
    return ""


def guarded(parse: Any, raw: Any, id_keys: tuple[str, ...], *args: Any) -> Order:
    """Run ``parse`` so that any input gives an ``Order`` or a ``ParseError`` that
    carries the order id when the record has one."""
    try:
        return parse(raw, *args)
    except ParseError as exc:
        if not exc.order_id:
            exc.order_id = order_id_of(raw, id_keys)
        raise
    except Exception as exc:  # a bug must not lose the record: quarantine it with the cause
        raise ParseError("", f"malformed order: {type(exc).__name__}: {exc}",
                         order_id_of(raw, id_keys)) from None


def split(records: list, parse: Any, id_keys: tuple[str, ...], *args: Any) -> Page:
    """Parse every record; the ones that fail are quarantined with their list index."""
    page = Page()
    append, bad = page.orders.append, page.quarantined.append
    for index, raw in enumerate(records):
        try:
            append(guarded(parse, raw, id_keys, *args))
        except ParseError as exc:
            bad(Quarantined(raw, exc.within(f"[{index}]")))
    return page


def has_next(total: int | None, page_no: int | None, page_size: int | None,
             first_page: int) -> bool:
    """Whether pages remain, from the total and the page asked for (when the marketplace
    does not say so itself)."""
    if total is None or page_no is None or not page_size:
        return False
    return (page_no - first_page + 1) * page_size < total


def total_of(value: Any) -> int | None:
    if value.__class__ is int and value >= 0:
        return value
    if value.__class__ is str and value.isascii() and value.isdigit():
        return int(value)
    return None
