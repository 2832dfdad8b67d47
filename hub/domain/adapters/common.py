"""What the three marketplace adapters share: the error and page types, field readers
that name the field they could not read, exact money, Shanghai times, and the fast
builders of the (frozen) canonical models.

Speed: the domain pipeline must reach 30,000 orders/s on one core, so an adapter has
about 10 us per order. The readers have a fast path (one type test and a dict look-up
in a bounded cache) and a slow path that converts or raises ``ParseError``. Models are
built after the adapter's own checks, which keep the model's invariants (at least one
item, quantity >= 1, amounts >= 0, aware Shanghai times, enum members), without running
pydantic's validation again. Frozen sub-models are immutable, so equal items and amounts
are shared through bounded caches. A page is parsed with the cyclic GC paused.

>>> to_fen("179.5", "price"), to_fen(12, "price")
(17950, 1200)
>>> to_fen("1.999", "price")
Traceback (most recent call last):
...
hub.domain.adapters.common.ParseError: price: not an amount in yuan with at most 2 decimals: '1.999'
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from hub.domain.order import SHANGHAI, Amounts, Buyer, Item, Order, Receiver
from hub.domain.order_codec import build
from hub.errors import OrderHubError

CACHE_LIMIT = 65536  # entries per cache; a full cache is simply cleared
LATEST = 4_102_444_800  # 2100-01-01 as unix seconds: anything later is not a plausible time


class ParseError(OrderHubError, ValueError):
    """A raw order that cannot become an ``Order``: ``path`` names the field
    (e.g. ``orders.order[1].num``), ``reason`` says why; ``order_id`` when known.
    Still a ``ValueError``, as callers (the push endpoint) catch it so."""

    def __init__(self, path: str, reason: str, order_id: str = "") -> None:
        super().__init__(f"{path or '<order>'}: {reason}")
        self.path, self.reason, self.order_id = path, reason, order_id

    def within(self, prefix: str) -> ParseError:
        """The same error with its path inside ``prefix`` (a list index or a field)."""
        path = f"{prefix}.{self.path}" if self.path and not self.path.startswith("[") \
            else prefix + self.path
        return ParseError(path, self.reason, self.order_id)


class MarketplaceError(OrderHubError):
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
    # (order id, modified at) of records left unconverted: versions the caller knows
    known: list[tuple[str, datetime]] = field(default_factory=list)


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
        if (value.__class__ is str and value.isascii() and value.isdigit()
                and len(value) <= 18) or (value.__class__ is float and value.is_integer()):
            value = int(value)
        else:
            raise ParseError(path, f"expected an integer, got {value!r:.40}")
    if value < minimum:
        raise ParseError(path, f"must be >= {minimum}, got {value}")
    return value


def remember(cache: dict, key: Any, value: Any) -> Any:
    """Store ``value`` in a bounded cache (a full cache is simply emptied first)."""
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


_FEN: dict[str, int] = {}


def to_fen(value: Any, path: str) -> int:
    """Yuan (a decimal string such as "179.00", or a number) to integer fen, exactly."""
    if value.__class__ is str:
        fen = _FEN.get(value)
        if fen is not None:
            return fen
        digits = value[:-3] + value[-2:]  # "179.00" -> "17900"
        if len(value) > 24:
            raise ParseError(path, f"not an amount: {value!r:.40}")
        if value[-3:-2] == "." and digits.isdigit() and digits.isascii():
            fen = int(digits)
        else:
            fen = _decimal_fen(value, value, path)
        return remember(_FEN, value, fen)
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
        amount = Decimal(literal.strip()) * 100 if literal.isascii() else Decimal("x")
    except InvalidOperation:
        raise ParseError(path, f"not an amount: {value!r:.40}") from None
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ParseError(path, f"not an amount in yuan with at most 2 decimals: {value!r:.40}")
    if amount < 0:
        raise ParseError(path, f"must not be negative, got {value!r:.40}")
    return int(amount)


def opt_fen(value: Any, path: str) -> int:
    if value.__class__ is str:
        fen = _FEN.get(value)
        if fen is not None:
            return fen
    return 0 if value is None or value == "" else to_fen(value, path)


cached_fen = _FEN.get  # adapters try this first: fen for a yuan string seen before, or None
SMALL_COUNTS = {str(n): n for n in range(1, 1000)}  # item counts sent as digit strings


# Times: Shanghai has had no daylight saving since 1991, so a day's midnight plus the
# time of day is the moment; both halves are cached (days are few, times of day 86,400).
# Whole values are cached too: created / paid / modified often repeat across orders.
_DAYS: dict[str, datetime] = {}
_CLOCKS: dict[str, timedelta] = {}
_MOMENTS: dict[str, datetime] = {}
_UNIX_DAYS: dict[int, datetime] = {}
_UNIX_CLOCKS: dict[int, timedelta] = {}
_UNIX: dict[int, datetime] = {}
_SECOND = timedelta(seconds=1)
NO_DST_SINCE = 694_224_000  # 1992-01-01 as unix seconds


def local_time(value: Any, path: str) -> datetime:
    """'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai, as Taobao and JD send times."""
    if value.__class__ is str:
        moment = _MOMENTS.get(value)
        if moment is not None:
            return moment
        if len(value) == 19 and value[10] == " ":
            day, clock = _DAYS.get(value[:10]), _CLOCKS.get(value[11:])
            if day is None or clock is None:
                day, clock = _halves(value, path)
            return remember(_MOMENTS, value, day + clock)
    if value is None:
        raise ParseError(path, "missing")
    raise ParseError(path, f"expected 'YYYY-MM-DD HH:MM:SS', got {_shown(value)}")


