"""An order as one flat tuple of plain values, and back: how an ``Order`` pickles.

A batch of orders crosses four actor boundaries on its way to a decision (puller to
ledger, puller to router, router to each pool). Pickled by pydantic's own state, an
order is six models with four dicts or sets each, ~530 bytes, ~25 us to pickle and
~11 us to unpickle (Ray's pickler calls back into Python for every model). As a flat
tuple of strings, numbers and tuples it is ~210 bytes, pickled in C, ~5 us each way.

An order keeps its flat tuple once made (the slot ``_flat``, not a field: equality,
hashing and ``model_copy`` ignore it), and a rebuilt order keeps the tuple it came
from, so an order sent on again is not flattened again. Orders are frozen, so the
tuple stays true; ``with_buyer`` gives the CRM-enriched copy a tuple of its own.

Times in Asia/Shanghai travel as POSIX timestamps (exact to the microsecond for any
date before 2255); any other time travels as it is. The values are the checked values
of a valid order, so the rebuilt order is not validated again.

>>> import pickle
>>> from datetime import datetime
>>> from hub.domain.order import SHANGHAI, Amounts, Buyer, Item, Order, Receiver
>>> at = datetime(2026, 11, 11, 0, 0, 1, 250, tzinfo=SHANGHAI)
>>> order = Order(channel="jd", shop="s", order_id="J1", status="paid", created_at=at,
...               modified_at=at, buyer=Buyer(id="b"), receiver=Receiver(city="杭州市"),
...               items=(Item(sku="A", quantity=2, price_fen=100),),
...               amounts=Amounts(total_fen=200, paid_fen=200))
>>> copy = pickle.loads(pickle.dumps(order))
>>> same_fields = copy.model_fields_set == order.model_fields_set
>>> copy == order, copy.created_at.tzinfo is SHANGHAI, same_fields
(True, True, True)
>>> flatten(copy) is flatten(copy)  # made once, when the copy was rebuilt
True
>>> vip = with_buyer(copy, Buyer(id="b", tier="vip"))
>>> rebuild(flatten(vip)) == vip, vip.buyer.tier, flatten(copy)[8]
(True, 'vip', 'normal')
"""

from __future__ import annotations

from datetime import datetime
from pickle import dumps as _pickle_dumps
from pickle import loads as _pickle_loads
from typing import Any

from pydantic import BaseModel

from hub.domain.order import (
    SHANGHAI,
    Amounts,
    Buyer,
    Channel,
    DeliveryService,
    Item,
    Order,
    OrderStatus,
    OrderType,
    Receiver,
)

_slots = BaseModel.__dict__
_new = object.__new__
_set_dict = _slots["__dict__"].__set__
_set_fields_set = _slots["__pydantic_fields_set__"].__set__
_set_extra = _slots["__pydantic_extra__"].__set__
_set_private = _slots["__pydantic_private__"].__set__
_set_flat = Order._flat.__set__  # type: ignore[attr-defined]
_from_ts = datetime.fromtimestamp
_CHANNEL = Channel._value2member_map_
_STATUS = OrderStatus._value2member_map_
_TYPE = OrderType._value2member_map_
_DELIVERY = DeliveryService._value2member_map_
FIELDS: dict[type, set[str]] = {cls: set(cls.model_fields)
                                for cls in (Order, Buyer, Receiver, Item, Amounts)}


def build(cls: type[BaseModel], values: dict[str, Any], given: Any = None) -> Any:
    """A model from already checked values: what ``model_construct`` does, at a fifth of
    its cost. ``given``: the fields set explicitly, when not all of them; the all-fields
    set is shared (pydantic copies it before ``model_copy(update=...)`` changes it)."""
    model = _new(cls)
    _set_dict(model, values)
    _set_fields_set(model, FIELDS[cls] if given is None else set(given))
    _set_extra(model, None)
    _set_private(model, None)
    return model


def _given(model: Any) -> frozenset[str] | None:
    given = model.__pydantic_fields_set__
    every = FIELDS[model.__class__]
    return None if given is every or given == every else frozenset(given)


