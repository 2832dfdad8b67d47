"""When each SKU ran out, from the ERP emulator's own records: the stock it started the
day with (the scenario's) less what the warehouse's dispatches drew, in the order the ERP
saw them. The verdict uses it to tell a hold for stock the warehouse really lacked from a
false hold of a clean order, without asking the hub why it held anything.

>>> records = {"requests": [
...     {"seq": 1, "at": "2026-11-11T00:01:00+08:00", "op": "wms_dispatch",
...      "orders": [{"items": [{"sku": "LT-BULB", "quantity": 2}]}], "results": [{"short": []}]},
...     {"seq": 2, "at": "2026-11-11T00:02:00+08:00", "op": "wms_dispatch",
...      "orders": [{"items": [{"sku": "LT-BULB", "quantity": 1}]}], "results": [{"short": []}]}]}
>>> {sku: at.isoformat() for sku, at in stock_outs({"LT-BULB": 3, "LT-LAMP": 5},
...                                                records).items()}
{'LT-BULB': '2026-11-11T00:02:00+08:00'}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

DRAWS = ("wms_dispatch", "sync")


def stock_outs(stock: Mapping[str, int], erp: Mapping[str, Any] | None) -> dict[str, datetime]:
    """SKU -> the moment its stock was all drawn (or a draw came up short)."""
    drawn: Counter = Counter()
    out: dict[str, datetime] = {}
    requests = sorted((erp or {}).get("requests", []), key=lambda r: r.get("seq", 0))
    for request in requests:
        if request.get("op") not in DRAWS:
            continue
        at = datetime.fromisoformat(request["at"])
        for order, result in zip(request.get("orders", []), request.get("results", []),
                                 strict=False):
            if result.get("status") in ("duplicate", "rejected"):
                continue
            for item in order.get("items", []):
                drawn[item["sku"]] += int(item.get("quantity", 1))
            for short in result.get("short", []):
                out.setdefault(short["sku"], at)
        for sku, n in drawn.items():
            if sku not in out and sku in stock and n >= stock[sku]:
                out[sku] = at
    return out
