"""The flat dict of facts a routing rule sees, built once per order.

Keys are the dotted names of ``hub.domain.rules.FACT_KINDS``; tags are tuples; enum
values are plain strings; ``hour`` is the hour of ``created_at`` in Asia/Shanghai.

>>> from tests.factories import order
>>> f = order_facts(order(1), 42.0, "P2", ("invalid_phone",))
>>> f["channel"], f["receiver.city"], f["items.quantity"], f["lane"], f["hour"]
('tmall', '杭州市', 2, 'P2', 0)
"""

from __future__ import annotations

from typing import Any

from hub.domain.order import SHANGHAI, Order


def order_facts(order: Order, score: float, lane: str,
                anomalies: tuple[str, ...] = ()) -> dict[str, Any]:
    """The facts of ``order`` with its computed score, lane and anomaly codes."""
    buyer, receiver, amounts, items = order.buyer, order.receiver, order.amounts, order.items
    created = order.created_at
    if created.tzinfo is not SHANGHAI:
        created = created.astimezone(SHANGHAI)
    if len(items) == 1:
        item = items[0]
        skus: tuple[str, ...] = (item.sku,)
        quantity = item.quantity
    else:
        skus = tuple(i.sku for i in items)
        quantity = sum(i.quantity for i in items)
    return {
        "channel": str(order.channel),
        "shop": order.shop,
        "order_id": order.order_id,
        "status": str(order.status),
        "order_type": str(order.order_type),
        "source": order.source,
        "source_detail": order.source_detail,
        "delivery": str(order.delivery),
        "warehouse_hint": order.warehouse_hint,
        "buyer.id": buyer.id,
        "buyer.tier": buyer.tier,
        "buyer.tags": buyer.tags,
        "receiver.province": receiver.province,
        "receiver.city": receiver.city,
        "receiver.district": receiver.district,
        "amounts.total_fen": amounts.total_fen,
        "amounts.paid_fen": amounts.paid_fen,
        "amounts.discount_fen": amounts.discount_fen,
        "amounts.freight_fen": amounts.freight_fen,
        "items.count": len(items),
        "items.quantity": quantity,
        "items.skus": skus,
        "score": score,
        "lane": lane,
        "anomalies": anomalies,
        "hour": created.hour,
    }
