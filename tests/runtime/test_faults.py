"""Actors killed in the middle of the stream, the whole hub on Ray against the emulators.

One hub runs for the module; each case feeds its own stream of orders (two
marketplaces, some held, some changed a little later) and kills its target twice,
at 20% and at 60% of its orders decided: through Ray (``ray.kill``, restarted) or
hard (``os._exit`` inside the actor's process, a few milliseconds after it picked
up the request, so often in the middle of the next one). Like Kafka's and Jepsen's
checkers it then compares what went in with what came out: every fed order is
decided at its last version, no (order, version) is decided twice, nothing was
decided that was never fed or other than planted (held or routed), and the WMS
holds exactly the routed orders.

Only held orders get a second version here; that a new version of an order the WMS
already has (it keeps its stage) is re-driven too is tests/actors/test_router.py's case.
"""

import contextlib
import itertools
import os
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import ray

from hub.clock import ScaledClock
from hub.config import HubSettings
from hub.domain.order import Buyer, Receiver
from hub.ledger import open_ledger
from hub.runtime import Hub
from sim.emulators.suite import EmulatorSuite, SuiteConfig
from tests.factories import T0, order

pytestmark = pytest.mark.ray
SPEEDUP = 60.0
PREFIX = {"tmall": "T", "jd": "J"}
N = 100  # orders per marketplace and case
SPACING_S = 2  # business seconds between one marketplace's orders: 3.3 s of wall time
FIXED_AFTER_S = 40  # a held order's address is fixed this much later
KILL_AT = (0.2, 0.6)  # share of the case's orders decided
DECISIONS = ("routed", "held", "auto_remedied")
NO_DISTRICT = Receiver(name="王五", phone="13900001111", province="浙江省", city="杭州市",
                       district="", street="", detail="杭州市")
MOVED = Receiver(name="赵六", phone="13700002222", province="江苏省", city="南京市",
                 district="玄武区", street="新街口街道", detail="中山路1号2单元303室")
CASES = itertools.count(1)


class Stand:
    """The module's hub, its emulators, a reader on its ledger and all that was fed."""

    def __init__(self, tmp_path) -> None:
        self.clock = ScaledClock(T0, SPEEDUP)
        self.suite = EmulatorSuite(SuiteConfig(origin=T0, speedup=SPEEDUP,
                                               only=[*PREFIX, "wms"]), clock=self.clock)
        self.suite.start()
        wiring = self.suite.hub_settings()
        for channel in wiring["channels"]:
            channel |= {"interval_s": 20, "overlap_s": 30, "page_size": 50}
        self.settings = HubSettings(
            **wiring, ledger=str(tmp_path / "hub.sqlite3"), reconcile_interval_s=3600,
            pools={"validators": 2, "scorers": 2, "batch_ms": 20, "batch_max": 50})
        try:
            self.hub = Hub(self.settings, self.clock, start_at=T0).start(serve_api=False)
        except BaseException:
            self.suite.stop()
            raise
        self.ledger = open_ledger(self.settings.ledger)
        self.fed: set[tuple] = set()  # (key, version) of every order fed so far

    def feed(self, case: int) -> dict:
        """A stream starting 2 s of business time from now. Every 20th order has no
        district (held); half of those get it fixed a little later (a second version,
        routed). Returns the stage each fed (key, version) must be decided to."""
        base = self.clock.now().replace(microsecond=0) + timedelta(seconds=2)
        expected = {}
        for channel, prefix in PREFIX.items():
            orders = []
            for i in range(N):
                at = base + timedelta(seconds=i * SPACING_S)
                planted = i % 20 == 7
                o = order(i, channel=channel, shop=f"{channel}-shop",
                          order_id=f"{prefix}{case:02d}{i:04d}",
                          created_at=at - timedelta(seconds=20),
                          buyer=Buyer(id=f"{channel}-{case}-{i}"),
                          **({"receiver": NO_DISTRICT} if planted else {}))
                o = o.model_copy(update={"modified_at": at})
                orders.append(o)
                expected[(o.key, at)] = "held" if planted else "routed"
                if i % 40 == 7:
                    fixed = at + timedelta(seconds=FIXED_AFTER_S)
                    orders.append(o.model_copy(update={"receiver": MOVED, "modified_at": fixed}))
                    expected[(o.key, fixed)] = "routed"
            self.suite.states[channel].add_orders(orders)  # each visible at its version
        self.fed |= set(expected)
        return expected

    def decisions(self, keys=None) -> list:
        return [e for e in self.ledger.events_since(keys=keys) if e.stage in DECISIONS]

    def stop(self) -> None:
        self.ledger.close()
        try:
            self.hub.stop()
        finally:
            self.suite.stop()


