"""An in-memory ledger for unit tests of other parts.

It is the SQLite ledger on a private in-memory database: the same SQL and the
same semantics as the file store (it passes the same contract suite), no file,
nothing kept after ``close()``.

>>> from hub.ledger.memory import MemoryLedger
>>> ledger = MemoryLedger()
>>> ledger.counts()
{'stages': {}, 'lanes': {}}
"""

from __future__ import annotations

from hub.clock import Clock
from hub.ledger.sqlite import SQLiteLedger


class MemoryLedger(SQLiteLedger):
    def __init__(self, *, clock: Clock | None = None) -> None:
        super().__init__(":memory:", clock=clock)
        self.where = "in-memory ledger"
