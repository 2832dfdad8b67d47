"""Each hub process measures how long the cyclic garbage collector stopped it."""

import gc

import pytest

from hub.gcwatch import ACTOR_THRESHOLD, GcWatch, checked_threshold


def test_a_full_collection_is_counted_with_its_pause() -> None:
    watch = GcWatch.install()
    assert GcWatch.install() is watch  # one per process
    before = watch.snapshot()
    for _ in range(2):
        gc.collect()
    after = watch.snapshot()
    assert after["collections"][2] == before["collections"][2] + 2
    assert after["pause_s"][2] > before["pause_s"][2]
    assert after["max_pause_s"] >= max(after["pause_s"][2] - before["pause_s"][2], 0) / 2
    assert after["max_pause_s"] >= before["max_pause_s"]


def test_an_actor_process_raises_the_collector_thresholds(monkeypatch) -> None:
    before = gc.get_threshold()
    try:
        GcWatch.install(actor=True)
        assert gc.get_threshold() == ACTOR_THRESHOLD
        GcWatch.install(actor=True, threshold=(700, 10, 10))
        assert gc.get_threshold() == (700, 10, 10)
        # the environment is the settings' business, not the watch's
        monkeypatch.setenv("ORDERHUB_GC_THRESHOLD", "1,1,1")
        GcWatch.install(actor=True)
        assert gc.get_threshold() == ACTOR_THRESHOLD
    finally:
        gc.set_threshold(*before)


def test_a_plain_process_keeps_its_thresholds() -> None:
    before = gc.get_threshold()
    GcWatch.install(threshold=(1, 1, 1))
    assert gc.get_threshold() == before


@pytest.mark.parametrize("values", [(), (1, 2, 3, 4), (-1,), (700, True, 10), ("700",)])
def test_a_bad_threshold_is_refused_with_the_values(values) -> None:
    before = gc.get_threshold()
    with pytest.raises(ValueError, match=r"gc threshold .*expected up to three"):
        checked_threshold(values)
    with pytest.raises(ValueError):
        GcWatch.install(actor=True, threshold=values)
    assert gc.get_threshold() == before
