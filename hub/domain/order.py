"""The canonical order every marketplace maps into.

Money is integer fen (1 CNY = 100 fen), never float. Times are timezone-aware
and normalised to Asia/Shanghai. A buyer's phone and street detail are masked
in ``repr`` and ``str`` so an order can be logged.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Channel(StrEnum):
    TMALL = "tmall"
    JD = "jd"
    DOUYIN = "douyin"


class OrderStatus(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"  # paid, awaiting shipment
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    FINISHED = "finished"
    CANCELLED = "cancelled"


class OrderType(StrEnum):
    NORMAL = "normal"
    PRESALE_DEPOSIT = "presale_deposit"
    PRESALE_FINAL = "presale_final"
    LIVE_FLASH = "live_flash"
    GIFT = "gift"


class DeliveryService(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    SAME_CITY = "same_city"


def mask_phone(phone: str | None) -> str:
    """Keep the last four digits: ``138****5678`` -> ``*******5678``."""
    if not phone:
        return ""
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def mask_text(text: str | None) -> str:
    if not text:
        return ""
    return text[:2] + "*" * max(len(text) - 2, 0)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Buyer(_Frozen):
    id: str
    tier: str = "normal"  # normal, vip, plus, svip ... (weights live in the rule set)
    tags: tuple[str, ...] = ()  # e.g. "new_first_order"


class Receiver(_Frozen):
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    detail: str = ""

    def __repr_args__(self):
        for key, value in super().__repr_args__():
            if key == "phone":
                yield key, mask_phone(value)
            elif key in ("detail", "street", "name"):
                yield key, mask_text(value)
            else:
                yield key, value

    def masked(self) -> dict[str, str]:
        """The receiver as operators may see it on a dashboard or in a log."""
        return dict(self.__repr_args__())


class Item(_Frozen):
    sku: str
    outer_sku: str = ""
    quantity: int = Field(ge=1)
    price_fen: int = Field(ge=0)
    item_id: str = ""  # the marketplace's item / ware / product id (numeric string)


class Amounts(_Frozen):
    total_fen: int = Field(ge=0)  # goods total before discount
    discount_fen: int = Field(default=0, ge=0)
    freight_fen: int = Field(default=0, ge=0)
    paid_fen: int = Field(default=0, ge=0)


OrderKey = tuple[str, str, str]


class Order(_Frozen):
    # the order as one flat tuple, kept once made (``hub.domain.order_codec``); not a field
    __slots__ = ("_flat",)

    channel: Channel
    shop: str
    order_id: str
    status: OrderStatus
    created_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    modified_at: AwareDatetime
    buyer: Buyer
    receiver: Receiver
    items: tuple[Item, ...] = Field(min_length=1)
    amounts: Amounts
    order_type: OrderType = OrderType.NORMAL
    source: str = ""  # e.g. "live_room", "search", "shortvideo"
    source_detail: str = ""  # e.g. the live room id
    delivery: DeliveryService = DeliveryService.STANDARD
    warehouse_hint: str = ""

    @field_validator("created_at", "paid_at", "modified_at")
    @classmethod
    def _to_shanghai(cls, value: datetime | None) -> datetime | None:
        return value.astimezone(SHANGHAI) if value is not None else None

    @property
    def key(self) -> OrderKey:
        return (self.channel.value, self.shop, self.order_id)

    def __reduce__(self) -> tuple:
        """Pickled as one flat tuple (``hub.domain.order_codec``): a fifth of the cost."""
        return (_codec.rebuild, (_codec.flatten(self),))


from hub.domain import order_codec as _codec  # noqa: E402  (it builds on the models above)
