"""The HTTP side every emulated marketplace shares: health, stats, the fault control
endpoint, the request gate that injects faults, and a server that can refuse
connections during an outage.

Routes added by ``mount_common``:

- ``GET /healthz`` -> ``{"status": "ok", "channel": ...}``
- ``GET /_stats`` -> requests served, pages, orders served, errors injected by kind,
  visible orders, pending events, active faults (``MarketplaceState.snapshot``)
- ``GET /_records`` -> ``{"changes": [...], "pages": [...]}`` (``MarketplaceState.export``)
- ``GET /_control/faults`` -> ``{"faults": [...]}``
- ``POST /_control/faults`` with one ``FaultSpec`` object, or ``{"faults": [...]}``, e.g.
  ``{"kind": "5xx", "count": 3, "status": 502}``, ``{"kind": "throttle", "duration_s": 60}``,
  ``{"kind": "timeout", "count": 1, "sleep_s": 2}``, ``{"kind": "outage",
  "duration_s": 30, "mode": "refused"}``, ``{"kind": "late", "count": 5, "delay_s": 300}``,
  ``{"kind": "malformed", "count": 1}``, ``{"kind": "duplicate", "rate": 0.1}``
- ``DELETE /_control/faults[?kind=...]`` -> ``{"cleared": n}``
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI, Request, Response
from pydantic import ValidationError

from sim.emulators.faults import FaultKind, FaultSpec
from sim.emulators.marketplace import MarketplaceState
from sim.emulators.server import LoopbackServer


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status,
                    media_type="application/json;charset=utf-8")


async def request_params(request: Request) -> dict[str, str]:
    """Query-string parameters plus a form-encoded body, as the TOP and JD gateways
    take them (a form value wins over the query string)."""
    params = dict(request.query_params)
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        body = (await request.body()).decode("utf-8", errors="replace")
        params.update(parse_qsl(body, keep_blank_values=True))
    return params


def _problems(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or '<body>'}: {e['msg']}"
            for e in exc.errors()]


def mount_common(app: FastAPI, state: MarketplaceState) -> None:
    @app.get("/healthz")
    async def healthz() -> Response:
        return json_response({"status": "ok", "channel": state.channel})

    @app.get("/_stats")
    async def stats() -> Response:
        return json_response(state.snapshot())

    @app.get("/_records")
    async def records() -> Response:
        return json_response(state.export())

    @app.get("/_control/faults")
    async def faults() -> Response:
        return json_response({"faults": state.faults.active(state.clock.now())})

    @app.post("/_control/faults")
    async def add_faults(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            return json_response({"error": f"body is not JSON: {exc}"}, 400)
        items = body.get("faults") if isinstance(body, dict) and "faults" in body else body
        items = items if isinstance(items, list) else [items]
        try:
            specs = [FaultSpec.model_validate(item) for item in items]
        except ValidationError as exc:
            return json_response({"error": "bad fault", "problems": _problems(exc)}, 422)
        now = state.clock.now()
        added = [state.faults.add(spec, now).as_dict() for spec in specs]
        state.count("faults_switched_on")
        return json_response({"added": added, "faults": state.faults.active(now)})

    @app.delete("/_control/faults")
    async def clear_faults(kind: str | None = None) -> Response:
        try:
            which = FaultSpec.model_validate({"kind": kind}).kind if kind else None
        except ValidationError as exc:
            return json_response({"error": "bad kind", "problems": _problems(exc)}, 422)
        return json_response({"cleared": state.faults.clear(which)})


async def gate(state: MarketplaceState, route: str, *, throttled: Callable[[], dict],
               unavailable: Callable[[int], dict]) -> Response | None:
    """Count the request and inject the request-level faults switched on (outage,
    timeout, 5xx, throttling; also the rate limit). None: serve it normally."""
    state.count("requests")
    state.count(f"route:{route}")
    state.release()  # faults scheduled in the trace switch on before this request is judged
    now = state.clock.now()
    if state.faults.take(FaultKind.OUTAGE, now) is not None:
        state.count("refused", error=FaultKind.OUTAGE.value)
        return json_response(unavailable(503), 503)
    slow = state.faults.take(FaultKind.TIMEOUT, now)
    if slow is not None:
        state.count("slowed", error=FaultKind.TIMEOUT.value)
        await asyncio.sleep(slow.spec.sleep_s)
    failing = state.faults.take(FaultKind.SERVER_ERROR, now)
    if failing is not None:
        state.count("failed", error=FaultKind.SERVER_ERROR.value)
        return json_response(unavailable(failing.spec.status), failing.spec.status)
    if state.faults.take(FaultKind.THROTTLE, now) is not None:
        state.count("throttled", error=FaultKind.THROTTLE.value)
        return json_response(throttled())
    if state.over_rate_limit(time.monotonic()):
        state.count("throttled", error="rate_limited")
        return json_response(throttled())
    return None


def by_id(state: MarketplaceState, shop: str | None, order_id: str) -> dict | None:
    """The served record of one order of ``shop`` (any shop the token sees when None) in
    its current version, or None: what the platforms' by-id order APIs answer (the
    reconciler asks them)."""
    state.count("lookups")
    state.release()
    with state._lock:  # the state's versions change under the server's threads
        shops = [shop] if shop is not None else [s for s in state._index if s is not None]
        version = next((v for v in (state._versions.get((s, order_id)) for s in shops)
                        if v is not None), None)
    return state.raw_of(version.order) if version is not None else None


def _loopback(app: Any, name: str, port: int) -> LoopbackServer:
    """A ``LoopbackServer`` whose socket says it is TCP: asyncio turns Nagle off
    (TCP_NODELAY) only on such sockets; without it every small response waits for a
    delayed ACK, about 40 ms a request on Linux."""
    server = LoopbackServer(app, name=name, port=port)
    old = server._sock
    if old.proto != socket.IPPROTO_TCP:
        port = server.port
        old.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((server.host, port))
        server._sock = sock
    return server


class MarketplaceServer:
    """A ``LoopbackServer`` that stops listening while an outage in ``refused`` mode is
    on (clients see connection refused) and listens again on the same port after.

    >>> from sim.emulators.tmall import create_app
    >>> from hub.clock import Clock
    >>> state = MarketplaceState([], Clock(), channel="tmall")
    >>> with MarketplaceServer(create_app(state), state) as server:
    ...     server.url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(self, app: Any, state: MarketplaceState, *, name: str = "",
                 port: int = 0, poll_s: float = 0.02) -> None:
        self.app, self.state, self.name = app, state, name or state.channel
        self._server: LoopbackServer | None = _loopback(app, self.name, port)
        self.host, self.port = self._server.host, self._server.port
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def records(self) -> dict:
        """What ``GET /_records`` answers (read from the state: also while refusing)."""
        return self.state.export()

    @property
    def listening(self) -> bool:
        return self._server is not None

    def start(self) -> MarketplaceServer:
        assert self._server is not None
        self._server.start()
        self._watcher = threading.Thread(target=self._watch, name=f"{self.name}-outage",
                                         daemon=True)
        self._watcher.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(self.poll_s):
            refusing = self.state.faults.refusing(self.state.clock.now())
            with self._lock:
                if refusing and self._server is not None:
                    self._server.stop()
                    self._server = None
                    self.state.count("outages_refused", error=FaultKind.OUTAGE.value)
                elif not refusing and self._server is None and not self._stop.is_set():
                    self._server = _loopback(self.app, self.name, self.port).start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def __enter__(self) -> MarketplaceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def create_marketplace_app(state: MarketplaceState, **kwargs: Any) -> FastAPI:
    """The emulator app for ``state.channel`` (tmall, jd or douyin)."""
    from sim.emulators import douyin, jd, tmall

    apps = {"tmall": tmall.create_app, "jd": jd.create_app, "douyin": douyin.create_app}
    try:
        return apps[state.channel](state, **kwargs)
    except KeyError:
        raise ValueError(f"no marketplace emulator for channel {state.channel!r}; "
                         f"use one of {sorted(apps)}") from None


