"""Child process of test_kill9: writes batches to a SQLite ledger until it is killed.

``python -m tests.ledger.kill9_writer PATH FIRST_BATCH`` prints ``ready`` once the
ledger is open, then for each batch ``ingested B`` after ``ingest`` returned and
``committed B`` after ``commit_decisions`` returned (each line flushed at once).
"""

from __future__ import annotations

import sys
from datetime import timedelta

from hub.domain.order import Order
from hub.ledger import Cursor
from tests.ledger.factory import T0, decisions, order, outbox

SHOP = "kill9"
CHANNEL = "tmall"


def batch_size(b: int) -> int:
    return 40 + (b * 37) % 260


def batch_orders(b: int) -> list[Order]:
    return [order(b * 1000 + i, shop=SHOP) for i in range(batch_size(b))]


def batch_of(order_id: str) -> int:
    return int(order_id[1:]) // 1000


def window_end(b: int):
    return T0 + timedelta(minutes=b)


def main() -> None:
    from hub.ledger.sqlite import SQLiteLedger

    path, first = sys.argv[1], int(sys.argv[2])
    ledger = SQLiteLedger(path)
    print("ready", flush=True)
    b = first
    while True:
        orders = batch_orders(b)
        ledger.ingest(orders, cursor=Cursor(CHANNEL, SHOP, window_end(b)))
        print(f"ingested {b}", flush=True)
        made = decisions(orders, hold_reason="invalid_phone" if b % 3 == 0 else None)
        ledger.commit_decisions(made, outbox(orders, made))
        print(f"committed {b}", flush=True)
        b += 1


if __name__ == "__main__":
    main()
