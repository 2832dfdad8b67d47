"""The flat dict of facts a routing rule sees, built once per order.

Keys are the dotted names of ``hub.domain.rules.FACT_KINDS``; tags are tuples; enum
values are plain strings; ``hour`` is the hour of ``created_at`` in Asia/Shanghai.
``facts_builder(fields)`` makes a function that builds only the facts a rule set names
(one generated dict literal: building all 26 for every order costs more than the rules).

>>> from tests.factories import order
>>> f = order_facts(order(1), 42.0, "P2", ("invalid_phone",))
>>> f["channel"], f["receiver.city"], f["items.quantity"], f["lane"], f["hour"]
('tmall', '杭州市', 2, 'P2', 0)
>>> facts_builder(["channel", "score"])(order(1), 42.0, "P2", ())
{'channel': 'tmall', 'score': 42.0}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any

from hub.domain.order import SHANGHAI, Item, Order
from hub.domain.rules.evaluator import Inline

FactsBuilder = Callable[[Order, float, str, tuple[str, ...]], dict[str, Any]]

# fact name -> expression over o (order), score, lane, anomalies
EXPRESSIONS: dict[str, str] = {
    "channel": "str(o.channel)", "shop": "o.shop", "order_id": "o.order_id",
    "status": "str(o.status)", "order_type": "str(o.order_type)", "source": "o.source",
    "source_detail": "o.source_detail", "delivery": "str(o.delivery)",
    "warehouse_hint": "o.warehouse_hint", "buyer.id": "o.buyer.id",
    "buyer.tier": "o.buyer.tier", "buyer.tags": "o.buyer.tags",
    "receiver.province": "o.receiver.province", "receiver.city": "o.receiver.city",
    "receiver.district": "o.receiver.district", "amounts.total_fen": "o.amounts.total_fen",
    "amounts.paid_fen": "o.amounts.paid_fen", "amounts.discount_fen": "o.amounts.discount_fen",
    "amounts.freight_fen": "o.amounts.freight_fen", "items.count": "len(o.items)",
    "items.quantity": "(it[0].quantity if len(it := o.items) == 1 else quantity(it))",
    "items.skus": "skus(o.items)", "score": "score", "lane": "lane", "anomalies": "anomalies",
    "hour": "(c.hour if (c := o.created_at).tzinfo is SHANGHAI else hour(c))",
}


def quantity(items: tuple[Item, ...]) -> int:
    return items[0].quantity if len(items) == 1 else sum(i.quantity for i in items)


def skus(items: tuple[Item, ...]) -> tuple[str, ...]:
    return (items[0].sku,) if len(items) == 1 else tuple(i.sku for i in items)


def hour(created: datetime) -> int:
    return created.hour if created.tzinfo is SHANGHAI else created.astimezone(SHANGHAI).hour


_HOURS: dict[tuple[int, int, int, int], str] = {}
_MINUTES = [[f"{m:02d}:{s:02d}+08:00" for s in range(60)] for m in range(60)]
_VERSIONS: dict[datetime, str] = {}  # Shanghai whole-second moments -> their ISO text


def version_of(moment: datetime) -> str:
    """``moment.isoformat()``, in a tenth of the time for whole seconds in Shanghai (the hot
    case: adapters share the datetime of a time string seen before, and a datetime keeps
    its hash). Equal moments in Shanghai have the same text, so they share an entry.

    >>> version_of(datetime(2026, 11, 11, 9, 5, 7, tzinfo=SHANGHAI))
    '2026-11-11T09:05:07+08:00'
    """
    if moment.tzinfo is not SHANGHAI or moment.microsecond or moment.year < 1992:
        return moment.isoformat()  # Shanghai has kept +08:00 all year since 1992
    text = _VERSIONS.get(moment)
    if text is not None:
        return text
    key = (moment.year, moment.month, moment.day, moment.hour)
    prefix = _HOURS.get(key)
    if prefix is None:
        if len(_HOURS) > 10_000:
            _HOURS.clear()
        prefix = _HOURS[key] = moment.isoformat()[:14]
    if len(_VERSIONS) > 65_536:
        _VERSIONS.clear()
    text = _VERSIONS[moment] = prefix + _MINUTES[moment.minute][moment.second]
    return text


@lru_cache(maxsize=64)
def _compile(fields: tuple[str, ...]) -> FactsBuilder:
    body = ", ".join(f"{name!r}: {EXPRESSIONS[name]}" for name in fields)
    source = f"def build(o, score, lane, anomalies):\n    return {{{body}}}\n"
    namespace: dict[str, Any] = {"quantity": quantity, "skus": skus, "hour": hour,
                                 "SHANGHAI": SHANGHAI}
    exec(compile(source, "<facts>", "exec"), namespace)  # names checked against EXPRESSIONS
    return namespace["build"]


def facts_builder(fields: Iterable[str]) -> FactsBuilder:
    """A function ``(order, score, lane, anomalies) -> facts`` for just ``fields``."""
    wanted = tuple(sorted(set(fields)))
    unknown = [name for name in wanted if name not in EXPRESSIONS]
    if unknown:
        raise ValueError(f"unknown facts: {', '.join(unknown)}")
    return _compile(wanted)


def _codes(found: Any) -> tuple[str, ...]:
    return tuple(a.code for a in found) if found else ()


# The same facts straight from (order, Score, anomalies) rows, for rules compiled with
# ``Evaluator.over``: enum members stand for their values (they compare and hash as them).
ROWS = Inline(
    columns=("batch", "scores", "anomalies"), names=("o", "s", "found"),
    prelude=("od = o.__dict__",),  # pydantic attributes are slow to read; the dict is not
    expressions={name: re.sub(r"\bo\.(\w+)", r"od['\1']", expression)
                 for name, expression in EXPRESSIONS.items()} | {
        "channel": "od['channel']", "status": "od['status']",
        "order_type": "od['order_type']", "delivery": "od['delivery']", "score": "s.score",
        "lane": "s.lane", "anomalies": "codes(found)"},
    namespace={"quantity": quantity, "skus": skus, "hour": hour, "SHANGHAI": SHANGHAI,
               "codes": _codes})


def order_facts(order: Order, score: float, lane: str,
                anomalies: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every fact of ``order`` with its computed score, lane and anomaly codes."""
    return _ALL(order, score, lane, anomalies)


_ALL = _compile(tuple(EXPRESSIONS))
