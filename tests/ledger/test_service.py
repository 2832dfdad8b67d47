"""The ledger writer actor's own calls, on the plain class (its store is a real file)."""

from datetime import timedelta

from hub.ledger.service import LedgerService
from tests.factories import order


def test_ingest_positions_names_the_new_and_changed_orders_of_the_call(tmp_path) -> None:
    service = LedgerService(str(tmp_path / "ledger.sqlite3"))
    try:
        first = [order(1), order(2), order(3)]
        assert service.ingest_positions(first) == [0, 1, 2]
        newer = order(2).model_copy(update={"modified_at": order(2).modified_at
                                            + timedelta(seconds=30)})
        again = [order(1), newer, order(3), order(4)]
        assert service.ingest_positions(again) == [1, 3]
        assert service.ingest_positions(again) == []
        assert service.get_order(newer.key).order == newer
    finally:
        service.close()
