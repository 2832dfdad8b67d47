"""The ledger's single writer and the router, as Ray actors, presented as the use
cases' ports (``hub.app.ports``): each port call is one actor call.

The adapters hold only the actor handle, so they travel to other actors with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.app.ports import Cursor, OrderKey, Oversized, StageEvent
from hub.app.wire import decided_bytes, ingest_bytes
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.domain.order_codec import OrderBatch
from hub.domain.outbox import OutboxMessage


@dataclass(frozen=True, slots=True)
class LedgerHandle:
    """A ``LedgerService`` actor as the order store, quarantine, decision store and stage
    recorder."""

    actor: Any

    async def ingest(self, orders: Sequence[Order], cursor: Cursor | None = None,
                     at: datetime | None = None) -> list[int]:
        blob = ingest_bytes(orders)  # the rows the ledger stores, made here
        if blob is None:
            return await self.actor.ingest_positions.remote(orders, cursor, at)
        return await self.actor.ingest_wire.remote(blob, cursor, at)

    async def oversized(self, orders: Sequence[Order]) -> list[Oversized]:
        return await self.actor.oversized.remote(orders)

    async def stored_versions(self, keys: Sequence[OrderKey]) -> dict[OrderKey, int]:
        return await self.actor.stored_versions.remote(keys)

    async def get_cursor(self, channel: str, shop: str) -> datetime | None:
        return await self.actor.get_cursor.remote(channel, shop)

    async def quarantine_add(self, channel: str, shop: str, raw: Any, error: str,
                             at: datetime) -> None:
        await self.actor.quarantine_add.remote(channel, shop, raw, error, at)

    async def commit_decisions(self, decisions: Sequence[Decision],
                               outbox: Sequence[OutboxMessage]) -> int:
        # one msgpack blob, not pickled struct by struct (``hub.app.wire``)
        return await self.actor.commit_decided.remote(decided_bytes(decisions, outbox))

    async def undecided_orders(self, older_than_s: float, limit: int) -> list[Order]:
        return await self.actor.undecided_orders.remote(older_than_s, limit)

    async def held_orders(self, reason: str, limit: int) -> list[Order]:
        return await self.actor.held_orders.remote(reason, limit)

    async def record_stage(self, events: Sequence[StageEvent]) -> int:
        return await self.actor.record_stage.remote(events)

    async def get_ruleset(self, version: int | None = None) -> Any:
        return await self.actor.get_ruleset.remote(version)


@dataclass(frozen=True, slots=True)
class RouterHandle:
    """A ``Router`` actor as the decision queue."""

    actor: Any

    async def submit(self, orders: Sequence[Order]) -> int:
        # one blob of flat tuples; the router gets a plain list of orders
        return await self.actor.submit.remote(OrderBatch(orders))


class LedgerWriter:
    """The single writer's writes as plain blocking calls, for callers that are not actors
    (the API's operator actions and rule console) or that run them in a worker thread (the
    rule store): the ports ``hub.app.ports.OperatorWrites`` and ``RuleVersions`` over a
    ``hub.ledger.service.LedgerService`` actor handle."""

    def __init__(self, service: Any, timeout_s: float = 60.0) -> None:
        self.service, self.timeout_s = service, timeout_s

    def _get(self, ref: Any) -> Any:
        import ray

        return ray.get(ref, timeout=self.timeout_s)

    def apply_operator_action(self, key: tuple[str, str, str], stage: str, at: datetime,
                              detail: dict[str, Any], **what: Any) -> bool:
        return self._get(self.service.apply_operator_action.remote(key, stage, at, detail,
                                                                   **what))

    def resend_dead_letter(self, message_id: int, at: datetime, detail: dict[str, Any]) -> bool:
        return self._get(self.service.resend_dead_letter.remote(message_id, at, detail))

    def publish_ruleset(self, version: int, text: str, published_by: str, at: datetime,
                        **draft: Any) -> None:
        self._get(self.service.publish_ruleset.remote(version, text, published_by, at, **draft))

    def add_rule_draft(self, text: str, author: str, comment: str, at: datetime) -> int:
        return self._get(self.service.add_rule_draft.remote(text, author, comment, at))

    def get_rule_draft(self, draft: int) -> Any:
        return self._get(self.service.call.remote("get_rule_draft", draft))

    def list_rule_drafts(self, limit: int = 100) -> list[Any]:
        return self._get(self.service.call.remote("list_rule_drafts", limit))

    def get_ruleset(self, version: int | None = None) -> Any:
        return self._get(self.service.get_ruleset.remote(version))

    def list_rulesets(self) -> list[Any]:
        return self._get(self.service.call.remote("list_rulesets"))
