"""The catalogue use cases (``hub.app.catalogue``) without Ray: a refresh from a fake ERP,
a refused version that leaves the one in force, and the orders held as unmapped decided
again once mapped (committed to a real in-memory ledger)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from hub.app.catalogue import refresh, release_mapped
from hub.app.decide import decide_batch
from hub.domain.anomalies import find_anomalies
from hub.domain.catalogue import catalogue, expand_batch
from hub.domain.decision import REDECIDES
from hub.domain.order import Item, Order
from hub.domain.outbox import WMS
from hub.domain.priority import score_batch
from hub.domain.rules import default_ruleset
from hub.ledger.local import LocalLedger
from hub.ledger.memory import MemoryLedger
from tests.factories import order

SKUS = [{"sku": "LT-DESK-12W", "name": "台灯"}, {"sku": "LT-BULB-E27-9W", "name": "灯泡"}]
DESK = {"channel": "tmall", "shop": "", "item_id": "680112345678", "sku_id": "4987654321012",
        "components": [{"sku": "LT-DESK-12W", "quantity": 1}]}
STRIP = {"channel": "tmall", "shop": "", "item_id": "680100000001", "sku_id": "4987600000001",
         "components": [{"sku": "LT-STRIP-5M", "quantity": 1}]}


class Erp:
    """The ERP's catalogue: ``changes`` by the version asked since."""

    def __init__(self, *answers: dict | None) -> None:
        self.answers, self.asked = list(answers), []

    async def catalogue(self, since: int = 0) -> dict | None:
        self.asked.append(since)
        return self.answers.pop(0) if self.answers else {"version": since, "listings": []}


class Queue:
    def __init__(self) -> None:
        self.sent: list[tuple[list[Order], str]] = []

    async def redecide(self, orders: Sequence[Order], reason: str) -> int:
        self.sent.append((list(orders), reason))
        return len(orders)


def test_a_refresh_takes_a_new_version_merged_and_ignores_the_same_one() -> None:
    erp = Erp({"version": 2, "skus": SKUS, "listings": [DESK]},
              {"version": 2, "listings": []},
              {"version": 3, "skus": [{"sku": "LT-STRIP-5M", "name": "灯带"}],
               "listings": [STRIP]})
    first = asyncio.run(refresh(None, erp))
    assert first.changed and first.catalogue.version == 2 and len(first.catalogue) == 1
    same = asyncio.run(refresh(first.catalogue, erp))
    assert not same.changed and same.catalogue is first.catalogue
    third = asyncio.run(refresh(first.catalogue, erp))
    assert third.changed and third.catalogue.version == 3 and len(third.catalogue) == 2
    assert erp.asked == [0, 2, 2]


def test_a_refused_version_is_named_logged_and_the_catalogue_in_force_stays(caplog) -> None:
    current = catalogue(SKUS, [DESK], version=2)
    cycle = {"version": 4, "skus": [
        {"sku": "LT-KIT", "name": "套装", "components": [{"sku": "LT-KIT", "quantity": 1}]}],
        "listings": [{**DESK, "components": [{"sku": "LT-NOPE", "quantity": 1}]}]}
    with caplog.at_level(logging.ERROR, "orderhub.catalogue"):
        got = asyncio.run(refresh(current, Erp(cycle)))
    assert got.catalogue is current and not got.changed and got.version == 4
    assert got.refused == ("merchant SKU LT-KIT: a cycle (LT-KIT -> LT-KIT)",
                           "listing tmall/*/680112345678/4987654321012: unknown merchant SKU "
                           "LT-NOPE")
    assert "catalogue version 4 refused, version 2 stays in force" in caplog.text
    assert "LT-NOPE" in caplog.text
    again = asyncio.run(refresh(current, Erp(cycle), refused_version=4))
    assert again.refused == () and again.catalogue is current  # not checked (nor logged) again


def test_an_erp_without_a_catalogue_or_with_an_empty_one_leaves_lines_as_they_are() -> None:
    assert asyncio.run(refresh(None, Erp(None))).catalogue is None
    assert asyncio.run(refresh(None, Erp({"version": 1, "skus": [], "listings": []}))
                       ).catalogue is None


def _decide(batch, store, cat, again=None):
    rules = default_ruleset()
    lines = expand_batch(batch, cat)
    anomalies = find_anomalies(batch, {}, [], rules, lines=lines)
    scores = score_batch(batch, {}, rules, lines)
    return asyncio.run(decide_batch(batch, anomalies, scores, rules, store, lines=lines,
                                    again=again))


def test_an_unmapped_order_is_decided_again_on_its_own_once_mapped() -> None:
    ledger = MemoryLedger()
    store = LocalLedger(ledger)
    strip = Item(item_id=STRIP["item_id"], sku=STRIP["sku_id"], quantity=2, price_fen=100)
    desk = Item(item_id=DESK["item_id"], sku=DESK["sku_id"], quantity=1, price_fen=100)
    waiting, other, fine = order(1, items=(strip,)), order(2, items=(Item(
        item_id="1", sku="2", quantity=1, price_fen=1),)), order(3, items=(desk,))
    ledger.ingest([waiting, other, fine])
    old = catalogue(SKUS, [DESK], version=1)
    decided = _decide([waiting, other, fine], store, old)
    assert [d.hold_reason for d in decided.decisions] == ["unmapped_sku", "unmapped_sku", None]

    new = old.merged({"version": 2, "skus": [{"sku": "LT-STRIP-5M", "name": "灯带"}],
                      "listings": [STRIP]})
    queue = Queue()
    assert asyncio.run(release_mapped(store, queue, new)) == 1
    [(sent, reason)] = queue.sent
    assert [o.order_id for o in sent] == [waiting.order_id] and reason == "unmapped_sku"

    again = _decide(sent, store, new, again={waiting.key: reason})
    assert again.stored == 1 and again.decisions[0].extra[REDECIDES] == "unmapped_sku"
    view = ledger.get_order(waiting.key)
    assert view.stage == "routed"
    [dispatch] = [r for r in ledger.claim(10, 30.0, ledger.clock.now())
                  if r.destination == WMS and r.payload["order_id"] == waiting.order_id]
    assert dispatch.payload["items"] == [{"sku": "LT-STRIP-5M", "quantity": 2}]
    assert ledger.get_order(other.key).stage == "held"  # still unmapped: left as it was
    assert asyncio.run(release_mapped(store, queue, new)) == 0
