"""The hub on a two-node Ray cluster on this machine (``ray start --head`` and ``ray start
--address=...``, each node with its own raylet), run as an operator runs it:
``orderhub run --ray-address ... --config ...`` with the PostgreSQL ledger (a schema of
its own), against the emulators on loopback.

It checks that the actors are spread over both nodes (``orderhub status``), then loses
the worker node mid-stream (its raylet and every process under it SIGKILLed): the
actors come back on the head, and the verdict from the warehouse's own records (the
rehearsal's ``sim.verdict``) says nothing was lost and nothing shipped twice. The same
verdict over those records with one dispatch dropped and one doubled fails.
"""

from __future__ import annotations

import copy
import os
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from hub.clock import ScaledClock
from hub.domain.order import Buyer, Order
from sim.cluster import LocalCluster
from sim.cluster_hub import (
    HubProcess,
    job_id,
    job_logs,
    own_secrets,
    status,
    submit_job,
    wait_job,
    write_config,
)
from sim.emulators.suite import EmulatorSuite, SuiteConfig
from sim.trace import EventKind, TraceEvent
from sim.verdict import Outside, judge
from tests.factories import T0, order

DSN = os.environ.get("ORDERHUB_PG_DSN", "")
pytestmark = [
    pytest.mark.cluster, pytest.mark.postgres,
    pytest.mark.timeout(900),  # a module's first test also waits for the cluster and the hub
    pytest.mark.skipif(not DSN, reason="ORDERHUB_PG_DSN is not set: a hub on a cluster needs "
                                       "the PostgreSQL ledger (.ci/run points it at one)"),
]
REPO = Path(__file__).parents[2]
CHANNELS = {"tmall": "T", "jd": "J", "douyin": "D"}
SPEEDUP = 30.0
N = 60  # orders per channel
SPACING_S = 30.0  # business seconds between one channel's orders: 60 wall s in all


def _orders(start: datetime) -> list[Order]:
    """N clean paid orders per channel, one every SPACING_S business seconds from
    ``start``, each released by its marketplace at its modified time."""
    out = []
    for channel, prefix in CHANNELS.items():
        for i in range(N):
            at = start + timedelta(seconds=i * SPACING_S)
            o = order(i, channel=channel, shop=f"{channel}-shop", order_id=f"{prefix}{i:05d}",
                      created_at=at - timedelta(seconds=20),
                      buyer=Buyer(id=f"{channel}-buyer-{i}"))
            out.append(o.model_copy(update={"modified_at": at}))
    return out


def _events(orders: list[Order]) -> list[TraceEvent]:
    """The buyers' side for the verdict, as a trace would have it."""
    return sorted((TraceEvent(at=(o.modified_at - T0).total_seconds(), kind=EventKind.PAID,
                              order=o) for o in orders), key=lambda e: e.at)


def _verdict(events: list[TraceEvent], records: dict) -> dict:
    verdict, _ = judge(Outside.read(events, records, origin=T0), promise=lambda *_: 48.0)
    return verdict


def _drop_one_double_another(records: dict) -> dict:
    broken = copy.deepcopy(records)
    orders = broken["wms"]["orders"]
    orders.append(copy.deepcopy(orders[0]) | {"wms_order_no": "WMS-DOUBLED"})
    dropped = orders.pop(1)
    broken["wms"]["shipments"] = [s for s in broken["wms"].get("shipments", [])
                                  if s.get("order_id") != dropped["order_id"]]
    return broken


@pytest.fixture(scope="module")
def pg_schema():
    """Makes PostgreSQL schemas of this module's own, dropped at its end."""
    import psycopg
    from psycopg import sql

    made: list[str] = []

    def make() -> str:
        made.append(f"orderhub_cluster_{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield make
    with psycopg.connect(DSN, autocommit=True) as conn:
        for name in made:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(name)))


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(workers=1, cpus=2, env={"PYTHONPATH": str(REPO)}) as c:
        yield c


@pytest.fixture(scope="module")
def stream(tmp_path_factory, cluster, pg_schema):
    """Emulators releasing orders over a wall minute from when the hub runs, and the hub
    on the cluster pulling from them."""
    tmp = tmp_path_factory.mktemp("cluster")
    clock = ScaledClock(T0, SPEEDUP, time.time())
    config = SuiteConfig.model_validate({
        "speedup": SPEEDUP, "origin": T0, **own_secrets(list(CHANNELS)),
        "wms": {**own_secrets([])["wms"], "default_workers": 50,
                "service": {lane: {"pick_s": 5, "pack_s": 5, "ship_s": 10}
                            for lane in ("P0", "P1", "P2", "P3")}}})
    suite = EmulatorSuite(config, clock=clock).start()
    wiring = suite.hub_settings()
    for channel in wiring["channels"]:
        channel |= {"interval_s": 30, "overlap_s": 60, "page_size": 50}
    cfg = write_config(tmp / "hub.toml", {
        "ledger": f"{DSN}?schema={pg_schema()}", "start_at": T0, "reconcile_interval_s": 60,
        "clock": clock.as_dict(),
        "api": {"port": 0}, **wiring})
    hub = HubProcess(["--ray-address", cluster.address, "--config", str(cfg), "--drain-s", "10"],
                     cluster.env, tmp / "hub.log", cwd=REPO)
    try:
        hub.start()
        # the stream starts once the hub runs, however long a busy machine made that take
        orders = _orders((clock.now() + timedelta(seconds=2 * SPEEDUP)).replace(microsecond=0))
        for channel in CHANNELS:
            suite.states[channel].add_orders([o for o in orders if o.channel.value == channel])
        yield {"suite": suite, "hub": hub, "config": cfg, "events": _events(orders), "tmp": tmp}
    finally:
        code = hub.stop()
        suite.stop()
        print(f"hub exited {code}; its log: {tmp / 'hub.log'}")


