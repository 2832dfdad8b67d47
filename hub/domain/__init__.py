"""The pure core of the hub: no Ray, no HTTP, no database, no clock of its own."""

from hub.domain.decision import Anomaly, Decision, Lane, Reason, Stage
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
    mask_phone,
)

__all__ = [
    "SHANGHAI",
    "Amounts",
    "Anomaly",
    "Buyer",
    "Channel",
    "Decision",
    "DeliveryService",
    "Item",
    "Lane",
    "Order",
    "OrderStatus",
    "OrderType",
    "Reason",
    "Receiver",
    "Stage",
    "mask_phone",
]
