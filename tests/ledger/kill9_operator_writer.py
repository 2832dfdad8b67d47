"""Child process of test_kill9_operator: fixes the addresses of held orders (the operator
use case, over a real SQLite ledger) until it is killed.

``python -m tests.ledger.kill9_operator_writer PATH`` prints ``ready`` once the ledger is
open, then ``fixed N`` after each fix of order N returned (each line flushed at once);
orders no longer held (fixed in an earlier life) are passed over. After the last order
it waits to be killed.
"""

from __future__ import annotations

import sys
import time

from hub.app.operator import AddressFix, fix_address
from hub.clock import Clock
from hub.domain.decision import Stage
from hub.domain.rules import default_ruleset
from hub.ledger.sqlite import SQLiteLedger
from tests.ledger.factory import order

SHOP = "kill9-address"
ORDERS = 500
FIX = AddressFix(province="浙江省", city="杭州市", district="西湖区", street="西溪街道",
                 detail="文三路100号5幢301室")


def held_order(n: int):
    return order(n, shop=SHOP)


def main() -> None:
    ledger = SQLiteLedger(sys.argv[1])
    rules, clock = default_ruleset(), Clock()
    print("ready", flush=True)
    for n in range(ORDERS):
        key = held_order(n).key
        view = ledger.get_order(key)
        if view is None or view.stage != Stage.HELD:
            continue
        fix_address(ledger, ledger, key, FIX, rules, by="kill9", at=clock.now(),
                    note=f"fix {n}")
        print(f"fixed {n}", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
