"""The hub parameter set's copy of the priority model matches the default rule set
(the model decides lanes with its copy, never with the hub's code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from sim.capacity.day import LANES, build_day, lanes_of
from sim.capacity.params import load_set
from sim.scenario import load_scenario

RULES = Path(__file__).resolve().parents[3] / "hub" / "domain" / "rules" / "default.yaml"


def test_the_lane_table_is_the_default_rule_sets() -> None:
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    table = load_set("hub")["lanes"]
    assert table["weights"] == rules["weights"]
    assert table["thresholds"] == rules["lanes"]
    for dim in ("order_type", "customer_tier", "region"):
        mine = {k: v for k, v in table[dim].items()}
        theirs = {k: v for k, v in rules["scores"][dim].items() if k != "default"}
        assert {k: v for k, v in mine.items() if k != "default"} == theirs
    assert table["inventory"] == rules["scores"]["inventory"]["in_stock"]
    ids = {r["id"] for r in rules["rules"]}
    assert {"vip-same-city-fast", "douyin-live-new-buyer"} <= ids


def test_lane_shares_look_like_the_rehearsals() -> None:
    scenario = load_scenario("double11-42k")
    day = build_day(scenario, 11, window=("00:00", "24:00"))
    lane, group, groups = lanes_of(day, load_set("hub")["lanes"])
    shares = np.bincount(lane, minlength=4) / lane.size
    assert 0.01 < shares[0] < 0.06  # the live double11 rehearsal: 3.0% P0
    assert abs(shares.sum() - 1) < 1e-9 and len(LANES) == 4
    assert (group == groups.index("same-city")).any()
    assert (group == groups.index("live-new-buyer")).any()