@pytest.fixture(scope="module")
def stand(ray_session, tmp_path_factory):
    running = Stand(tmp_path_factory.mktemp("faults"))
    yield running
    running.stop()


def _getpid(_actor) -> int:
    return os.getpid()


def _exit_soon(_actor, delay_s: float) -> None:
    threading.Timer(delay_s, os._exit, (1,)).start()


def _pid(actor, timeout_s: float = 60.0) -> int:
    """The actor's process id, waiting while Ray restarts it."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return ray.get(actor.__ray_call__.remote(_getpid), timeout=10)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError,
                ray.exceptions.GetTimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie not yet reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def _kill(actor, how: str) -> int:
    """Kill ``actor``; returns the pid it had."""
    pid = _pid(actor)
    if how == "ray.kill":
        ray.kill(actor, no_restart=False)
    else:
        with contextlib.suppress(ray.exceptions.RayActorError):  # gone before it answered
            ray.get(actor.__ray_call__.remote(_exit_soon, 0.005))
    return pid


def _victims(hub: Hub, target: str, round_: int) -> list:
    if target == "replicas":  # one of two of each; the other takes over its batches
        return [hub.validators.replicas[round_ % 2], hub.scorers.replicas[round_ % 2]]
    if target == "puller":
        return [hub.pullers[round_ % len(hub.pullers)]]
    return [{"ledger": hub.ledger, "router": hub.router}[target]]


def _wait(predicate, timeout_s: float, what: str, detail=lambda: "") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}; "
                                 f"{detail()}")
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["ray.kill", "os._exit"])
@pytest.mark.parametrize("target", ["replicas", "puller", "ledger", "router"])
def test_killed_actor_loses_and_doubles_nothing(stand, target, how) -> None:
    hub = stand.hub
    expected = stand.feed(next(CASES))
    last = {}
    for key, version in expected:
        last[key] = max(last.get(key, version), version)
    keys = sorted(last)

    def decided() -> int:
        return len({e.key for e in stand.decisions(keys)})

    killed = []
    for round_, share in enumerate(KILL_AT):
        _wait(lambda s=share: decided() >= s * len(keys), 60, f"{share:.0%} decided")
        killed += [(actor, _kill(actor, how)) for actor in _victims(hub, target, round_)]

    def undecided() -> list:
        made = {(e.key, e.version) for e in stand.decisions(keys)}
        return sorted(kv for kv in last.items() if kv not in made)

    _wait(lambda: not undecided(), 90, "every order's last version decided",
          lambda: f"{len(undecided())} left, e.g. {undecided()[:2]}; stages "
                  f"{stand.ledger.counts()['stages']}; hub {hub.stats()}")
    # -- what went in came out: nothing lost, nothing doubled, nothing invented ------------
    made = stand.decisions()
    assert {e.key for e in stand.decisions(keys)} == set(keys)
    assert {(e.key, e.version) for e in made} <= stand.fed
    twice = [kv for kv, n in Counter((e.key, e.version) for e in made).items() if n > 1]
    assert not twice, twice[:5]
    wrong = [(e.key, e.version, e.stage) for e in stand.decisions(keys)
             if expected[(e.key, e.version)] != e.stage]
    assert not wrong, wrong[:5]
    # -- every kill took: each victim's process is gone (Ray restarts it meanwhile) -------
    for _, pid in killed:
        _wait(lambda p=pid: _gone(p), 30, f"process {pid} to end")
    # -- the WMS holds exactly the routed orders (at least once delivery, deduped) ---------
    routed = sorted({e.key for e in made if e.stage == "routed"})
    wms = stand.suite.emulators["wms"].state
    _wait(lambda: wms.counts["accepted"] >= len(routed), 30, "the WMS dispatches",
          lambda: f"{wms.counts}, {len(routed)} routed")
    assert len(wms.lookup(routed)) == len(routed)
    assert wms.counts["accepted"] == len(routed), wms.counts
    if target == "puller":  # the loop was called again on the restarted actor, each time
        restarts = hub.loops.restarts
        _wait(lambda: restarts["pullers"] >= len(KILL_AT), 30,
              "the pullers' loop called again", lambda: str(restarts))