def _accepted(suite: EmulatorSuite) -> int:
    return suite.emulators["wms"].state.counts["accepted"]


def _wait(predicate, timeout_s: float, what: str, every_s: float = 1.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def test_status_shows_the_hubs_actors_on_both_nodes(cluster, stream) -> None:
    report = status(stream["config"], cluster.address, cluster.env)
    placement = report["placement"]
    assert "error" not in placement, placement
    alive = [n for n, node in placement["nodes"].items() if node["alive"]]
    assert len(alive) == 2
    assert set(placement["actors_per_node"]) == set(alive), placement["actors_per_node"]
    classes = {row["class"] for row in placement["actors"]}
    assert {"ShopPullers", "Validator", "Scorer", "Router", "LedgerService",
            "OutboxRelay", "RuleStore"} <= classes, classes
    head = next(n for n, node in placement["nodes"].items() if node["head"])
    rulestore = next(r for r in placement["actors"] if r["class"] == "RuleStore")
    assert rulestore["node_id"] == head  # it watches a file on the driver's node
    assert httpx.get(stream["hub"].dashboard + "/healthz", timeout=10).status_code == 200


def test_losing_the_worker_node_mid_stream_loses_nothing_and_ships_nothing_twice(
        cluster, stream) -> None:
    suite, events = stream["suite"], stream["events"]
    owed = len(events)
    _wait(lambda: _accepted(suite) >= owed // 4, 240, "a quarter of the orders in the WMS")
    before = status(stream["config"], cluster.address, cluster.env)["placement"]
    worker = next(n for n, node in before["nodes"].items() if not node["head"])
    on_worker = [r["class"] for r in before["actors"] if r["node_id"] == worker]
    assert on_worker, before
    at_kill = _accepted(suite)
    cluster.kill_worker(0)
    assert at_kill < owed, "the stream had ended before the node was lost"
    # the actors that were on the lost node come back on the head
    after = _wait(lambda: (p := status(stream["config"], cluster.address, cluster.env)[
        "placement"]) and len(p["actors"]) == len(before["actors"])
        and set(p["actors_per_node"]) == {n for n, v in p["nodes"].items() if v["head"]}
        and p, 120, "the lost node's actors to restart on the head", every_s=3.0)
    assert sorted(r["class"] for r in after["actors"]) == sorted(
        r["class"] for r in before["actors"])
    _wait(lambda: _accepted(suite) >= owed, 240, "every order in the WMS")
    time.sleep(3)  # a dispatch sent twice would show by now
    records = suite.records()
    verdict = _verdict(events, records)
    assert verdict["orders"]["owed"] == owed
    assert verdict["lost"] == 0, verdict["examples"]
    assert verdict["shipped_twice"] == 0, verdict["examples"]
    assert verdict["orders"]["reached_wms"] == owed
    print(f"worker node lost with {at_kill}/{owed} orders in the WMS; actors moved: "
          f"{sorted(on_worker)}")
    # the same verdict fails on the same records with one dispatch dropped, one doubled
    broken = _verdict(events, _drop_one_double_another(records))
    assert broken["lost"] == 1 and broken["shipped_twice"] == 1, broken["examples"]


def test_the_hub_runs_as_a_ray_job_and_refuses_sqlite_there_too(cluster, pg_schema,
                                                               tmp_path) -> None:
    tmp = tmp_path
    env = {"RAY_JOB_STOP_WAIT_TIME_S": "60"}  # the job's SIGTERM gives the drain its time
    sqlite = write_config(tmp / "job-sqlite.toml", {"ledger": str(tmp / "job.sqlite3"),
                                                    "api": {"port": 0}})
    refused = submit_job(cluster, ["--config", str(sqlite)], env,
                         f"refused-{uuid.uuid4().hex[:6]}")
    assert wait_job(cluster, refused, ("SUCCEEDED", "FAILED", "STOPPED")) == "FAILED"
    assert "use PostgreSQL" in job_logs(cluster, refused)
    config = write_config(tmp / "job-pg.toml", {"ledger": f"{DSN}?schema={pg_schema()}",
                                                "api": {"port": 0}})
    job = submit_job(cluster, ["--config", str(config), "--drain-s", "5"], env,
                     f"hub-{uuid.uuid4().hex[:6]}")
    _wait(lambda: "orderhub: running" in job_logs(cluster, job), 240, "the job's hub to run",
          every_s=3.0)
    placement = status(config, cluster.address, cluster.env)["placement"]
    ray_job = job_id(cluster, job)
    jobs_actors = {r["class"] for r in placement["actors"] if r["job_id"] == ray_job}
    assert {"Router", "LedgerService", "RuleStore", "OutboxRelay"} <= jobs_actors
    cluster.ray_cli("job", "stop", f"--address={cluster.dashboard_url}", job)
    assert wait_job(cluster, job, ("SUCCEEDED", "FAILED", "STOPPED")) in ("STOPPED", "SUCCEEDED")
    assert "orderhub: stopped" in job_logs(cluster, job)  # drained, not killed
