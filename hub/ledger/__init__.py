"""The order ledger: one durable record of every order (SQLite by default,
PostgreSQL for a cluster), behind one interface (:class:`Ledger`).

>>> from hub.ledger import open_ledger
>>> ledger = open_ledger("memory:")
>>> ledger.pending_count()
0
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from hub.clock import Clock
from hub.ledger.base import (
    MAX_PAYLOAD_BYTES,
    Cursor,
    EventRecord,
    Ledger,
    LedgerError,
    LockedError,
    OrderKey,
    OrderSummary,
    OrderView,
    OutboxMessage,
    PayloadTooLarge,
    QuarantineRecord,
    RuleDraftRecord,
    RulesetRecord,
    SchemaError,
    StageEvent,
)

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "Cursor",
    "EventRecord",
    "Ledger",
    "LedgerError",
    "LockedError",
    "MemoryLedger",
    "OrderKey",
    "OrderSummary",
    "OrderView",
    "OutboxMessage",
    "PayloadTooLarge",
    "PostgresLedger",
    "QuarantineRecord",
    "RuleDraftRecord",
    "RulesetRecord",
    "SQLiteLedger",
    "SchemaError",
    "StageEvent",
    "open_ledger",
]

# The stores themselves, loaded when first named: PostgreSQL's needs psycopg, which a
# hub on SQLite does not have to install.
_STORES = {"MemoryLedger": "hub.ledger.memory", "PostgresLedger": "hub.ledger.postgres",
           "SQLiteLedger": "hub.ledger.sqlite"}


def __getattr__(name: str) -> Any:
    if name in _STORES:
        return getattr(import_module(_STORES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sqlite_options(query: str) -> dict:
    options: dict = {}
    for name, value in parse_qsl(query):
        if name == "synchronous":
            options["synchronous"] = value.lower()
        elif name in ("busy_timeout", "busy_timeout_s"):
            options["busy_timeout_s"] = float(value)
        else:
            raise LedgerError(f"sqlite ledger URL: unknown option {name!r} "
                              "(known: synchronous, busy_timeout)")
    return options


def open_ledger(target: str | Path, *, clock: Clock | None = None, reader: bool = False,
                **options) -> Ledger:
    """Open (creating or migrating) the ledger ``target`` names. ``reader``: a second
    handle beside the hub's writer (the API's); it leaves WAL checkpoints to the writer.

    - ``memory:`` -> :class:`~hub.ledger.memory.MemoryLedger`
    - a path, or ``sqlite:///relative/path`` / ``sqlite:////absolute/path``
      (``?synchronous=full``, ``?busy_timeout=10``) -> SQLite
    - ``postgresql://user@host:port/db`` (``?schema=name``, default ``orderhub``)
      -> PostgreSQL
    """
    text = str(target)
    sqlite_options = {"checkpoint_every_s": None} if reader else {}
    if not isinstance(target, Path) and text in ("memory:", ":memory:"):
        from hub.ledger.memory import MemoryLedger

        return MemoryLedger(clock=clock)
    if isinstance(target, Path) or "://" not in text:
        from hub.ledger.sqlite import SQLiteLedger

        return SQLiteLedger(text, clock=clock, **{**sqlite_options, **options})
    parts = urlsplit(text)
    if parts.scheme == "sqlite":
        from hub.ledger.sqlite import SQLiteLedger

        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise LedgerError(f"sqlite ledger URL {text!r} names no file")
        return SQLiteLedger(path, clock=clock,
                            **{**_sqlite_options(parts.query), **sqlite_options, **options})
    if parts.scheme in ("postgresql", "postgres"):
        from hub.ledger.postgres import PostgresLedger

        query = parse_qsl(parts.query)
        schema = next((v for k, v in query if k == "schema"), None)
        rest = urlencode([(k, v) for k, v in query if k != "schema"])
        dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment))
        return PostgresLedger(dsn, clock=clock, schema=schema or options.pop("schema", None)
                              or "orderhub", **options)
    raise LedgerError(f"ledger address {parts.scheme}://... is not supported; use a file path, "
                      "sqlite:///path, postgresql://... or memory:")
