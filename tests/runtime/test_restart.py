"""The hub as a real process (``orderhub run``) against the emulators in this process.

SIGKILL mid-stream, then a restart on the same ledger: it resumes from the cursors and
the outbox, nothing lost, nothing doubled (compared as sets, as Jepsen's checkers do).
SIGTERM (or SIGINT) while batches are in flight, sent to the hub, to its process group
or to every one of its processes: it drains them and exits 0 within the drain plus a
margin, and its Ray is not taken down under it.

The hub and the emulators share one business clock (the config's ``[clock]``). The
orders are handed to the marketplace emulators only once the hub is up, so the stream
is mid-way whatever Ray's start-up costs on a busy machine. Each hub process starts
its own local Ray under a temporary directory of its own, so every process of that Ray
can be found (and must be gone) after a SIGKILL, apart from any Ray this session runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from pydantic import SecretStr

from hub.clock import ScaledClock
from hub.domain.order import Buyer, Order, Receiver
from hub.domain.outbox import WMS
from hub.ledger import open_ledger
from sim.emulators.dingtalk import DingTalkEmulatorConfig, RobotConfig
from sim.emulators.push_signing import envelope, signed
from sim.emulators.suite import EmulatorSuite, MarketplacesConfig, ShopCredential, SuiteConfig
from sim.emulators.warehouse import ServiceTimes, WmsConfig
from sim.shapes import SHAPES
from tests.factories import T0, order

pytestmark = pytest.mark.ray
REPO = Path(__file__).parents[2]
PREFIX = {"tmall": "RT-", "jd": "RJ-", "douyin": "RD-"}  # no log line may name an order
SPEEDUP = 5.0
OVERLAP_S = 10
DECISIONS = ("routed", "held", "auto_remedied")
WMS_STAGES = ("picked", "packed", "shipped")
NO_DISTRICT = Receiver(name="王五", phone="13900001111", province="浙江省", city="杭州市",
                       district="", street="", detail="杭州市")

Key = tuple[str, str, str]


# -- the world: the emulators, a stream of orders, the hub's config -----------------------
def _suite() -> EmulatorSuite:
    quick = ServiceTimes(pick_s=5, pack_s=5, ship_s=10)
    wms = WmsConfig(default_workers=50, service={lane: quick for lane in ("P0", "P1", "P2", "P3")},
                    callback_secret="restart-wms-secret")
    clock = ScaledClock(T0, SPEEDUP)
    # secrets of its own: `orderhub run` outside --demo refuses the demo ones
    shops = {channel: ShopCredential(app_secret=f"{channel}-restart-secret",
                                     access_token=f"{channel}-restart-token") for channel in PREFIX}
    robot = RobotConfig(name="ops", access_token="restart-robot", secret="SECrestart")
    config = SuiteConfig(origin=T0, speedup=SPEEDUP, wms=wms,
                         marketplaces=MarketplacesConfig(credentials=shops),
                         dingtalk=DingTalkEmulatorConfig(robots=[robot]))
    return EmulatorSuite(config, clock=clock).start()


def _orders(channel: str, n: int, start: datetime, spacing_s: float, prefix: str) -> list[Order]:
    """``n`` paid orders modified ``spacing_s`` apart from ``start``; every 25th lacks a
    district (held as incomplete_address)."""
    out = []
    for i in range(n):
        modified = start + timedelta(seconds=round(i * spacing_s))
        changes = {"receiver": NO_DISTRICT} if i % 25 == 7 else {}
        o = order(i, channel=channel, shop=f"{channel}-shop", order_id=f"{prefix}{i:05d}",
                  created_at=modified - timedelta(seconds=20),
                  buyer=Buyer(id=f"{channel}-{prefix}buyer-{i}"), **changes)
        out.append(o.model_copy(update={"modified_at": modified}))
    return out


def _stream(suite: EmulatorSuite, channels: list[str], n_per_channel: int,
            spacing_s: float) -> list[Order]:
    """Orders the marketplace emulators release one by one from two business seconds on
    (each when the clock reaches its modified time); the CRM knows their buyers."""
    start = (suite.clock.now() + timedelta(seconds=2)).replace(microsecond=0)
    fed = []
    for channel in channels:
        orders = _orders(channel, n_per_channel, start, spacing_s, PREFIX[channel])
        suite.emulators["crm"].state.seed_orders(orders)
        suite.states[channel].add_orders(orders)
        fed += orders
    return fed


def _keys(orders: list[Order]) -> set[Key]:
    return {o.key for o in orders}


def _toml_value(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, dict):  # an inline table, e.g. back_office.wms_callback_secrets
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def _toml(settings: dict[str, Any]) -> str:
    """Enough TOML for a hub config: scalars, tables, arrays of tables."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in settings.items()
             if not isinstance(v, dict | list)]
    for name, table in settings.items():
        rows = [table] if isinstance(table, dict) else table if isinstance(table, list) else []
        for row in rows:
            lines.append(f"\n[{name}]" if isinstance(table, dict) else f"\n[[{name}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in row.items()]
    return "\n".join(lines) + "\n"


def _config(tmp_path: Path, suite: EmulatorSuite, channels: list[str]) -> Path:
    """The hub's config file: the emulators' addresses and clock, pulls every wall second."""
    clock, wiring = suite.clock, suite.hub_settings()
    wiring["channels"] = [c for c in wiring["channels"] if c["channel"] in channels]
    for channel in wiring["channels"]:
        channel |= {"interval_s": SPEEDUP, "overlap_s": OVERLAP_S, "safety_lag_s": 1,
                    "page_size": 50}
    settings = {
        "ledger": str(tmp_path / "hub.sqlite3"), "reconcile_interval_s": 3600,
        "start_at": T0.isoformat(), **wiring,
        "back_office": {**wiring["back_office"], "wms_poll_s": SPEEDUP},
        "clock": {"origin": clock.origin.isoformat(), "speedup": clock.speedup,
                  "wall_origin": clock.wall_origin},
        "api": {"host": "127.0.0.1", "port": 0, "token": "operator:restart-api-token"},
    }
    path = tmp_path / "hub.toml"
    path.write_text(_toml(settings), encoding="utf-8")
    return path


# -- the hub process ------------------------------------------------------------------------
RAY_CORE = ("gcs_server", "raylet")
_NAMES: dict[int, str] = {}


def _name(p: psutil.Process) -> str:
    """The process's name, remembered past its end."""
    if p.pid not in _NAMES:
        with contextlib.suppress(psutil.Error):
            _NAMES[p.pid] = p.name()
    return _NAMES.get(p.pid, "")


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class HubProcess:
    """``orderhub run`` in a session of its own, its Ray under its own ``RAY_TMPDIR``."""

    def __init__(self, config: Path, log: Path) -> None:
        self.ray_dir = tempfile.mkdtemp(prefix="orh-")  # short: Ray's socket paths must fit
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        env |= {"RAY_TMPDIR": self.ray_dir, "PYTHONUNBUFFERED": "1"}
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "run", "--config", str(config)],
            cwd=REPO, env=env, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_running(self, timeout_s: float = 240) -> str:
        """Wait for the 'running' line; returns the API's address."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = re.search(r"orderhub: running; dashboard at (http://\S+?)/ ", self.output())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                raise AssertionError(f"hub exited with {self.proc.returncode}:\n"
                                     f"{self.output()[-3000:]}")
            time.sleep(0.2)
        raise AssertionError(f"hub not running after {timeout_s:.0f}s:\n{self.output()[-3000:]}")

    def ray_processes(self) -> list[psutil.Process]:
        found = []
        for p in psutil.process_iter(["cmdline"]):
            if any(self.ray_dir in part for part in p.info["cmdline"] or ()):
                found.append(p)
        return found

    def kill(self) -> list[str]:
        """SIGKILL the process group, then wait for (or kill) what is left of its Ray.
        Returns the names of the processes that outlived the group kill by 10 s."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (left := self.ray_processes()) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = []
        for p in left:
            try:
                survivors.append(p.name())
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(left, timeout=10)
        self._out.close()
        return survivors

    def terminate(self, timeout_s: float = 60, *, to: str = "process",
                  sig: int = signal.SIGTERM) -> int | None:
        """``sig`` to the hub's process (``to="process"``, as Kubernetes sends it to PID 1),
        to its process group (``"group"``: a terminal's Ctrl-C, ``kill -- -PGID``) or to
        every process it started, its Ray's included (``"all"``: systemd's default
        ``KillMode=control-group``); its exit code, or None if it did not exit in time
        (then it is killed)."""
        core = [p for p in self.ray_processes() if _name(p) in RAY_CORE]
        assert sorted(_name(p) for p in core) == sorted(RAY_CORE), core
        if to == "group":
            os.killpg(self.proc.pid, sig)
        elif to == "all":
            tree = [self.proc.pid, *(p.pid for p in psutil.Process(self.proc.pid).children(
                recursive=True))]
            for pid in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        else:
            self.proc.send_signal(sig)
        self.ray_lost_mid_stop = self._watch_ray(core, timeout_s)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None
        finally:
            self.kill()

    def _watch_ray(self, core: list[psutil.Process], timeout_s: float) -> list[str]:
        """Which of Ray's core processes (GCS, raylet) ended, or logged that a SIGTERM
        reached them, before the hub said it had stopped: the hub stops them after its
        drain, nothing else may."""
        lost: set[str] = set()
        deadline = time.monotonic() + timeout_s
        while (self.proc.poll() is None and "hub stopped in" not in self.output()
               and time.monotonic() < deadline):
            lost |= {f"{name} ended" for p in core if not _alive(p) and (name := _name(p))}
            for log in Path(self.ray_dir).glob("ray/session_*/logs/*.out"):
                if log.stem in RAY_CORE and "received SIGTERM" in log.read_text(
                        encoding="utf-8", errors="replace"):
                    lost.add(f"{log.stem} got SIGTERM")
            time.sleep(0.05)
        return sorted(lost)

    def close(self) -> None:
        if self.proc.poll() is None or self.ray_processes():
            self.kill()
        shutil.rmtree(self.ray_dir, ignore_errors=True)  # its logs were forwarded to ``log``


