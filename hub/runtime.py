"""The running hub: starts the actors on Ray (local by default, or a cluster),
serves the push endpoint and the dashboard, and stops cleanly.

    hub = Hub(HubSettings.load("examples/hub.toml")).start()
    ...
    hub.stop()
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayError

from hub.actors.handles import LedgerHandle, LedgerWriter, RouterHandle
from hub.actors.leasing import HubLeases
from hub.actors.pool import BatchPool
from hub.actors.pullers import ShopPullers
from hub.actors.reconciler import Reconciler
from hub.actors.relay import WMS_FEED, OutboxRelay
from hub.actors.router import Router
from hub.actors.rulestore import RuleStore
from hub.actors.workers import Scorer, Validator
from hub.clock import Clock
from hub.cluster import NAMESPACE, check_cluster, placement
from hub.config import HubSettings
from hub.connectors import Connections
from hub.ledger.service import LedgerService
from hub.secrets import mask_url

log = logging.getLogger("orderhub")
ASYNC = {"max_concurrency": 64, "max_restarts": -1}


# A local Ray passes a call's arguments and results up to this size in the call itself,
# not through the shared-memory object store (a put, a raylet round trip and a fetch
# for every batch of orders over Ray's default 100 KiB).
LOCAL_RAY_SYSTEM = {"max_direct_call_object_size": 16 << 20,
                    "task_rpc_inlined_bytes_limit": 64 << 20}
# A local Ray's dashboard agent samples every worker process (psutil) for a dashboard the
# hub does not start; once a minute instead of every 5 s. Read by the agent at its start.
LOCAL_RAY_ENV = {"REPORTER_UPDATE_INTERVAL_MS": "60000"}


def init_ray(address: str | None) -> None:
    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=True)
    else:
        for name, value in LOCAL_RAY_ENV.items():
            os.environ.setdefault(name, value)
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False,
                 _system_config=LOCAL_RAY_SYSTEM)


def settle(call: Callable[[], Any], what: str, timeout_s: float = 30.0) -> Any:
    """``ray.get(call())``, called again while the actor restarts (a call in flight when
    it died fails, one made while it restarts may too); None, logged, after
    ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return ray.get(call(), timeout=max(0.1, deadline - time.monotonic()))
        except (RayActorError, GetTimeoutError) as exc:
            if time.monotonic() >= deadline:
                log.warning("%s: gave up after %.0fs (%s)", what, timeout_s,
                            type(exc).__name__)
                return None
            time.sleep(0.2)


