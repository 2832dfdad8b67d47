"""Each hub process measures how long the cyclic garbage collector stopped it."""

import gc

from hub.gcwatch import GcWatch


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