@pytest.fixture
def hubs():
    started: list[HubProcess] = []

    def start(config: Path, log: Path) -> HubProcess:
        started.append(HubProcess(config, log))
        return started[-1]

    yield start
    for hub in started:
        hub.close()


def _wait(predicate, timeout_s: float, what: str, hub: HubProcess) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        if hub.proc.poll() is not None:
            raise AssertionError(f"hub exited ({hub.proc.returncode}) while waiting for "
                                 f"{what}:\n{hub.output()[-3000:]}")
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}:\n"
                         f"{hub.output()[-3000:]}")


# -- what the ledger and the logs say ---------------------------------------------------------
def _reader(tmp_path: Path):
    """The ledger, opened beside the hub for reading (no checkpointer of its own)."""
    return open_ledger(tmp_path / "hub.sqlite3", checkpoint_every_s=None)


def _wait_pulling(ledger, channels: list[str], hub: HubProcess) -> None:
    """Until every puller has pulled once (its cursor is saved): Ray may start the actors
    well after the hub says it runs."""
    _wait(lambda: all(ledger.get_cursor(c, "") for c in channels), 120, "the first pulls", hub)


def _owed_to_wms(tmp_path: Path) -> int:
    """Outbox rows for the WMS not delivered yet (read straight from the file)."""
    uri = f"file:{tmp_path / 'hub.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
        return db.execute("SELECT COUNT(*) FROM outbox WHERE destination = ? AND "
                          "delivered_at IS NULL", (WMS,)).fetchone()[0]


