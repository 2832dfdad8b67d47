"""What the emulated back offices (WMS, ERP, CRM, DingTalk robot) share: counters, the
health and stats routes, and request-level faults (outage windows, 5xx, slow answers)
switched on by the config or ``POST /_control/faults``.

Routes added by ``mount_common``:

- ``GET /healthz`` -> ``{"status": "ok", "emulator": NAME}``
- ``GET /_stats`` -> ``{"emulator", "now", "requests", "stats", "errors", "faults", ...}``
- ``GET /_records`` -> the back office's own records (when it keeps any)
- ``GET /_control/faults`` -> ``{"faults": [...]}``
- ``POST /_control/faults`` with one fault or ``{"faults": [...]}``: ``{"kind": "outage",
  "duration_s": 120}`` (every call answers 503 for 120 business seconds), ``{"kind": "5xx",
  "count": 3, "status": 502}``, ``{"kind": "timeout", "count": 1, "sleep_s": 2}``
- ``DELETE /_control/faults[?kind=...]`` -> ``{"cleared": n}``

>>> from hub.clock import Clock
>>> office = BackOffice("demo", Clock())
>>> office.count("requests"); office.count("failed", error="5xx")
>>> office.snapshot()["errors"]
{'5xx': 1}
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.clock import Clock
from sim.emulators.faults import FaultBoard, FaultKind, FaultSpec

BACK_OFFICE_FAULTS = (FaultKind.OUTAGE, FaultKind.SERVER_ERROR, FaultKind.TIMEOUT)


class OutageWindow(BaseModel):
    """A planned outage: every call answers 503 from ``start_s`` business seconds after
    the emulator's origin, for ``duration_s``."""

    model_config = ConfigDict(extra="forbid")

    start_s: float = Field(ge=0)
    duration_s: float = Field(gt=0)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status,
                    media_type="application/json;charset=utf-8")


def problems(exc: ValidationError, prefix: str = "") -> list[str]:
    """Pydantic errors as ``field.path: reason`` lines."""
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        where = f"{prefix}.{path}" if prefix and path else (prefix or path or "<body>")
        out.append(f"{where}: {err['msg']}")
    return out


async def read_json(request: Request) -> Any:
    """The body as JSON; raises ``BadRequest`` naming the problem."""
    raw = await request.body()
    try:
        return orjson.loads(raw or b"null")
    except orjson.JSONDecodeError as exc:
        raise BadRequest([f"<body>: not JSON ({exc})"]) from None


