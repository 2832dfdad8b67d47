"""Canonical orders for tests: one clean order, changed by keyword."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub.domain.order import SHANGHAI, Amounts, Buyer, Item, Order, Receiver

T0 = datetime(2026, 11, 11, 0, 0, 5, tzinfo=SHANGHAI)


def order(n: int = 1, **changes: Any) -> Order:
    created = changes.pop("created_at", T0 + timedelta(seconds=n))
    items = changes.pop("items", (Item(sku=f"SKU-{n % 7}", outer_sku=f"OUT-{n % 7}",
                                       item_id=f"{600 + n % 7}", quantity=1 + n % 3,
                                       price_fen=9950),))
    total = sum(i.price_fen * i.quantity for i in items)
    fields: dict[str, Any] = {
        "channel": "tmall", "shop": "flagship", "order_id": f"T{100000 + n}", "status": "paid",
        "created_at": created, "paid_at": created + timedelta(seconds=20),
        "modified_at": created + timedelta(seconds=20),
        "buyer": Buyer(id=f"buyer-{n}", tier="normal"),
        "receiver": Receiver(name="张三", phone="13812345678", province="浙江省", city="杭州市",
                             district="西湖区", street="西溪街道", detail="文三路100号5幢301室"),
        "items": items,
        "amounts": Amounts(total_fen=total, discount_fen=0, freight_fen=0, paid_fen=total),
    }
    fields.update(changes)
    return Order(**fields)
