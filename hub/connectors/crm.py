"""CRM client: customer tier and tags for many buyers in one call.

A buyer the CRM does not know comes back with ``tier`` None and no tags, so the hub
keeps whatever tier the order already carries.

>>> import asyncio, httpx
>>> def crm(request):
...     return httpx.Response(200, json={"customers": {
...         "b1": {"tier": "plus", "tags": ["new_first_order"], "known": True},
...         "b2": {"tier": "normal", "tags": [], "known": False}}})
>>> asyncio.run(CrmClient("http://crm.test", transport=httpx.MockTransport(crm))
...             .lookup(["b1", "b2"]))
{'b1': {'tier': 'plus', 'tags': ('new_first_order',)}, 'b2': {'tier': None, 'tags': ()}}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.connectors.backoffice import BackOfficeClient, chunks


class CrmClient(BackOfficeClient):
    system = "crm"
    batch = 500  # buyer ids per call

    async def lookup(self, buyer_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """``{buyer_id: {"tier": str | None, "tags": tuple}}`` for every id asked."""
        wanted = list(dict.fromkeys(buyer_ids))
        out: dict[str, dict[str, Any]] = {}
        for part in chunks(wanted, self.batch):
            answer = await self.call("POST", "/customers/lookup",
                                     body={"buyer_ids": list(part)})
            for bid, profile in answer["customers"].items():
                known = profile.get("known", True)
                out[bid] = {"tier": profile.get("tier") if known else None,
                            "tags": tuple(profile.get("tags") or ())}
        self.stats["buyers"] += len(wanted)
        return out
