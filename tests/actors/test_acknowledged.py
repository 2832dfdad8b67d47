"""The puller's memory of versions the ledger acknowledged: exact, bounded, forgetful."""

from datetime import timedelta

from hub.actors.acknowledged import Acknowledged
from tests.factories import T0, order


def test_only_acknowledged_versions_are_skipped() -> None:
    seen = Acknowledged()
    assert [o.order_id for o in seen.unseen([order(1), order(2)])] == ["T100001", "T100002"]
    seen.add([order(1)])
    newer = order(1, modified_at=T0 + timedelta(hours=1))
    assert [o.order_id for o in seen.unseen([order(1), newer, order(2)])] == [
        "T100001", "T100002"]
    assert seen.unseen([order(1)]) == []
    seen.add([newer])
    assert seen.unseen([order(1)]) == [order(1)]  # the older version is not the one held
    assert len(seen) == 1


def test_the_window_moving_on_forgets_what_it_cannot_read_again() -> None:
    seen = Acknowledged()
    seen.add([order(n) for n in range(1, 11)])  # modified at T0 + 20 + n seconds
    seen.forget_before(T0 + timedelta(seconds=26))
    assert len(seen) == 5
    assert [o.order_id for o in seen.unseen([order(n) for n in (5, 6)])] == ["T100005"]


def test_the_limit_drops_the_oldest_versions_first() -> None:
    seen = Acknowledged(limit=3)
    seen.add([order(n) for n in (5, 1, 4, 2, 3)])
    assert len(seen) == 3
    assert [o.order_id for o in seen.unseen([order(n) for n in range(1, 6)])] == [
        "T100001", "T100002"]
