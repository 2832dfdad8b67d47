"""Each hub process measures how long the cyclic garbage collector stopped it."""

import gc

import pytest

from hub.gcwatch import ACTOR_THRESHOLD, GcWatch, actor_threshold


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
        monkeypatch.delenv("ORDERHUB_GC_THRESHOLD", raising=False)
        GcWatch.install(actor=True)
        assert gc.get_threshold() == ACTOR_THRESHOLD
        monkeypatch.setenv("ORDERHUB_GC_THRESHOLD", "700,10,10")
        GcWatch.install(actor=True)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


@pytest.mark.parametrize("text", ["fast", "1,2,3,4", "-1", "700,,10"])
def test_a_bad_threshold_setting_is_refused_with_the_value(monkeypatch, text) -> None:
    monkeypatch.setenv("ORDERHUB_GC_THRESHOLD", text)
    with pytest.raises(ValueError, match="ORDERHUB_GC_THRESHOLD"):
        actor_threshold()