class LoopSupervisor:
    """Keeps the actors' long-running loops going. Ray restarts a dead actor
    (``max_restarts``) by running its constructor again, but not the loop call it
    was in: a loop whose call ended (failed with the actor, or returned) is called
    again ``every_s`` after it ended, until ``stop()``; meanwhile the supervisor waits on
    the loop calls themselves (at most ``idle_s`` at a time)."""

    def __init__(self, every_s: float = 0.5, idle_s: float = 2.0) -> None:
        self.every_s, self.idle_s = every_s, idle_s
        self._loops: dict[str, tuple[Callable[[], Any], Any]] = {}
        self.restarts: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, name: str, call: Callable[[], Any]) -> None:
        """``call`` starts the loop and returns its ObjectRef (``lambda: a.run.remote()``)."""
        self._loops[name] = (call, call())
        self.restarts[name] = 0

    def check(self) -> list[str]:
        """One round: call again every loop that ended; returns their names."""
        again = []
        for name, (call, ref) in list(self._loops.items()):
            if self._stop.is_set():
                break
            if not ray.wait([ref], timeout=0)[0]:
                continue
            try:
                ray.get(ref)
                why = "returned"
            except RayError as exc:  # the loop failed, or its actor died
                why = type(exc).__name__
            log.warning("%s loop ended (%s); calling it again", name, why)
            try:
                self._loops[name] = (call, call())
            except RayError:
                log.exception("could not call the %s loop again; next round", name)
                continue
            self.restarts[name] += 1
            again.append(name)
        return again

    def start(self) -> LoopSupervisor:
        self._thread = threading.Thread(target=self._watch, name="hub-loops", daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.is_set():
            refs = self.refs()
            try:  # sleeps until a loop call ends (or ``idle_s``), not on a short timer
                if refs:
                    ray.wait(refs, num_returns=1, timeout=self.idle_s)
                else:
                    self._stop.wait(self.idle_s)
            except Exception:  # the supervisor thread must outlive any one round
                log.exception("loop supervisor wait failed")
            if self._stop.wait(self.every_s):
                break
            try:
                self.check()
            except Exception:  # the supervisor thread must outlive any one round
                log.exception("loop supervisor round failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def refs(self, prefix: str = "") -> list[Any]:
        return [ref for name, (_, ref) in self._loops.items() if name.startswith(prefix)]


def _puller_entries(ref: Any, shops: int) -> dict[str, Any]:
    """``puller{i}``: shop i's counters from the pullers' ``stats`` reference ``ref``, or
    ``{"unavailable": 1}`` for each of the ``shops`` while the pullers restart."""
    try:
        per_shop = ray.get(ref, timeout=30)
    except (RayActorError, GetTimeoutError):
        per_shop = [{"unavailable": 1}] * shops
    return {f"puller{i}": one for i, one in enumerate(per_shop)}


class Hub:
    def __init__(self, settings: HubSettings, clock: Clock | None = None, *,
                 start_at: datetime | None = None, namespace: str = "orderhub") -> None:
        self.settings, self.clock = settings, clock or Clock()
        self.start_at, self.namespace = start_at, namespace
        self.ledger: Any = None
        self.writer: LedgerWriter | None = None  # the ledger actor's writes, for the API
        self.router: Any = None
        self.rulestore: Any = None
        self.relay: Any = None
        self.reconciler: Any = None
        self.pullers: list[Any] = []
        self.validators: BatchPool | None = None
        self.scorers: BatchPool | None = None
        self.loops = LoopSupervisor()
        self.api_server: Any = None
        self.intake_ports: Any = None  # what the API's intake handlers work with
        self.leases: HubLeases | None = None  # this hub's id and its shops' leases

    # -- start ----------------------------------------------------------------------------
    def start(self, *, serve_api: bool = True) -> Hub:
        s = self.settings
        gc = s.gc_threshold  # each actor's collector thresholds (hub.gcwatch)
        init_ray(check_cluster(s))  # ConfigError: a SQLite ledger on a cluster
        began = time.monotonic()
        here = ray.get_runtime_context().get_node_id()

        def place(role: str) -> dict[str, Any]:  # hub.cluster: where each actor may go
            return placement(role, s.ledger, here)

        self.ledger = ray.remote(LedgerService).options(
            max_restarts=-1, max_task_retries=-1, **place("ledger")).remote(
            s.ledger, self.clock, gc_threshold=gc)
        ledger = LedgerHandle(self.ledger)  # the ledger actor as the use cases' ports
        self.leases = leases = HubLeases(s.leases, s.ledger, self.ledger, s.channels)
        self.writer = LedgerWriter(self.ledger)
        self.rulestore = ray.remote(RuleStore).options(**ASYNC, **place("rules")).remote(
            self.ledger, path=str(s.rules_file) if s.rules_file else None, clock=self.clock,
            poll_s=s.rules_poll_s)
        version, text = ray.get(self.rulestore.start.remote())
        self.validators = BatchPool(ray.remote(**place("pool"))(Validator), s.pools.validators,
                                    gc_threshold=gc)
        self.scorers = BatchPool(ray.remote(**place("pool"))(Scorer), s.pools.scorers,
                                 gc_threshold=gc)
        bo = s.back_office
        connect = Connections()  # each actor builds its clients in its own process
        self.router = router = ray.remote(Router).options(**ASYNC, **place("router")).remote(
            ledger, self.validators, self.scorers, (version, text), s.pools, self.clock,
            crm_url=bo.crm_url, erp_url=bo.erp_url, crm_ttl_s=bo.crm_cache_ttl_s,
            inventory_refresh_s=bo.inventory_refresh_s, gc_threshold=gc, connections=connect)
        ray.get(router.start.remote())
        ray.get(self.rulestore.attach.remote(router))
        ray.get(router.redrive.remote(0.0))  # what the last run left undecided
        loops = self.loops
        loops.add("router", lambda: self._router_run(router))
        loops.add("rules", lambda: self.rulestore.watch.remote(router))
        if s.channels:  # every shop's puller in one process (hub.actors.pullers)
            self.pullers.append(ray.remote(ShopPullers).options(**ASYNC, **place("puller")).remote(
                s.channels, ledger, RouterHandle(router), self.clock, start_at=self.start_at,
                connections=connect, gc_threshold=gc,
                leases=[leases.shop(channel) for channel in s.channels],
                pull_log=leases.pull_log))
            loops.add("pullers", self.pullers[0].run.remote)
        self.relay = ray.remote(OutboxRelay).options(**ASYNC, **place("relay")).remote(
            self.ledger, self.clock, wms_url=bo.wms_url, erp_url=bo.erp_url,
            dingtalk=s.dingtalk.model_dump(mode="json") | {
                "access_token": s.dingtalk.access_token.get_secret_value(),
                "secret": s.dingtalk.secret.get_secret_value()},
            wms_poll_s=bo.wms_poll_s, gc_threshold=gc, connections=connect,
            lease=leases.single(*WMS_FEED))
        loops.add("relay", self.relay.run.remote)
        ray.get(router.attach_relay.remote(self.relay))  # woken after commits
        from hub.api.intake import IntakePorts

        self.intake_ports = IntakePorts(
            ledger, RouterHandle(router), self.clock, s.channels, connect,
            wms_secrets={name: secret.get_secret_value()
                         for name, secret in bo.wms_callback_secrets.items()},
            wms_window_s=bo.wms_callback_window_s, push_window_s=s.api.push_window_s)
        if bo.wms_url:
            self.reconciler = ray.remote(Reconciler).options(
                **ASYNC, **place("reconciler")).remote(
                self.ledger, None, self.clock, interval_s=s.reconcile_interval_s,
                wms_url=bo.wms_url, connections=connect, channels=s.channels,
                leases=leases.port if leases.on else None, hub_id=leases.hub_id,
                shops=leases.shops)
            loops.add("reconciler", self.reconciler.run.remote)
        # every actor up, and the rules in force compiled, before the first pull
        self.validators.broadcast("warm", (version, text))
        self.scorers.broadcast("warm", (version, text))
        ray.get([a.__ray_ready__.remote() for a in (*self.pullers, self.relay,
                                                   *([self.reconciler] if bo.wms_url else []))])
        loops.start()
        if serve_api:
            self._serve_api()
        log.info("hub started in %.1fs: %d pullers, rules v%d, ledger %s, hub id %s%s",
                 time.monotonic() - began, len(s.channels), version, mask_url(s.ledger),
                 leases.hub_id, f" (shops shared by leases, {s.leases.ttl_s:g} s)"
                 if leases.on else "")
        return self

    def _router_run(self, router: Any) -> Any:
        """The router's loop; a restarted router is told again where the relay is."""
        if self.relay is not None:
            router.attach_relay.remote(self.relay)
        return router.run.remote()

    def _serve_api(self) -> None:
        """The hub's HTTP face: pushes and the WMS callback, the dashboard, the API. It
        reads the ledger through a reader handle of its own and writes through the
        ledger actor, the single writer."""
        from hub.api.app import create_app
        from hub.api.intake import intake_router
        from hub.api.server import ApiServer
        from hub.app.rules import RuleConsole
        from hub.ledger import open_ledger

        s = self.settings
        reader = open_ledger(s.ledger, clock=self.clock, reader=True)
        from hub.actors.shadow import RouterShadow

        console = RuleConsole(reader, self.writer, put_in_force=self.put_rules_in_force,
                              clock=self.clock, shadow=RouterShadow(self.router))
        app = create_app(reader, writer=self.writer, rules=console, api=s.api, clock=self.clock,
                         extra_routers=[intake_router(self.intake_ports)], stats=self.stats)
        self.api_server = ApiServer.from_config(app, s.api).start()

    @property
    def api_url(self) -> str | None:
        return self.api_server.url if self.api_server else None

    def put_rules_in_force(self, version: int, text: str) -> None:
        """Called by the rule console (``hub.app.rules.RuleConsole``) after it published a
        version through the ledger's writer."""
        settle(lambda: self.router.set_rules.remote(version, text), "router.set_rules")
        settle(lambda: self.rulestore.adopt.remote(version, text), "rulestore.adopt")

    # -- observe --------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """Counters per actor; an actor that is restarting shows ``{"unavailable": 1}``."""
        refs = {"router": self.router.stats.remote(), "relay": self.relay.stats.remote(),
                "ledger": self.ledger.stats.remote()}
        pullers = self.pullers[0].stats.remote() if self.pullers else None
        out: dict[str, Any] = {}
        for name, ref in refs.items():
            try:
                out[name] = ray.get(ref, timeout=30)
            except (RayActorError, GetTimeoutError):
                out[name] = {"unavailable": 1}
        if pullers is not None:
            out |= _puller_entries(pullers, len(self.settings.channels))
        for name, pool in (("validators", self.validators), ("scorers", self.scorers)):
            try:
                out[name] = pool.broadcast("stats", timeout=30) if pool is not None else []
            except (RayActorError, GetTimeoutError):
                out[name] = [{"unavailable": 1}]
        out["loop_restarts"] = dict(self.loops.restarts)
        return out

    def pull_schedules(self) -> list[dict[str, Any]]:
        """Each puller's latest (due, asked) pull times (``ChannelPuller.pull_schedule``)."""
        return [one for got in ray.get([p.pull_schedule.remote() for p in self.pullers],
                                       timeout=30) for one in got]

    # -- stop -----------------------------------------------------------------------------
    def stop(self, drain_s: float = 20.0, *, close_s: float = 5.0) -> bool:
        """Stop taking orders (pushes, then pulls, letting a pull under way finish),
        finish in-flight batches, then stop delivering and close the ledger. The whole
        stop takes about ``drain_s`` plus ``close_s`` at most (the ledger's close always
        gets ``close_s``; once ``drain_s`` is up, each other call still gets half a
        second), however many actors are dead or their cluster gone: what was not
        drained is re-driven from the ledger at the next start. True when it drained."""
        began = time.monotonic()
        until = began + drain_s

        def left(cap: float = drain_s) -> float:
            return max(0.5, min(cap, until - time.monotonic()))

        self.loops.stop()
        if self.api_server is not None:
            self.api_server.stop()
            self.api_server = None
        for puller in self.pullers:
            settle(puller.stop.remote, "pullers.stop", left(5.0))
        pulling = self.loops.refs("puller")
        if pulling:
            ray.wait(pulling, num_returns=len(pulling), timeout=left())
        drained = False
        if self.router is not None:
            budget = max(0.0, left() - 1.0)  # its answer must come back in time
            drained = bool(settle(lambda: self.router.drain.remote(budget), "router.drain",
                                  left()))
            if not drained:
                log.warning("router did not drain in %.0fs; undecided orders are re-driven "
                            "from the ledger at the next start", drain_s)
        for actor in (self.relay, self.rulestore, self.reconciler):
            if actor is not None:
                settle(actor.stop.remote, "stop", left(5.0))
        refs = self.loops.refs()
        if refs:
            ray.wait(refs, num_returns=len(refs), timeout=left(10.0))
        if self.ledger is not None:
            settle(self.ledger.close.remote, "ledger.close", max(close_s, left()))
        for actor in [*self.pullers, self.router, self.relay, self.rulestore, self.reconciler,
                      self.ledger]:
            if actor is not None:
                try:
                    ray.kill(actor)
                except RayError:  # gone with its cluster
                    log.warning("could not kill %s: its cluster is gone", actor)
        log.info("hub stopped in %.1fs (%s)", time.monotonic() - began,
                 "drained" if drained else "not drained")
        return drained