class BadRequest(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class BackOffice:
    """Counters, clock and fault board of one emulated back office. Thread-safe."""

    def __init__(self, name: str, clock: Clock, *, origin: datetime | None = None,
                 outages: list[OutageWindow] | tuple[OutageWindow, ...] = (),
                 seed: int = 0) -> None:
        self.name, self.clock = name, clock
        self.origin = origin or clock.now()
        self.faults = FaultBoard(seed)
        self.stats: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self._lock = threading.Lock()
        for window in outages:
            self.plan_outage(window)

    def plan_outage(self, window: OutageWindow) -> None:
        since = self.origin + timedelta(seconds=window.start_s)
        self.faults.add(FaultSpec(kind=FaultKind.OUTAGE, duration_s=window.duration_s), since)

    def count(self, what: str, error: str | None = None, n: int = 1) -> None:
        with self._lock:
            self.stats[what] += n
            if error is not None:
                self.errors[error] += n

    def down(self) -> bool:
        """An outage is on now (the emulator answers nothing but 503)."""
        now = self.clock.now()
        return any(f["kind"] == FaultKind.OUTAGE.value and
                   datetime.fromisoformat(f["since"]) <= now
                   for f in self.faults.active(now))

    def snapshot(self) -> dict[str, Any]:
        now = self.clock.now()
        with self._lock:
            return {"emulator": self.name, "now": now.isoformat(),
                    "requests": self.stats["requests"], "stats": dict(self.stats),
                    "errors": dict(self.errors), "faults": self.faults.active(now)}

    async def gate(self, route: str) -> Response | None:
        """Count a business call and inject the faults switched on; None: serve it."""
        self.count("requests")
        self.count(f"route:{route}")
        now = self.clock.now()
        if self.faults.take(FaultKind.OUTAGE, now) is not None:
            self.count("refused", error=FaultKind.OUTAGE.value)
            return json_response({"error": "service unavailable", "emulator": self.name}, 503)
        slow = self.faults.take(FaultKind.TIMEOUT, now)
        if slow is not None:
            self.count("slowed", error=FaultKind.TIMEOUT.value)
            await asyncio.sleep(slow.spec.sleep_s)
        failing = self.faults.take(FaultKind.SERVER_ERROR, now)
        if failing is not None:
            self.count("failed", error=FaultKind.SERVER_ERROR.value)
            return json_response({"error": "injected server error", "emulator": self.name},
                                 failing.spec.status)
        return None


def _fault_specs(body: Any) -> list[FaultSpec]:
    items = body.get("faults") if isinstance(body, dict) and "faults" in body else body
    items = items if isinstance(items, list) else [items]
    specs = []
    for n, item in enumerate(items):
        try:
            spec = FaultSpec.model_validate(item)
        except ValidationError as exc:
            raise BadRequest(problems(exc, f"faults[{n}]")) from None
        if spec.kind not in BACK_OFFICE_FAULTS:
            raise BadRequest([f"faults[{n}].kind: {spec.kind.value!r} is not a back-office "
                              f"fault (outage, 5xx, timeout)"])
        if spec.kind == FaultKind.OUTAGE and spec.mode != "503":
            raise BadRequest([f"faults[{n}].mode: back offices answer outages with 503 only"])
        specs.append(spec)
    return specs


def mount_common(app: FastAPI, office: BackOffice,
                 extra_stats: Callable[[], dict[str, Any]] | None = None,
                 records: Callable[[], dict[str, Any]] | None = None) -> None:
    """The routes every back office has; ``records`` serves ``GET /_records``."""
    if records is not None:
        @app.get("/_records")
        async def get_records() -> Response:
            return json_response(records())

    @app.exception_handler(BadRequest)
    async def bad_request(_request: Request, exc: BadRequest) -> Response:
        office.count("bad_requests", error="bad_request")
        return json_response({"error": "bad request", "problems": exc.reasons}, 400)

    @app.get("/healthz")
    async def healthz() -> Response:
        return json_response({"status": "ok", "emulator": office.name})

    @app.get("/_stats")
    async def stats() -> Response:
        body = office.snapshot()
        if extra_stats is not None:
            body |= extra_stats()
        return json_response(body)

    @app.get("/_control/faults")
    async def faults() -> Response:
        return json_response({"faults": office.faults.active(office.clock.now())})

    @app.post("/_control/faults")
    async def add_faults(request: Request) -> Response:
        specs = _fault_specs(await read_json(request))
        now = office.clock.now()
        added = [office.faults.add(spec, now).as_dict() for spec in specs]
        office.count("faults_switched_on", n=len(added))
        return json_response({"added": added, "faults": office.faults.active(now)})

    @app.delete("/_control/faults")
    async def clear_faults(kind: str | None = None) -> Response:
        try:
            which = FaultSpec.model_validate({"kind": kind}).kind if kind else None
        except ValidationError as exc:
            raise BadRequest(problems(exc, "kind")) from None
        return json_response({"cleared": office.faults.clear(which)})


class EventForwarder:
    """Posts a back office's numbered events to a URL (e.g. the WMS's status callbacks
    to the hub), in order, at least once: a batch that fails (connection error, timeout,
    non-2xx) is sent again after an exponential backoff with jitter. Nothing is sent
    while the back office is in an outage.

    ``source(since, limit)`` returns ``(last seq, events after since)``; ``last()`` the
    sequence number of the newest event."""

    def __init__(self, office: BackOffice, source: Callable[[int, int], tuple[int, list]],
                 last: Callable[[], int], url: str, *, batch: int = 500, poll_s: float = 0.2,
                 timeout_s: float = 5.0, retry_base_s: float = 0.1, retry_max_s: float = 5.0,
                 seed: int = 0,
                 sign: Callable[[bytes], dict[str, str]] | None = None) -> None:
        self.office, self.source, self.last, self.url = office, source, last, url
        self.sign = sign  # body -> headers that sign it (the WMS's callbacks)
        self.batch, self.poll_s = batch, poll_s
        self.retry_base_s, self.retry_max_s = retry_base_s, retry_max_s
        self._client = httpx.Client(timeout=timeout_s)
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cursor = 0
        self.failures = 0
        self.last_error = ""

    def start(self) -> EventForwarder:
        self._thread = threading.Thread(target=self._run, name=f"{self.office.name}-callback",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                sent = self.send_once()
            except Exception as exc:  # a failed round is retried, never fatal
                self.failures += 1
                self.office.count("callback_failures", error="callback")
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                delay = min(self.retry_max_s, self.retry_base_s * 2 ** attempt)
                attempt += 1
                self._stop.wait(delay * (0.5 + 0.5 * self._rng.random()))
                continue
            attempt = 0
            if not sent:
                self._stop.wait(self.poll_s)

    def send_once(self) -> int:
        """One batch; returns how many events were delivered (raises when it failed)."""
        if self.office.down():
            return 0
        seq, events = self.source(self.cursor, self.batch)
        if not events:
            return 0
        body = orjson.dumps({"events": events})
        headers = {"content-type": "application/json", **(self.sign(body) if self.sign else {})}
        answer = self._client.post(self.url, content=body, headers=headers)
        answer.raise_for_status()
        self.cursor = seq
        self.office.count("callback_batches")
        self.office.count("callback_events", n=len(events))
        return len(events)

    def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until every event produced so far was delivered."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.cursor >= self.last():
                return True
            time.sleep(0.02)
        return False

    def stats(self) -> dict[str, Any]:
        return {"url": self.url, "cursor": self.cursor, "failures": self.failures,
                "last_error": self.last_error}

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()


class Emulator:
    """One served back office: ``app`` on a ``LoopbackServer``, plus background threads
    (``threads``, each with ``start()`` and ``stop()``) started after the server.

    Subclasses set ``office`` and ``app``; ``with Emulator(...) as emu: emu.url``."""

    name = "emulator"
    office: BackOffice
    app: FastAPI

    def __init__(self, *, port: int = 0) -> None:
        self.port_wanted = port
        self.server: Any = None
        self.threads: list[Any] = []

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError(f"{self.name}: not started")
        return self.server.url

    def start(self) -> Emulator:
        from sim.emulators.server import LoopbackServer

        self.server = LoopbackServer(self.app, name=self.name, port=self.port_wanted).start()
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> None:
        for thread in reversed(self.threads):
            thread.stop()
        if self.server is not None:
            self.server.stop()
            self.server = None

    def records(self) -> dict[str, Any]:
        """The emulator's own append-only records (what ``GET /_records`` answers)."""
        return {}

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
