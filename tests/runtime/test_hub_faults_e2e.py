"""The whole hub on Ray against the emulators, the hard way: 5xx and throttling bursts
from the marketplaces, a bad rule file and then a new rule set half way, and two
mismatches planted in the WMS afterwards. Like Jepsen's checkers, it compares the
set that went in with the set that came out."""

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from hub.clock import ScaledClock
from hub.config import HubSettings
from hub.domain.order import Buyer, OrderStatus
from hub.domain.rules import default_ruleset
from hub.ledger import open_ledger
from hub.runtime import Hub
from sim.emulators.suite import EmulatorSuite, SuiteConfig
from sim.emulators.warehouse import ServiceTimes, WmsConfig
from sim.trace import EventKind, TraceEvent, TraceHeader, write_trace
from tests.factories import T0, order
from tests.runtime.test_hub_e2e import NO_DISTRICT, PREFIX

pytestmark = pytest.mark.ray
SPEEDUP = 30.0
N = 80  # orders per channel
SPACING_S = 6.0  # business seconds between one channel's orders
SURGE = Path(__file__).parents[2] / "scenarios" / "rules" / "surge-v2.yaml"
FAULTS = [  # (at, detail)
    (40.0, {"kind": "5xx", "channel": "tmall", "count": 4, "status": 502}),
    (90.0, {"kind": "throttle", "channel": "jd", "count": 2}),
    (150.0, {"kind": "5xx", "channel": "douyin", "count": 3}),
    (200.0, {"kind": "throttle", "channel": "tmall", "count": 3}),
]
CANCELLED_ID = "DC0001"  # never paid, cancelled: the WMS must never ship it


def _trace(path: Path) -> list[TraceEvent]:
    events = []
    for channel, prefix in PREFIX.items():
        for i in range(N):
            at = 5.0 + i * SPACING_S
            changes = {"receiver": NO_DISTRICT} if i % 20 == 7 else {}
            o = order(i, channel=channel, shop=f"{channel}-shop", order_id=f"{prefix}{i:05d}",
                      created_at=T0 + timedelta(seconds=at - 20),
                      buyer=Buyer(id=f"{channel}-buyer-{i}"), **changes)
            o = o.model_copy(update={"modified_at": T0 + timedelta(seconds=at)})
            events.append(TraceEvent(at=at, kind=EventKind.PAID, order=o,
                                     truth=("incomplete_address",) if changes else ()))
    gone = order(99, channel="douyin", shop="douyin-shop", order_id=CANCELLED_ID,
                 status=OrderStatus.CANCELLED, created_at=T0 + timedelta(seconds=40),
                 buyer=Buyer(id="douyin-buyer-cancel"))
    gone = gone.model_copy(update={"modified_at": T0 + timedelta(seconds=70)})
    events.append(TraceEvent(at=70.0, kind=EventKind.CANCELLED, order=gone))
    events += [TraceEvent(at=at, kind=EventKind.FAULT, detail=d) for at, d in FAULTS]
    events.sort(key=lambda e: e.at)
    write_trace(path, TraceHeader("e2e-faults", 1, T0, ("00:00", "00:10")), events)
    return [e for e in events if e.order is not None]


def _change_rules(rules_file: Path, ledger_path: str, total: int,
                  stop: threading.Event) -> None:
    """Once a third is decided: a broken file first (refused, v1 stays), then the surge
    rule set."""
    ledger = open_ledger(ledger_path)
    while not stop.wait(0.2):
        if sum(1 for e in ledger.events_since() if e.stage in ("routed", "held")) >= total / 3:
            break
    if stop.is_set():
        return
    rules_file.write_text("version: 2\nweights: {order_type: [oops\n", encoding="utf-8")
    if stop.wait(1.0):
        return
    rules_file.write_text(SURGE.read_text(encoding="utf-8"), encoding="utf-8")


