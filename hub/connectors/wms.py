"""WMS client: dispatch batches of orders (idempotent by key), intercept or amend them
before packing, pull status events by sequence number, look orders up for the reconciler.

>>> import asyncio, httpx
>>> def wms(request):
...     return httpx.Response(200, json={"seq": 2, "newest": 2, "events": [
...         {"seq": 1, "channel": "jd", "shop": "s", "order_id": "J1", "stage": "picked"},
...         {"seq": 2, "channel": "jd", "shop": "s", "order_id": "J1", "stage": "packed"}]})
>>> client = WmsClient("http://wms.test", transport=httpx.MockTransport(wms))
>>> seq, events = asyncio.run(client.status_since(0))
>>> seq, [e["stage"] for e in events]
(2, ['picked', 'packed'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hub.connectors.backoffice import (
    BackOfficeClient,
    BackOfficeRejected,
    chunks,
    refused_lines,
)

OrderKey = tuple[str, str, str]  # (channel, shop, order_id)
# what an intercept or amend line carries (the outbox payload may hold more for the hub)
INTERCEPT_FIELDS = ("key", "channel", "shop", "order_id", "reason")
AMEND_FIELDS = ("key", "channel", "shop", "order_id", "receiver", "items")


class WmsClient(BackOfficeClient):
    system = "wms"
    batch = 1000  # orders per dispatch call (the WMS's limit)

    async def dispatch(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send orders; each row is the outbox payload plus its idempotency ``key``.
        Returns one result per row (``accepted`` or ``duplicate`` with the WMS order
        number). Raises ``BackOfficeRejected`` after the call when some rows were
        refused (the others were taken; sending them again changes nothing)."""
        results = await self.dispatch_each(rows)
        refused_lines(self.system, results)
        return results

    async def dispatch_each(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """As :meth:`dispatch`, but the WMS's answer per order is returned whatever it is
        (``accepted``, ``duplicate`` or ``rejected`` with its ``reason``): one refused
        order does not fail the others. Raises only when the request itself failed."""
        missing = [n for n, row in enumerate(rows) if not row.get("key")]
        if missing:
            raise BackOfficeRejected(self.system, f"rows {missing[:10]} have no idempotency "
                                     "key", problems=["key: missing"])
        results: list[dict[str, Any]] = []
        for part in chunks(list(rows), self.batch):
            answer = await self.call("POST", "/orders/dispatch", body={"orders": list(part)})
            results.extend(answer["results"])
        self.stats["dispatched"] += sum(r.get("status") == "accepted" for r in results)
        self.stats["duplicates"] += sum(r.get("status") == "duplicate" for r in results)
        self.stats["refused"] += sum(r.get("status") == "rejected" for r in results)
        return results

    async def intercept(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Ask the WMS to stop orders before packing; each row is the outbox payload plus
        its idempotency ``key``. One result per row: ``intercepted``, ``duplicate`` (the
        first answer's effect), ``too_late`` (packed or shipped) or ``unknown`` (the WMS
        holds no such order)."""
        return await self._follow_up("/orders/intercept", rows, INTERCEPT_FIELDS)

    async def amend(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Ask the WMS to change orders' receiver and/or items before packing: results
        ``amended``, ``duplicate``, ``too_late`` or ``unknown``."""
        return await self._follow_up("/orders/amend", rows, AMEND_FIELDS)

    async def _follow_up(self, path: str, rows: Sequence[dict[str, Any]],
                         fields: tuple[str, ...]) -> list[dict[str, Any]]:
        missing = [n for n, row in enumerate(rows) if not row.get("key")]
        if missing:
            raise BackOfficeRejected(self.system, f"rows {missing[:10]} have no idempotency "
                                     "key", problems=["key: missing"])
        lines = [{name: row[name] for name in fields if name in row} for row in rows]
        results: list[dict[str, Any]] = []
        for part in chunks(lines, self.batch):
            answer = await self.call("POST", path, body={"orders": list(part)})
            results.extend(answer["results"])
        for result in results:
            self.stats[f"{path.rsplit('/', 1)[-1]}:{result.get('status')}"] += 1
        return results

    async def status_since(self, seq: int, limit: int = 1000) -> tuple[int, list[dict]]:
        """Status events after sequence number ``seq``: (the last one's seq, events)."""
        answer = await self.call("GET", "/orders/status", params={"since": seq,
                                                                  "limit": limit})
        return int(answer["seq"]), list(answer["events"])

    async def lookup(self, keys: Iterable[Sequence[str]]) -> list[dict[str, Any]]:
        """The WMS's view of each order it holds (stage, tracking number, times)."""
        wanted = [list(k) for k in keys]
        found: list[dict[str, Any]] = []
        for part in chunks(wanted, self.batch):
            answer = await self.call("POST", "/orders/lookup", body={"orders": list(part)})
            found.extend(answer["orders"])
        return found

    async def status_of(self, keys: Iterable[Sequence[str]]) -> dict[OrderKey, str]:
        """Stage per (channel, shop, order_id); orders the WMS does not hold are absent."""
        return {(o["channel"], o["shop"], o["order_id"]): o["stage"]
                for o in await self.lookup(keys)}
