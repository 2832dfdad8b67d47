"""Orders, decisions and outbox rows for ledger tests and the ledger benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from hub.domain.decision import Anomaly, Decision
from hub.domain.order import SHANGHAI, Amounts, Buyer, Item, Order, Receiver
from hub.ledger import OutboxMessage

T0 = datetime(2026, 11, 11, 0, 0, 0, tzinfo=SHANGHAI)
CHANNELS = ("tmall", "jd", "douyin")
PROVINCES = (("浙江省", "杭州市", "西湖区"), ("广东省", "深圳市", "南山区"),
             ("新疆维吾尔自治区", "乌鲁木齐市", "天山区"), ("北京市", "北京市", "朝阳区"))


def order(n: int, *, version: int = 0, shop: str = "flagship", **changes: Any) -> Order:
    """Order number ``n``; ``version`` moves its modified time on by that many seconds."""
    created = T0 + timedelta(seconds=n)
    province, city, district = PROVINCES[n % len(PROVINCES)]
    items = tuple(Item(sku=f"SKU-{(n + i) % 50}", quantity=1 + (n + i) % 3, price_fen=9950 + i)
                  for i in range(1 + n % 3))
    total = sum(i.price_fen * i.quantity for i in items)
    fields: dict[str, Any] = {
        "channel": CHANNELS[n % 3], "shop": shop, "order_id": f"O{n:09d}", "status": "paid",
        "created_at": created, "paid_at": created + timedelta(seconds=5),
        "modified_at": created + timedelta(seconds=10 + version),
        "buyer": Buyer(id=f"buyer-{n % 997}", tier=("normal", "vip", "plus")[n % 3]),
        "receiver": Receiver(name="李四", phone=f"138{n % 100_000_000:08d}", province=province,
                             city=city, district=district, street="文三路",
                             detail=f"{n % 300}号{n % 7}幢"),
        "items": items,
        "amounts": Amounts(total_fen=total, paid_fen=total),
        "order_type": ("normal", "live_flash", "presale_final")[n % 3],
        "source": "live_room" if n % 5 == 0 else "search",
    }
    fields.update(changes)
    return Order(**fields)


def batch(start: int, size: int, **changes: Any) -> list[Order]:
    return [order(n, **changes) for n in range(start, start + size)]


def decision(o: Order, *, lane: str = "P1", hold_reason: str | None = None,
             remedies: tuple[str, ...] = (), ruleset_version: int = 1,
             packing_group: str | None = None) -> Decision:
    anomalies = (Anomaly(hold_reason, "warn", "cs-address", "fixture"),) if hold_reason else ()
    return Decision(
        channel=o.channel.value, shop=o.shop, order_id=o.order_id,
        version=o.modified_at.isoformat(), lane=lane, score=66.5,
        breakdown={"order_type": 40.0, "customer_tier": 30.0, "region": 40.0, "inventory": 60.0},
        packing_group=packing_group or f"lane-{lane}", anomalies=anomalies,
        hold_reason=hold_reason, remedies=remedies,
        alert_groups=("cs-address",) if hold_reason else (), ruleset_version=ruleset_version)


def decisions(orders: Sequence[Order], **kw: Any) -> list[Decision]:
    return [decision(o, **kw) for o in orders]


def outbox(orders: Sequence[Order], decided: Sequence[Decision]) -> list[OutboxMessage]:
    """A WMS dispatch row per routed order, an alert row per held one."""
    rows = []
    for o, d in zip(orders, decided, strict=True):
        ident = ":".join(o.key)
        if d.held:
            rows.append(OutboxMessage("dingtalk", f"alert:{ident}:{d.version}",
                                      {"group": "cs-address", "order_id": o.order_id},
                                      order_key=o.key))
        else:
            rows.append(OutboxMessage("wms", f"wms:{ident}",
                                      {"channel": o.channel.value, "shop": o.shop,
                                       "order_id": o.order_id, "lane": d.lane}))
    return rows