class RunningMarketplace:
    """One emulated marketplace on loopback: its state, server and (optional) push sender.

    ``trace`` is read lazily (each marketplace opens the file itself and keeps its own
    channel's events); ``push_url`` turns push mode on (e.g. ``<hub>/push/tmall?shop=x``).
    """

    def __init__(self, channel: str, clock: Any, *, trace: Any = None, events: Any = (),
                 origin: Any = None, credentials: Any = None, push_url: str | None = None,
                 port: int = 0, seed: int = 0, **app_kwargs: Any) -> None:
        from sim.emulators.marketplace import DEMO
        from sim.emulators.push import PushSender
        from sim.trace import read_trace

        if trace is not None:
            header, events = read_trace(trace)
            origin = origin or header.origin
        self.state = MarketplaceState(events, clock, channel=channel, origin=origin,
                                      seed=seed, credentials=credentials or (DEMO,))
        self.server = MarketplaceServer(create_marketplace_app(self.state, **app_kwargs),
                                        self.state, port=port)
        self.push = PushSender(self.state, push_url) if push_url else None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> RunningMarketplace:
        self.server.start()
        if self.push is not None:
            self.push.start()
        return self

    def stop(self) -> None:
        if self.push is not None:
            self.push.stop()
        self.server.stop()

    def __enter__(self) -> RunningMarketplace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
