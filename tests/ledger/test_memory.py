"""The contract on the in-memory ledger."""

from __future__ import annotations

import pytest

from hub.ledger.memory import MemoryLedger
from tests.ledger.contract import LedgerContract


class TestMemoryLedger(LedgerContract):
    @pytest.fixture
    def store(self):
        return None

    def open(self, store, clock):
        return MemoryLedger(clock=clock)
