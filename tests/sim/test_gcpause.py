"""The rehearsal keeps the cyclic collector off while it replays, and back on after."""

import gc

import pytest

from sim.gcpause import collector_paused


def test_the_collector_is_off_inside_and_on_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_comes_back_after_an_error_and_frees_cycles() -> None:
    class Node:
        pass

    with pytest.raises(RuntimeError), collector_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        del a, b
        raise RuntimeError("replay failed")
    assert gc.isenabled()
    assert not [o for o in gc.get_objects() if type(o) is Node]


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
