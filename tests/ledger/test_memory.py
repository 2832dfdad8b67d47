"""The contract on the in-memory ledger."""

from __future__ import annotations

import pytest

from hub.ledger.memory import MemoryLedger
from tests.ledger.contract import LedgerContract
from tests.ledger.contract_leases import LeaseContract


class TestMemoryLedger(LedgerContract, LeaseContract):
    @pytest.fixture
    def store(self):
        return None

    def open(self, store, clock):
        return MemoryLedger(clock=clock)