def _shown(value: Any) -> str:
    return f"{value!r:.40}" if value.__class__ is str else kind(value)


def _halves(value: str, path: str) -> tuple[datetime, timedelta]:
    """Check a time string never seen and cache its day and time of day."""
    try:
        if value[4] != "-" or value[7] != "-" or value[13] != ":" or value[16] != ":":
            raise ValueError(value)
        moment = datetime.fromisoformat(value)  # with the separators fixed: digits only
        if moment.tzinfo is not None:
            raise ValueError(value)
    except ValueError:
        raise ParseError(path, f"expected 'YYYY-MM-DD HH:MM:SS', got {_shown(value)}") from None
    day = _DAYS.get(value[:10]) or remember(_DAYS, value[:10], datetime(
        moment.year, moment.month, moment.day, 0, 0, 0, 0, SHANGHAI))
    clock = _CLOCKS[value[11:]] = moment - day.replace(tzinfo=None)
    return day, clock


def opt_local_time(value: Any, path: str) -> datetime | None:
    return None if value is None or value == "" else local_time(value, path)


def unix_time(value: Any, path: str) -> datetime:
    """Unix seconds, as Douyin sends times."""
    moment = _UNIX.get(value) if value.__class__ is int else None
    if moment is not None:
        return moment
    if value.__class__ is int and NO_DST_SINCE <= value < LATEST:
        day, second = divmod(value, 86400)
        base = _UNIX_DAYS.get(day) or remember(
            _UNIX_DAYS, day, datetime.fromtimestamp(day * 86400, SHANGHAI))
        clock = _UNIX_CLOCKS.get(second)
        if clock is None:
            clock = _UNIX_CLOCKS[second] = _SECOND * second
        return remember(_UNIX, value, base + clock)
    seconds = count(value, path, minimum=1)
    if seconds >= LATEST:
        raise ParseError(path, f"not unix seconds (after 2100): {seconds}")
    return datetime.fromtimestamp(seconds, SHANGHAI)


def opt_unix_time(value: Any, path: str) -> datetime | None:
    """0 (or missing) means 'not yet', as Douyin sends an unpaid order's pay_time."""
    return None if value in (None, 0, "", "0") else unix_time(value, path)