def _time(value: datetime | None) -> Any:
    if value is not None and value.tzinfo is SHANGHAI and not value.fold:
        return value.timestamp()
    return value


def flatten(order: Order) -> tuple:
    """The order as a tuple of plain values (the argument of ``rebuild``)."""
    kept = getattr(order, "_flat", None)
    if kept is not None:
        return kept
    flat = _flatten(order)
    _set_flat(order, flat)
    return flat


def _flatten(order: Order) -> tuple:
    d = order.__dict__
    buyer, receiver, amounts, items = d["buyer"], d["receiver"], d["amounts"], d["items"]
    b, r, a = buyer.__dict__, receiver.__dict__, amounts.__dict__
    return (
        d["channel"]._value_, d["shop"], d["order_id"], d["status"]._value_,
        _time(d["created_at"]), _time(d["paid_at"]), _time(d["modified_at"]),
        b["id"], b["tier"], b["tags"],
        r["name"], r["phone"], r["province"], r["city"], r["district"], r["street"],
        r["detail"],
        tuple((i.sku, i.outer_sku, i.quantity, i.price_fen, _given(i), i.item_id)
              for i in items),
        a["total_fen"], a["discount_fen"], a["freight_fen"], a["paid_fen"],
        d["order_type"]._value_, d["source"], d["source_detail"], d["delivery"]._value_,
        d["warehouse_hint"],
        _given(order), _given(buyer), _given(receiver), _given(amounts),
    )


def with_buyer(order: Order, buyer: Buyer) -> Order:
    """``order`` with ``buyer`` in place of its own (the CRM's tier and tags); when the
    order has its flat tuple, the copy gets one made from it, not flattened anew."""
    copy = order.model_copy(update={"buyer": buyer})
    flat = getattr(order, "_flat", None)
    if flat is not None:
        _set_flat(copy, (*flat[:7], buyer.id, buyer.tier, buyer.tags, *flat[10:27],
                         _given(copy), _given(buyer), *flat[29:]))
    return copy


class OrderBatch(list):
    """Orders that pickle as one blob: their flat tuples pickled together in C, where a
    pickler with a ``reducer_override`` (Ray's) calls back into Python for every order.
    Unpickled, the batch is a plain list of orders."""

    __slots__ = ()

    def __reduce__(self) -> tuple:
        return (orders_of, (_pickle_dumps([flatten(o) for o in self], 5),))


def orders_of(blob: bytes) -> list[Order]:
    """The orders of a pickled ``OrderBatch``."""
    return [rebuild(s) for s in _pickle_loads(blob)]


def rebuild(s: tuple) -> Order:
    """The order ``flatten`` was given (keeping ``s`` as its flat tuple)."""
    order = _rebuild(s)
    _set_flat(order, s)
    return order


def _rebuild(s: tuple) -> Order:
    at = _from_ts
    created, paid, modified = s[4], s[5], s[6]
    return build(Order, {
        "channel": _CHANNEL[s[0]], "shop": s[1], "order_id": s[2], "status": _STATUS[s[3]],
        "created_at": at(created, SHANGHAI) if created.__class__ is float else created,
        "paid_at": at(paid, SHANGHAI) if paid.__class__ is float else paid,
        "modified_at": at(modified, SHANGHAI) if modified.__class__ is float else modified,
        "buyer": build(Buyer, {"id": s[7], "tier": s[8], "tags": s[9]}, s[28]),
        "receiver": build(Receiver, {"name": s[10], "phone": s[11], "province": s[12],
                                     "city": s[13], "district": s[14], "street": s[15],
                                     "detail": s[16]}, s[29]),
        "items": tuple(build(Item, {"sku": i[0], "outer_sku": i[1], "quantity": i[2],
                                    "price_fen": i[3], "item_id": i[5]}, i[4])
                       for i in s[17]),
        "amounts": build(Amounts, {"total_fen": s[18], "discount_fen": s[19],
                                   "freight_fen": s[20], "paid_fen": s[21]}, s[30]),
        "order_type": _TYPE[s[22]], "source": s[23], "source_detail": s[24],
        "delivery": _DELIVERY[s[25]], "warehouse_hint": s[26],
    }, s[27])
