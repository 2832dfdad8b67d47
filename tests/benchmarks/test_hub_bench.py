"""The hub benchmark's core on one tiny step: the whole hub on the shared Ray, the
emulators on loopback, the figures written as JSON; every order fed is decided once,
by the hub as it is and by the hub with the pools-in-router change (one run does both:
each hub start costs the suite ~20 s)."""

import json

import pytest

from benchmarks.hub import run

pytestmark = pytest.mark.ray


def test_the_what_if_change_is_applied_only_inside_its_block() -> None:
    import hub.runtime
    from benchmarks.hub_whatif import PoolsInRouter, applied

    with applied("pools-in-router"):
        assert hub.runtime.Router is PoolsInRouter
    assert hub.runtime.Router is not PoolsInRouter


def test_one_tiny_push_step_and_its_what_if_are_decided_and_written(ray_session,
                                                                    tmp_path) -> None:
    out = tmp_path / "hub.json"
    figures = run([60], step_s=3.0, modes=["push"], out=out, workdir=tmp_path / "work",
                  drain_s=120.0, warm_up=False, progress=False, what_if="pools-in-router")
    written = json.loads(out.read_text())
    assert written["modes"] == json.loads(json.dumps(figures["modes"]))
    assert {"max_sustained_orders_per_s", "p99_latency_s_at_max", "rule", "modes", "profile",
            "machine"} <= set(written)
    assert written["machine"]["load_average_start"]
    mode = written["modes"]["push"]
    assert mode["drained"] is True, mode
    (step,) = mode["steps"]
    assert step["rate"] == 60 and step["fed"] == 180, step
    assert step["received_total"] == step["fed"], step
    assert step["decided_total"] == step["fed"], step
    assert step["latency_s"]["p99_s"] is not None and step["latency_s"]["p99_s"] > 0, step
    assert {"total", "router", "ledger_undecided"} <= set(step["backlog_end"])
    assert step["cpu_pct"] and isinstance(step["sustained"], bool)
    assert {"Validator.check", "Scorer.score"} <= set(step["actor_time"]), step["actor_time"]
    assert "push at 60/s" in written["profile"]["bottleneck"]["push"], written["profile"]
    assert written["profile"]["recent_window_cost"]["orders"] == 5000

    changed = written["what_if"]
    assert changed["change"] == "pools-in-router"
    (step,) = changed["push"]["steps"]
    assert changed["push"]["drained"] is True, changed["push"]
    assert step["decided_total"] == step["fed"] == 180, step
    # the replicas exist but get no batch: the router checks and scores in its own process
    assert not {"Validator.check", "Scorer.score"} & set(step["actor_time"]), step["actor_time"]