# -- building the frozen models ------------------------------------------------------

class Interned(dict):
    """Equal frozen sub-models shared: ``cache.get(key) or cache.make(key)``, the key being
    the tuple of (checked) field values. Quantity >= 1, amounts >= 0 are the caller's."""

    def __init__(self, fields: Callable[[tuple], Any]) -> None:
        super().__init__()
        self.fields = fields

    def make(self, key: tuple) -> Any:
        return remember(self, key, self.fields(key))


def new_item(k: tuple) -> Item:
    """``k``: (SKU id, outer code, quantity, unit price in fen, item id)."""
    return build(Item, {"sku": k[0], "outer_sku": k[1], "quantity": k[2], "price_fen": k[3],
                        "item_id": k[4]})


def line_named(sku: str, item_id: str, outer: str, path: str) -> None:
    """A line needs a SKU id, an item id or an outer code (any one of them is read)."""
    if not (sku or item_id or outer):
        raise ParseError(path, "missing: a line needs a SKU id, an item id or an outer code")


def new_buyer(buyer_id: str, tier: str, tags: tuple[str, ...]) -> Buyer:
    """Buyers rarely repeat within a day's pages, so they are built, not shared."""
    return build(Buyer, {"id": buyer_id, "tier": tier, "tags": tags})


def new_receiver(k: tuple) -> Receiver:
    """Receivers are rarely equal, so they are built, not shared."""
    return build(Receiver, {"name": k[0], "phone": k[1], "province": k[2], "city": k[3],
                            "district": k[4], "street": k[5], "detail": k[6]})


def new_amounts(k: tuple) -> Amounts:
    return build(Amounts, {"total_fen": k[0], "discount_fen": k[1], "freight_fen": k[2],
                           "paid_fen": k[3]})


ITEMS, AMOUNTS = Interned(new_item), Interned(new_amounts)


def order_of(values: dict[str, Any]) -> Order:
    """An ``Order`` from checked values of every field (enum members, Shanghai times,
    >= 1 item, shared sub-models)."""
    return build(Order, values)


# -- running an adapter over one record, a list, or a page ---------------------------

def order_id_of(raw: Any, keys: tuple[str, ...]) -> str:
    if isinstance(raw, Mapping):
        for key in keys:
            value = raw.get(key)
            if value.__class__ in (str, int) and value != "":
                return str(value)
    return ""


def caught(exc: Exception, raw: Any, id_keys: tuple[str, ...]) -> ParseError:
    """The ``ParseError`` for a record whose parse raised ``exc``, with the order id when
    the record has one. Anything but a ``ParseError`` is a bug, yet the record must not be
    lost: it is quarantined with the cause."""
    if exc.__class__ is not ParseError:
        exc = ParseError("", f"malformed order: {type(exc).__name__}: {exc}")
    if not exc.order_id:
        exc.order_id = order_id_of(raw, id_keys)
    return exc


def guarded(parse: Any, raw: Any, id_keys: tuple[str, ...], *args: Any) -> Order:
    """Run ``parse`` so that any input gives an ``Order`` or a ``ParseError``."""
    try:
        return parse(raw, *args)
    except Exception as exc:
        raise caught(exc, raw, id_keys) from None


def split(records: list, parse: Any, id_keys: tuple[str, ...], *args: Any) -> Page:
    """Parse every record; the ones that fail are quarantined with their list index.

    The cyclic garbage collector is paused meanwhile: a page makes thousands of small,
    acyclic, long-lived objects, and every collection they trigger rescans the caller's
    whole heap (measured: a third of the parse time with a large heap). Collection is
    deferred, not skipped."""
    page = Page()
    append, bad = page.orders.append, page.quarantined.append
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        for index, raw in enumerate(records):
            try:
                append(parse(raw, *args))
            except Exception as exc:
                bad(Quarantined(raw, caught(exc, raw, id_keys).within(f"[{index}]")))
    finally:
        if paused:
            gc.enable()
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
    if value.__class__ is str and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
