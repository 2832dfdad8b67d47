"""The pull-log judge of the two-hub test (``tests/runtime/pull_log.py``) on made-up logs:
it finds two hubs pulling one shop at once, epochs going backwards, and how long a dead
hub's shops waited for another puller."""

from __future__ import annotations

from tests.runtime import pull_log


def _pull(hub: str, shop: str, epoch: int | None, start: float, end: float) -> dict:
    return {"hub": hub, "channel": "tmall", "shop": shop, "epoch": epoch, "start": start,
            "end": end}


HANDOVER = [_pull("a", "s1", 1, 0, 1), _pull("a", "s1", 1, 2, 3),
            _pull("b", "s1", 2, 12, 13), _pull("b", "s1", 2, 14, 15),
            _pull("b", "s2", 1, 0, 1), _pull("b", "s2", 1, 2, 3)]


def test_a_clean_handover_has_no_overlap_and_growing_epochs() -> None:
    assert pull_log.overlaps(HANDOVER) == []
    assert pull_log.epochs_out_of_order(HANDOVER) == []
    assert pull_log.taken_over(HANDOVER, "a", 3.5) == {"tmall/s1": 8.5}


def test_two_hubs_pulling_one_shop_overlap_even_between_their_pulls() -> None:
    both = [_pull("a", "s1", None, 0, 1), _pull("a", "s1", None, 4, 5),
            _pull("b", "s1", None, 2, 3), _pull("b", "s1", None, 6, 7)]
    [(first, second)] = pull_log.overlaps(both)
    assert {first.hub, second.hub} == {"a", "b"}
    assert pull_log.epochs_out_of_order(both)  # no epochs at all


def test_an_epoch_that_goes_back_and_a_shop_never_taken_over_are_found() -> None:
    back = [_pull("a", "s1", 2, 0, 1), _pull("b", "s1", 1, 5, 6)]
    assert pull_log.epochs_out_of_order(back)
    assert pull_log.taken_over(HANDOVER[:2], "a", 3.5) == {"tmall/s1": None}
