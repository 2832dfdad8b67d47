from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hub.domain import Amounts, Buyer, Channel, Item, Order, OrderStatus, Receiver


def make_order(**overrides) -> Order:
    fields = dict(
        channel=Channel.TMALL,
        shop="flagship",
        order_id="1001",
        status=OrderStatus.PAID,
        created_at=datetime(2026, 11, 10, 16, 0, tzinfo=UTC),
        modified_at=datetime(2026, 11, 10, 16, 1, tzinfo=UTC),
        buyer=Buyer(id="b1", tier="plus", tags=("new_first_order",)),
        receiver=Receiver(
            name="张三", phone="13812345678", province="浙江省", city="杭州市",
            district="西湖区", street="文三路", detail="文三路 90 号 3 幢 501",
        ),
        items=(Item(sku="LAMP-1", quantity=2, price_fen=19900),),
        amounts=Amounts(total_fen=39800, paid_fen=39800),
    )
    fields.update(overrides)
    return Order(**fields)


def test_times_are_normalised_to_shanghai():
    order = make_order()
    assert order.created_at.utcoffset().total_seconds() == 8 * 3600
    assert order.created_at.hour == 0


def test_phone_and_detail_are_masked_in_repr():
    text = repr(make_order())
    assert "13812345678" not in text
    assert "5678" in text
    assert "501" not in text


def test_naive_times_and_empty_items_are_refused():
    with pytest.raises(ValidationError):
        make_order(created_at=datetime(2026, 11, 10, 16, 0))
    with pytest.raises(ValidationError):
        make_order(items=())


def test_key_is_channel_shop_order_id():
    assert make_order().key == ("tmall", "flagship", "1001")
