"""Anomaly checks over a batch: each finding is an ``Anomaly`` with the reason code, and
the severity and group the rule set gives that code. See the spec in docs (section 1):
incomplete address, remote region with standard express, out of stock but paid, payment
mismatch, duplicate order, invalid phone; and a line the catalogue maps to no merchant SKU
(``unmapped_sku``, when the lines come expanded: ``hub.domain.catalogue``).

>>> from hub.domain.rules import default_ruleset
>>> from tests.factories import order
>>> [[a.code for a in found] for found in find_anomalies(
...     [order(1), order(2, receiver={"phone": "12345", "district": "西湖区",
...      "province": "浙江省", "city": "杭州市", "detail": "文三路100号"})],
...     {}, [], default_ruleset())]
[[], ['invalid_phone']]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from hub.domain.address import _PLACES, address_problems, remote_provinces
from hub.domain.catalogue import Expansion
from hub.domain.decision import Anomaly, Reason
from hub.domain.order import DeliveryService, Order, OrderStatus, OrderType
from hub.domain.priority import StockState, stock_states

_PAID = frozenset({"paid", "partially_shipped", "shipped", "finished"})
# Enum members as module constants: reading ``OrderStatus.PAID`` costs a microsecond here.
_PAID_NOW, _STANDARD, _DEPOSIT = (OrderStatus.PAID, DeliveryService.STANDARD,
                                  OrderType.PRESALE_DEPOSIT)
_PHONE_JUNK = str.maketrans("", "", " -")
_MOBILE_2ND = frozenset("3456789")
_UNMAPPED = Reason.UNMAPPED_SKU.value
_NO_LINES: Expansion = ((), ())


def phone_ok(phone: str) -> bool:
    """An 11-digit mainland mobile number (spaces, dashes, +86 allowed); masked is ok.

    >>> [phone_ok(p) for p in ("138 1234-5678", "+8613812345678", "*******5678", "1234")]
    [True, True, True, False]
    """
    if len(phone) == 11 and phone[0] == "1" and phone[1] in _MOBILE_2ND and phone.isdigit() \
            and phone.isascii():
        return True
    if "*" in phone:
        return True
    digits = phone.translate(_PHONE_JUNK)
    if len(digits) != 11:
        if digits.startswith("+86"):
            digits = digits[3:]
        elif digits.startswith("86"):
            digits = digits[2:]
    return len(digits) == 11 and digits[0] == "1" and digits[1] in _MOBILE_2ND \
        and digits.isdigit() and digits.isascii()


def payment_problem(order: Order) -> str:
    """Why the paid amount is wrong for the order's status and type ('' if it is not)."""
    if str(order.status) not in _PAID:
        return ""
    a = order.amounts
    if a.paid_fen == 0:
        return "paid status with zero payment"
    expected = a.total_fen - a.discount_fen + a.freight_fen
    if a.paid_fen != expected and not (
            order.order_type == _DEPOSIT and a.paid_fen < expected):
        return f"paid {a.paid_fen} fen, expected {expected} (total - discount + freight)"
    return ""


def _dup_key(order: Order) -> tuple:
    r, items = order.receiver, order.items
    lines = ((items[0].sku, items[0].quantity),) if len(items) == 1 else \
        tuple(sorted((i.sku, i.quantity) for i in items))
    return (order.buyer.id, lines, r.province, r.city, r.district, r.street, r.detail)


