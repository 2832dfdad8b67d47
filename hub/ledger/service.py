"""The ledger's single writer, as a Ray actor (``hub.runtime`` starts it).

SQLite allows one writer at a time, so every write of the running hub goes
through this one actor; readers (the API, ``orderhub status``) open the file
themselves. Each call carries a whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.app.wire import claimed_bytes, decided, ingest_rows
from hub.domain.decision import Decision
from hub.domain.order import Order
from hub.gcwatch import GcWatch
from hub.ledger import open_ledger, prepare
from hub.ledger.local import ingest_positions, oversized


class LedgerService:
    def __init__(self, url: str, clock: Any = None, *,
                 gc_threshold: tuple[int, ...] | None = None) -> None:
        self.url = url
        self.ledger = open_ledger(url, clock=clock)
        GcWatch.install(actor=True, threshold=gc_threshold)

    def ingest(self, orders: Sequence[Order], cursor: Any = None,
               at: datetime | None = None) -> list[Order]:
        """``at``: when the hub got these orders from the marketplace (default: now)."""
        return [orders[i] for i in self.ingest_positions(orders, cursor, at)]

    def ingest_positions(self, orders: Sequence[Order], cursor: Any = None,
                         at: datetime | None = None) -> list[int]:
        """``ingest``, answered with the positions in ``orders`` of the new or changed
        ones: the caller holds those orders already, and sending them back across the
        process boundary cost as much as storing them."""
        return ingest_positions(self.ledger, orders, cursor, at)

    def ingest_wire(self, blob: bytes, cursor: Any = None,
                    at: datetime | None = None) -> list[int]:
        """``ingest_positions`` of rows the caller encoded (``hub.app.wire.ingest_bytes``):
        no ``Order`` is rebuilt or serialised here."""
        rows = prepare.wire_rows(ingest_rows(blob))
        if not rows:
            if cursor is not None:
                self.ledger.set_cursor(cursor.channel, cursor.shop, cursor.window_end)
            return []
        ingest = getattr(self.ledger, "ingest_rows", None)
        if ingest is None:  # a store without prepared rows (memory): its orders, re-read
            orders = [Order.model_validate_json(r.encoded) for r in rows]  # type: ignore[arg-type]
            return [rows[i].index for i in ingest_positions(self.ledger, orders, cursor, at)]
        return sorted(r.index for r in ingest(rows, cursor=cursor, at=at))

    def oversized(self, orders: Sequence[Order]) -> list[Any]:
        """The orders over the ledger's size limit (``hub.app.ports.Oversized``)."""
        return oversized(orders)

    def stored_versions(self, keys: Sequence[tuple[str, str, str]]) -> dict[Any, int]:
        return self.ledger.stored_versions(keys)

    def commit_decisions(self, decisions: Sequence[Decision], outbox: Sequence[Any]) -> int:
        return self.ledger.commit_decisions(decisions, outbox)

    def commit_decided(self, blob: bytes) -> int:
        """``commit_decisions`` of a batch encoded by ``hub.app.wire.decided_bytes``."""
        return self.ledger.commit_decisions(*decided(blob))

    def undecided_orders(self, older_than_s: float = 0.0, limit: int = 1000) -> list[Order]:
        return self.ledger.undecided_orders(older_than_s, limit)

    def held_orders(self, reason: str, limit: int = 1000) -> list[Order]:
        return self.ledger.held_orders(reason, limit)

    def record_stage(self, events: Sequence[Any], outbox: Sequence[Any] = ()) -> Any:
        return self.ledger.record_stage(events, outbox)

    def apply_operator_action(self, key: tuple[str, str, str], stage: str, at: datetime,
                              detail: dict[str, Any], **what: Any) -> bool:
        """One operator action, one transaction (``Ledger.apply_operator_action``)."""
        return self.ledger.apply_operator_action(key, stage, at, detail, **what)

    def get_cursor(self, channel: str, shop: str) -> datetime | None:
        return self.ledger.get_cursor(channel, shop)

    def quarantine_add(self, channel: str, shop: str, raw: Any, error: str, at: datetime) -> None:
        self.ledger.quarantine_add(channel, shop, raw, error, at)

    def claim(self, n: int, lease_s: float, now: datetime) -> list[Any]:
        return self.ledger.claim(n, lease_s, now)

    def claim_wire(self, n: int, lease_s: float, now: datetime) -> bytes:
        """``claim``, the rows as stored (``hub.app.wire.claimed`` reads them)."""
        return claimed_bytes(self.ledger.claim_rows(n, lease_s, now))

    def delivered(self, ids: Sequence[Any], now: datetime) -> None:
        self.ledger.delivered(ids, now)

    def failed(self, message_id: Any, error: str, now: datetime) -> None:
        self.ledger.failed(message_id, error, now)

    def failed_many(self, failures: Sequence[Any], now: datetime, *, dead: Sequence[Any] = (),
                    events: Sequence[Any] = (), outbox: Sequence[Any] = ()) -> int:
        """A batch's failures, dead letters with their events and alerts: one transaction."""
        return self.ledger.failed_many(failures, now, dead=dead, events=events, outbox=outbox)

    def resend_dead_letter(self, message_id: int, at: datetime, detail: dict[str, Any]) -> bool:
        return self.ledger.resend_dead_letter(message_id, at, detail)

    def publish_ruleset(self, version: int, text: str, published_by: str, at: datetime,
                        **draft: Any) -> None:
        """``draft``: the draft published and its ``author`` (``Ledger.publish_ruleset``)."""
        self.ledger.publish_ruleset(version, text, published_by, at, **draft)

    def add_rule_draft(self, text: str, author: str, comment: str, at: datetime) -> int:
        return self.ledger.add_rule_draft(text, author, comment, at)

    def get_ruleset(self, version: int | None = None) -> Any:
        return self.ledger.get_ruleset(version)

    def find_orders(self, **query: Any) -> list[Any]:
        return self.ledger.find_orders(**query)

    def get_order(self, key: tuple[str, str, str]) -> Any:
        return self.ledger.get_order(key)

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Any other ledger operation, by name (queries for the reconciler and status)."""
        if method.startswith("_"):
            raise AttributeError(method)
        return getattr(self.ledger, method)(*args, **kwargs)

    def stats(self) -> dict[str, Any]:
        return {"gc": GcWatch.install().snapshot()}

    def close(self) -> None:
        self.ledger.close()