def _wait(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


def test_faults_rule_change_and_planted_mismatches(ray_session, tmp_path) -> None:
    fed = _trace(tmp_path / "trace.jsonl")
    fed_keys = {(e.order.channel.value, e.order.shop, e.order.order_id) for e in fed}
    clock = ScaledClock(T0, SPEEDUP, wall_origin=time.time() + 8)  # the hub starts meanwhile
    quick = ServiceTimes(pick_s=5, pack_s=5, ship_s=10)
    wms = WmsConfig(default_workers=50, service={lane: quick for lane in ("P0", "P1", "P2", "P3")})
    suite = EmulatorSuite(SuiteConfig(trace=tmp_path / "trace.jsonl", speedup=SPEEDUP, wms=wms),
                          clock=clock).start()
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(default_ruleset().text, encoding="utf-8")
    stop = threading.Event()
    try:
        wiring = suite.hub_settings()
        for channel in wiring["channels"]:
            channel |= {"interval_s": 30, "overlap_s": 60, "page_size": 50, "max_retries": 8}
        settings = HubSettings(**wiring, ledger=str(tmp_path / "hub.sqlite3"),
                               rules_file=rules_file, rules_poll_s=0.5,
                               reconcile_interval_s=30)
        settings.api.port = 0
        hub = Hub(settings, clock, start_at=T0).start()
        changer = threading.Thread(target=_change_rules, daemon=True,
                                   args=(rules_file, settings.ledger, len(fed), stop))
        changer.start()
        try:
            ledger = open_ledger(settings.ledger)

            def decisions() -> list:
                return [e for e in ledger.events_since() if e.stage in ("routed", "held")]

            _wait(lambda: {e.key for e in decisions()} >= fed_keys, 120, "every order decided")
            # -- in == out: nothing lost, nothing doubled, nothing unexpected -------------
            made = decisions()
            assert {e.key for e in made} == fed_keys
            per_version = Counter((e.key, e.version) for e in made)
            assert max(per_version.values()) == 1, per_version.most_common(3)
            # -- the rule change: the bad file was refused, then v2 took over between batches
            versions = Counter(e.ruleset_version for e in made)
            assert set(versions) == {1, 2}, versions
            switch = min(e.at for e in made if e.ruleset_version == 2)
            assert all(e.ruleset_version == 2 for e in made if e.at > switch), versions
            assert [r.version for r in ledger.list_rulesets()] == [1, 2]
            # -- the faults really happened and were ridden out ----------------------------
            served = suite.stats()
            assert served["tmall"]["errors"].get("5xx", 0) >= 1, served["tmall"]["errors"]
            assert served["jd"]["errors"].get("throttle", 0) >= 1, served["jd"]
            assert served["douyin"]["errors"].get("5xx", 0) >= 1, served["douyin"]["errors"]
            # -- anomalies held and alerted within the robot's limit -----------------------
            held = {(e.order.channel.value, e.order.shop, e.order.order_id)
                    for e in fed if e.truth}
            assert {e.key for e in made if e.stage == "held"} == held
            messages = httpx.get(suite["dingtalk"] + "/_messages").json()["messages"]
            assert messages and len(messages) <= 20
            # -- the WMS got every paid routed order once, and shipped it ------------------
            to_ship = fed_keys - held - {("douyin", "douyin-shop", CANCELLED_ID)}
            wms_state = suite.emulators["wms"].state
            _wait(lambda: ledger.counts()["stages"].get("shipped", 0) == len(to_ship), 60,
                  "every routed order shipped")
            assert wms_state.counts["accepted"] == len(to_ship), wms_state.counts
            assert len(wms_state.lookup(sorted(to_ship))) == len(to_ship)
            assert ledger.get_order(sorted(to_ship)[0]).tracking_no
            # -- planted mismatches: the reconciler raises those two and nothing else -----
            dropped = sorted(to_ship)[5]
            plant = suite["wms"] + "/_control/plant"
            httpx.post(plant, json={"kind": "drop", "channel": dropped[0], "shop": dropped[1],
                                    "order_id": dropped[2]}).raise_for_status()
            httpx.post(plant, json={"kind": "shipped", "channel": "douyin",
                                    "shop": "douyin-shop", "order_id": CANCELLED_ID}
                       ).raise_for_status()

            def mismatches() -> dict:
                return {e.key: e.detail for e in ledger.events_since()
                        if e.stage in ("reconcile_mismatch", "shipped_after_cancel")}

            _wait(lambda: len(mismatches()) >= 2, 30, "the reconciler to raise both")
            raised = mismatches()
            assert set(raised) == {dropped, ("douyin", "douyin-shop", CANCELLED_ID)}, raised
            assert "WMS has no such order" in raised[dropped]["reason"]
            cancelled = raised[("douyin", "douyin-shop", CANCELLED_ID)]
            assert cancelled["marketplace"] == "cancelled" and cancelled["wms"] == "shipped"
        finally:
            stop.set()
            hub.stop()
    finally:
        suite.stop()