def _decided(ledger) -> int:
    stages = ledger.counts()["stages"]
    return sum(stages.values()) - stages.get("received", 0)


def _stored(ledger) -> set[Key]:
    return {s.key for s in ledger.find_orders(limit=100_000)}


def _received_and_decisions(ledger) -> tuple[Counter, Counter]:
    """How often each (order, version) was received, and decided."""
    events = ledger.events_since()
    received = Counter((e.key, e.version) for e in events if e.stage == "received")
    decided = Counter((e.key, e.version) for e in events if e.stage in DECISIONS)
    return received, decided


def _status_events_twice(ledger) -> list:
    """WMS status events (the same stage of one order, same WMS time) stored more than once."""
    seen = Counter((e.key, e.stage, json.dumps(e.detail, sort_keys=True))
                   for e in ledger.events_since() if e.stage in WMS_STAGES)
    return [event for event, n in seen.items() if n > 1]


def _assert_logs_per_batch(output: str) -> None:
    """Structured logs: one line per batch (key=value, with its size), none per order."""
    batches = [int(n) for n in re.findall(r"orderhub\.router batch n=(\d+) stored=\d+ ", output)]
    assert batches, output[-3000:]
    assert sum(batches) > len(batches), batches  # a line stands for many orders
    per_order = [line for line in output.splitlines()
                 if any(prefix in line for prefix in PREFIX.values())]
    assert not per_order, per_order[:5]


