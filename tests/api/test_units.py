"""Small parts: tokens, ETA steps, percentiles, renumbering a rule file for a rollback."""

from __future__ import annotations

from datetime import datetime, timedelta

from hub.api.eta import estimate, typical_steps
from hub.api.feed import Histogram, percentile
from hub.app.rules import renumber
from hub.domain.order import SHANGHAI
from hub.domain.rules import default_ruleset, load_ruleset
from hub.roles import parse_tokens

T = datetime(2026, 11, 11, 12, 0, tzinfo=SHANGHAI)


def test_tokens_name_their_users():
    tokens = parse_tokens("alice:a1, bob:b2,")
    assert {t: h.name for t, h in tokens.items()} == {"a1": "alice", "b2": "bob"}
    assert parse_tokens("plain")["plain"].name == "operator"
    assert parse_tokens("") == {}


def test_steps_take_the_most_common_forward_step_and_skip_holds():
    rows = [{"lane": "P1", "from": "routed", "to": "dispatched", "n": 3, "p50_s": 10.0},
            {"lane": "P1", "from": "routed", "to": "cancelled", "n": 9, "p50_s": 1.0},
            {"lane": "P1", "from": "scored", "to": "held", "n": 5, "p50_s": 0.0},
            {"lane": "P2", "from": "routed", "to": "dispatched", "n": 1, "p50_s": 30.0}]
    steps = typical_steps(rows)
    assert steps["P1"] == {"routed": ("dispatched", 10.0)}
    assert steps["*"]["routed"] == ("dispatched", 15.0)  # (3*10 + 1*30) / 4


def test_estimate_states():
    steps = typical_steps([{"lane": "P0", "from": "routed", "to": "shipped", "n": 1,
                            "p50_s": 60.0}])
    assert estimate("routed", T, "P0", steps, T + timedelta(seconds=15)).remaining_s == 45.0
    late = estimate("routed", T, "P0", steps, T + timedelta(hours=1))
    assert (late.remaining_s, late.expected_at) == (0.0, T + timedelta(hours=1))
    assert estimate("released", T, "P0", steps, T).remaining_s == 60.0  # borrows routed's
    assert estimate("shipped", T, "P0", steps, T).state == "done"
    assert estimate("held", T, "P0", steps, T).state == "held"
    assert estimate("cancelled", T, "P0", steps, T).state == "cancelled"
    unknown = estimate("received", T, "P0", steps, T)
    assert unknown.state == "unknown" and "received" in unknown.basis


def test_percentiles_and_histogram():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile(values, 0.99)) == (
        50.0, 90.0, 99.0)
    h = Histogram()
    for v in (0.01, 0.3, 7.0, 5000.0):
        h.observe(v)
    cumulative = dict(h.cumulative())
    assert (cumulative["0.05"], cumulative["0.5"], cumulative["10"], cumulative["+Inf"]) == (
        1, 2, 3, 4)


def test_renumber_keeps_the_rules_and_sets_the_version():
    text = renumber(default_ruleset().text, 7, "rollback to v1 by alice")
    ruleset = load_ruleset(text)
    assert ruleset.version == 7
    assert ruleset.rules == default_ruleset().rules
    assert renumber("name: x\n", 3) == "version: 3\nname: x\n"
