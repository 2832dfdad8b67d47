"""hub.cluster: which cluster the hub joins, the SQLite refusal, where each actor goes;
and ``orderhub run`` refusing a SQLite ledger on a cluster with exit 2 and the reason."""

from __future__ import annotations

import pytest
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from hub.cli import main
from hub.cluster import (
    ROLES,
    check_cluster,
    cluster_address,
    format_placement,
    ledger_refusal,
    placement,
)
from hub.config import ConfigError, HubSettings

pytestmark = pytest.mark.cluster  # make test-cluster runs these with tests/cluster
PG = "postgresql://postgres@127.0.0.1:5432/test"
NODE = "a" * 56


def _settings(**given) -> HubSettings:
    return HubSettings.load(environ=False, **given)


def test_the_cluster_comes_from_the_setting_then_a_ray_jobs_address() -> None:
    assert cluster_address(_settings(), {}) is None
    assert cluster_address(_settings(ray_address="local"), {}) is None
    assert cluster_address(_settings(), {"RAY_ADDRESS": "10.0.0.5:6380"}) == "10.0.0.5:6380"
    assert cluster_address(_settings(ray_address="ray://head:10001"),
                           {"RAY_ADDRESS": "10.0.0.5:6380"}) == "ray://head:10001"


def test_a_sqlite_ledger_is_refused_on_a_cluster_only() -> None:
    sqlite = _settings(ledger="var/hub.sqlite3")
    assert ledger_refusal(sqlite, None) is None
    reason = ledger_refusal(sqlite, "head:6380")
    assert reason and "SQLite" in reason and "PostgreSQL" in reason and "head:6380" in reason
    assert ledger_refusal(_settings(ledger=PG), "head:6380") is None
    with pytest.raises(ConfigError, match="use PostgreSQL"):
        check_cluster(sqlite, {"RAY_ADDRESS": "head:6380"})  # inside a Ray Job
    assert check_cluster(_settings(ledger=PG, ray_address="head:6380"), {}) == "head:6380"


def test_actors_go_anywhere_but_a_sqlite_writer_and_the_rule_store_stay_by_the_driver() -> None:
    for role in ROLES:
        options = placement(role, PG, NODE)
        if role == "rules":
            strategy = options["scheduling_strategy"]
            assert isinstance(strategy, NodeAffinitySchedulingStrategy)
            assert strategy.node_id == NODE and not strategy.soft
        else:
            assert options == {"scheduling_strategy": "SPREAD"}, role
    pinned = placement("ledger", "var/hub.sqlite3", NODE)["scheduling_strategy"]
    assert isinstance(pinned, NodeAffinitySchedulingStrategy) and pinned.node_id == NODE
    with pytest.raises(ValueError, match="unknown role"):
        placement("dashboard", PG, NODE)


def test_placement_lines_name_each_live_node_and_its_actors() -> None:
    report = {"nodes": {"h" * 56: {"ip": "10.0.0.1", "head": True, "alive": True},
                        "w" * 56: {"ip": "10.0.0.2", "head": False, "alive": True},
                        "d" * 56: {"ip": "10.0.0.3", "head": False, "alive": False}},
              "actors": [{"class": "Router", "node_id": "h" * 56},
                         {"class": "ChannelPuller", "node_id": "w" * 56},
                         {"class": "ChannelPuller", "node_id": "w" * 56}]}
    lines = format_placement(report)
    assert lines == ["node 10.0.0.1 hhhhhhhhhhhh (head): 1 actors  Router",
                     "node 10.0.0.2 wwwwwwwwwwww (worker): 2 actors  ChannelPullerx2"]


@pytest.mark.parametrize("how", ["flag", "ray job"])
def test_run_refuses_a_sqlite_ledger_on_a_cluster_with_exit_2(how, tmp_path, monkeypatch,
                                                              capsys) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(f'ledger = "{tmp_path / "hub.sqlite3"}"\n', encoding="utf-8")
    args = ["run", "--config", str(config)]
    if how == "flag":
        args += ["--ray-address", "127.0.0.1:1"]  # nothing listens: refused before joining
    else:
        monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "SQLite ledger" in err and "use PostgreSQL" in err and "127.0.0.1:1" in err
    assert not (tmp_path / "hub.sqlite3").exists()