class ServeSpy:
    """Records the window of every page a marketplace emulator serves."""

    def __init__(self, suite: EmulatorSuite) -> None:
        self.calls: list[tuple[str, datetime, datetime]] = []
        for channel, state in suite.states.items():
            state.serve = self._wrap(channel, state.serve)

    def _wrap(self, channel: str, serve):
        def spy(start: datetime, end: datetime, **kwargs: Any):
            self.calls.append((channel, start, end))
            return serve(start, end, **kwargs)
        return spy


# -- 1. SIGKILL mid-stream, restart ---------------------------------------------------------
# Two hub starts; one took 11 s at a load of 3 and 90 s at a load of 40 (shared machine).
@pytest.mark.timeout(600)
def test_sigkill_mid_stream_then_restart_loses_and_doubles_nothing(tmp_path, hubs) -> None:
    suite = _suite()
    try:
        spy = ServeSpy(suite)
        config = _config(tmp_path, suite, list(PREFIX))
        first = hubs(config, tmp_path / "run1.log")
        first.wait_running()
        ledger = _reader(tmp_path)
        _wait_pulling(ledger, list(PREFIX), first)
        fed_orders = _stream(suite, list(PREFIX), n_per_channel=100, spacing_s=1.0)  # 20 wall s
        fed = _keys(fed_orders)
        held = {o.key for o in fed_orders if not o.receiver.district}
        routed = fed - held
        _wait(lambda: _decided(ledger) >= len(fed) // 3, 60, "a third decided", first)
        # the WMS goes down: what is decided from here on is owed to it at the kill
        wms_faults = suite["wms"] + "/_control/faults"
        httpx.post(wms_faults, json={"kind": "outage", "duration_s": 3600}).raise_for_status()
        _wait(lambda: _owed_to_wms(tmp_path) >= 10, 60, "outbox rows owed to the WMS", first)
        survivors = first.kill()
        httpx.delete(wms_faults).raise_for_status()
        # the group kill took its whole Ray down: no old ledger writer beside the new one
        assert survivors == [], survivors

        # -- what the killed hub left behind --------------------------------------------
        at_kill, decided_at_kill = _stored(ledger), _decided(ledger)
        owed_at_kill = _owed_to_wms(tmp_path)  # rows the first run could not deliver
        assert owed_at_kill >= 10
        assert 0 < decided_at_kill < len(fed), "killed mid-stream"
        cursors = {c: ledger.get_cursor(c, "") for c in PREFIX}  # the token sees every shop
        first_order = min(o.modified_at for o in fed_orders)
        assert all(c is not None and c > first_order for c in cursors.values()), cursors
        calls_before = len(spy.calls)

        second = hubs(config, tmp_path / "run2.log")
        second.wait_running()
        wms = suite.emulators["wms"].state
        _wait(lambda: _decided(ledger) == len(fed) and wms.counts["accepted"] == len(routed)
              and ledger.pending_count() == 0, 120, "every order decided and delivered",
              second)
        assert second.terminate() == 0, second.output()[-3000:]

        # -- in == out: nothing lost, nothing doubled, nothing unknown ----------------------
        received, decisions = _received_and_decisions(ledger)
        assert {key for key, _ in decisions} == fed
        assert _stored(ledger) == fed
        assert max(decisions.values()) == 1, decisions.most_common(3)
        assert max(received.values()) == 1, received.most_common(3)  # re-pulls were ignored
        assert {s.key for s in ledger.find_orders(stage="held", limit=1000)} == held
        # -- the WMS got every routed order once (its idempotency keys dedupe resends) -----
        assert wms.counts["accepted"] == len(routed), wms.counts
        assert len(wms.lookup(sorted(routed))) == len(routed)
        assert not wms.lookup(sorted(held))
        # -- cursors: the restart pulled on from where the first run stopped ---------------
        after = spy.calls[calls_before:]
        for channel, cursor in cursors.items():
            starts = [start for ch, start, _ in after if ch == channel]
            assert starts, channel
            # the first window opens one overlap before the cursor (whole seconds)
            assert min(starts) >= cursor - timedelta(seconds=OVERLAP_S + 1), (channel, cursor)
        refetched = set()
        for channel, start, end in after:
            refetched |= {v.order.key for v in suite.states[channel].window(start, end)}
        assert refetched & at_kill, "the restart's first windows overlapped the first run's"
        _assert_logs_per_batch(second.output())
        print(f"\nSIGKILL with {decided_at_kill}/{len(fed)} decided, {len(at_kill)} stored, "
              f"{owed_at_kill} outbox rows owed; {len(refetched & at_kill)} pulled again after "
              f"the restart; WMS duplicates deduped "
              f"{wms.counts['duplicates']}")
        # the relay went on from its saved place in the WMS status feed: nothing stored twice
        twice = _status_events_twice(ledger)
        assert not twice, (len(twice), twice[:3])
    finally:
        suite.stop()


def _signed_push(suite: EmulatorSuite, api: str, channel: str, orders: list[Order]) -> Any:
    """POST ``orders`` as the marketplace pushes them: its envelope, signed by the shop's
    app with the emulators' own recipe."""
    cred, now_s = suite.config.marketplaces.credential(channel), time.time()
    body = envelope(channel, [(o, SHAPES[channel].to_raw(o)) for o in orders], now_s=now_s,
                    app_key=cred.app_key)
    params, headers = signed(channel, body, app_key=cred.app_key,
                             app_secret=cred.app_secret.get_secret_value(), now_s=now_s,
                             query={"shop": f"{channel}-shop"})
    return httpx.post(f"{api}/push/{channel}", params=params, content=body, timeout=30,
                      headers={"content-type": "application/json", **headers})


# -- 2. SIGTERM drains --------------------------------------------------------------------
DRAIN_S = 20.0  # the config's drain_s
# The stop must end within the drain plus this: Ray's local processes take about 5 s
# to stop after it, more on a loaded machine. A correctness bound (a stop that waits on
# dead actors took 40 s and more), not a speed figure.
STOP_MARGIN_S = 20.0


@pytest.mark.timeout(400)
# the signal to the process and to every process (as systemd's control-group stop does)
# run in `make test`; to the process group, by SIGTERM and by Ctrl-C, in `make soak`
@pytest.mark.parametrize(("to", "sig"), [
    ("process", signal.SIGTERM), ("all", signal.SIGTERM),
    pytest.param("group", signal.SIGTERM, marks=pytest.mark.soak),
    pytest.param("group", signal.SIGINT, marks=pytest.mark.soak)],
    ids=["sigterm-process", "sigterm-all", "sigterm-group", "sigint-group"])
def test_sigterm_drains_in_flight_batches_and_exits_zero(tmp_path, hubs, to, sig) -> None:
    suite = _suite()
    try:
        # JD is configured for its push credentials; only Tmall streams orders to pull
        config = _config(tmp_path, suite, ["tmall", "jd"])
        config.write_text(f"drain_s = {DRAIN_S}\n" + config.read_text(encoding="utf-8"),
                          encoding="utf-8")
        hub = hubs(config, tmp_path / "run.log")
        api = hub.wait_running()
        ledger = _reader(tmp_path)
        _wait_pulling(ledger, ["tmall"], hub)
        streamed = _keys(_stream(suite, ["tmall"], n_per_channel=100, spacing_s=1.0))
        _wait(lambda: _decided(ledger) >= 20, 60, "the stream flowing", hub)
        # a burst pushed while the CRM answers slowly: its batches are in flight for
        # seconds; the hub answers 200 only once the ledger holds the orders
        slow = {"kind": "timeout", "count": 3, "sleep_s": 1.5}
        httpx.post(suite["crm"] + "/_control/faults", json=slow).raise_for_status()
        start = (suite.clock.now() - timedelta(seconds=30)).replace(microsecond=0)
        pushed: set[Key] = set()
        for channel in ("tmall", "jd"):
            burst = _orders(channel, 150, start, 0.1, f"P{PREFIX[channel]}")
            suite.emulators["crm"].state.seed_orders(burst)
            answer = _signed_push(suite, api, channel, burst)
            assert answer.status_code == 200, answer.text
            assert answer.json()["new"] == len(burst), answer.json()
            pushed |= _keys(burst)
        signalled, began = suite.clock.now(), time.monotonic()
        code = hub.terminate(timeout_s=DRAIN_S + STOP_MARGIN_S, to=to, sig=sig)
        took = time.monotonic() - began
        output = hub.output()
        assert code == 0, output[-3000:]
        assert took < DRAIN_S + STOP_MARGIN_S, (took, output[-3000:])
        # the signal did not take the hub's Ray down under it: only the hub stops Ray
        assert hub.ray_lost_mid_stop == [], hub.ray_lost_mid_stop
        assert "did not drain" not in output
        assert "gave up" not in output, output[-3000:]  # no stop call waited on a dead actor
        assert "orderhub: stopped" in output
        for secret in ("tmall-restart-secret", "tmall-restart-token", "restart-api-token",
                       "SECrestart", "restart-robot"):
            assert secret not in output  # no secret reaches a log line

        # every order the ledger holds as received got its decision before the exit
        stored = _stored(ledger)
        assert pushed <= stored
        assert stored <= pushed | streamed
        assert ledger.counts()["stages"].get("received", 0) == 0, ledger.counts()
        received, decisions = _received_and_decisions(ledger)
        assert {key for key, _ in received} == stored
        assert {key for key, _ in decisions} == stored
        assert max(decisions.values()) == 1, decisions.most_common(3)
        _assert_logs_per_batch(output)
        late = [s for s in ledger.find_orders(limit=100_000) if s.key in pushed
                and s.stage_at > signalled]
        print(f"\n{signal.Signals(sig).name} to {to}: exit {code} after {took:.1f}s; "
              f"{len(late)}/{len(pushed)} pushed "
              "orders decided after the signal")
    finally:
        suite.stop()