def duplicates(batch: Sequence[Order], recent: Sequence[Order],
               window_minutes: int) -> list[str]:
    """Per order of ``batch``: the id of an earlier order it duplicates, or ''.

    Earlier = created within the window before it (at the same instant: listed before it,
    recent orders before the batch). Only the later order of a pair is flagged. Only
    buyers with two or more orders (in the batch and the recent ones) are compared.
    """
    window = timedelta(minutes=window_minutes)
    ids = [o.buyer.id for o in batch]
    earlier_ids = [o.buyer.id for o in recent]
    distinct = set(ids)
    suspects = distinct.intersection(earlier_ids)
    if len(distinct) != len(ids):  # some buyer twice in the batch
        suspects.update(i for i, n in Counter(ids).items() if n > 1)
    if not suspects:
        return [""] * len(batch)
    mine: dict[str, list[int]] = {}
    for seq, buyer in enumerate(ids):
        if buyer in suspects:
            mine.setdefault(buyer, []).append(seq)
    before: dict[str, list[Order]] = {}
    for o, buyer in zip(recent, earlier_ids, strict=True):
        if buyer in suspects:
            before.setdefault(buyer, []).append(o)
    out = [""] * len(batch)
    for buyer, seqs in mine.items():
        earlier = before.get(buyer, ())
        if len(seqs) == 1 and not earlier:
            continue
        known = [(_dup_key(o), o.created_at, i - len(earlier), o.order_id)
                 for i, o in enumerate(earlier)]
        known += [(_dup_key(batch[seq]), batch[seq].created_at, seq, batch[seq].order_id)
                  for seq in seqs]
        for key, at, seq, order_id in known[len(earlier):]:
            for other_key, when, other_seq, other_id in known:
                if other_key == key and other_id != order_id and at - window <= when <= at \
                        and (when < at or other_seq < seq):
                    out[seq] = other_id
                    break
    return out


def find_anomalies(batch: Sequence[Order], inventory: Mapping[str, int],
                   recent_orders: Sequence[Order], ruleset: Any,
                   stocks: Sequence[StockState] | None = None,
                   lines: Sequence[Expansion] | None = None) -> list[list[Anomaly]]:
    """The anomalies of each order of ``batch``, in order (an empty list when clean).

    ``lines``: each order's merchant SKUs (``catalogue.expand_batch``): stock is checked
    per merchant SKU, and a line mapped to nothing is ``unmapped_sku``. ``stocks`` (from
    ``priority.stock_states`` with the same ``lines``) saves recomputing the draw-down.
    """
    policy = ruleset.anomalies

    def make(code: str, detail: str) -> Anomaly:
        p = policy.get(code)
        return Anomaly(code, p.severity if p else "warn", p.group if p else "ops", detail)

    remote = remote_provinces(tuple(ruleset.remote_regions))
    prefixes = tuple(ruleset.remote_regions)
    if stocks is None:
        stocks = stock_states(batch, inventory, ruleset.low_stock, lines)
    dups = duplicates(batch, recent_orders, ruleset.duplicate_window_minutes)
    places = _PLACES
    out: list[list[Anomaly]] = []
    expanded = (_NO_LINES,) * len(batch) if lines is None else lines
    for order, (_, short), dup, (_, unmapped) in zip(batch, stocks, dups, expanded,
                                                     strict=True):
        found: list[Anomaly] = []
        fields = order.__dict__  # pydantic attributes are slow to read; the dicts are not
        r = fields["receiver"].__dict__
        province, city, district, detail = r["province"], r["city"], r["district"], r["detail"]
        place = places.get((province, city))
        # the common case inline (a known place, a district, a detail that is no place
        # name, long enough); address_problems() says what is wrong with the rest
        if place is None or place[1] is None or not district or district.isspace() \
                or len(detail) < 5 or detail.startswith(place[2]) \
                or detail[0].isspace() or detail[-1].isspace():
            problems = address_problems(province, city, district, r["street"], detail)
            if problems:
                found.append(make("incomplete_address", "; ".join(problems)))
        if fields["delivery"] == _STANDARD and (
                province in remote or province.startswith(prefixes)):
            found.append(make("remote_standard_express", f"standard delivery to {province}"))
        if unmapped:
            found.append(make(_UNMAPPED, "no merchant SKU for: " + "; ".join(unmapped)))
        if short and fields["status"] == _PAID_NOW:
            found.append(make("out_of_stock_paid", "short: " + ", ".join(short)))
        a = fields["amounts"].__dict__
        paid = a["paid_fen"]
        if not paid or paid != a["total_fen"] - a["discount_fen"] + a["freight_fen"]:
            why = payment_problem(order)
            if why:
                found.append(make("payment_mismatch", why))
        if dup:
            found.append(make("duplicate_order", f"same buyer, items and address as {dup}"))
        phone = r["phone"]  # the common case inline; phone_ok() for the rest
        if not (len(phone) == 11 and phone[0] == "1" and phone[1] in _MOBILE_2ND
                and phone.isdigit() and phone.isascii()) and not phone_ok(phone):
            found.append(make("invalid_phone", "not an 11-digit mobile number"))
        out.append(found)
    return out
