"""Push mode: an emulated marketplace POSTs each released event to the hub, as the
marketplaces' message services do, instead of waiting to be pulled.

``PushSender`` runs in a thread: it takes the events the state has released since
its last batch (every event, not only the latest version of an order), encodes
each in the marketplace's raw shape, wraps up to ``batch_size`` of them in the
marketplace's message envelope (one message id per order version) and POSTs it to
``url`` signed with the app's key and secret (``sim.emulators.push_signing``, the
marketplace's own recipe). A batch that fails (connection error, timeout, non-2xx) is
sent again, stamped and signed afresh, after an exponential backoff with jitter, until
it is accepted or the sender is stopped: at-least-once, in release order.

>>> from datetime import datetime
>>> from hub.clock import ManualClock, SHANGHAI
>>> from sim.emulators.marketplace import MarketplaceState
>>> state = MarketplaceState([], ManualClock(datetime(2026, 11, 11, tzinfo=SHANGHAI)),
...                          channel="jd")
>>> sender = PushSender(state, "http://127.0.0.1:9/push/jd")
>>> sender.stats()["sent_events"], sender.url, sender.app_key
(0, 'http://127.0.0.1:9/push/jd', 'demo-key')
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from hub.domain import Order
from sim.emulators.marketplace import MarketplaceState
from sim.emulators.push_signing import envelope, signed

log = logging.getLogger("orderhub.sim.push")


class PushSender:
    """Posts released events of ``state`` to ``url`` (e.g. ``<hub>/push/tmall?shop=x``).

    ``encode`` defaults to the state's encoder, the one its pull API serves with; a
    Douyin record carries its receiver encrypted and masked, as on the pull API, so a
    receiver that wants the clear values must call batchDecrypt (or pull the order).
    ``app_key``/``app_secret``: the app the pushes are signed for (default: the state's
    first credential); ``sign_method``: Douyin's and Tmall's (md5 or hmac-sha256)."""

    def __init__(self, state: MarketplaceState, url: str, *,
                 encode: Callable[[Order], dict] | None = None, batch_size: int = 100,
                 poll_s: float = 0.05, timeout_s: float = 5.0, retry_base_s: float = 0.05,
                 retry_max_s: float = 5.0, headers: dict[str, str] | None = None,
                 seed: int = 0, app_key: str | None = None, app_secret: str | None = None,
                 sign_method: str = "md5", now: Callable[[], float] = time.time) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.state = state
        target = httpx.URL(url)
        self.url, self.query = str(target.copy_with(query=None)), dict(target.params)
        app = next(iter(state.credentials.values()))
        self.app_key = app.app_key if app_key is None else app_key
        self._secret = app.app_secret if app_secret is None else app_secret
        self.sign_method, self.now = sign_method, now
        self.encode = encode  # None: the record the state's pull API serves
        self.batch_size, self.poll_s = batch_size, poll_s
        self.retry_base_s, self.retry_max_s = retry_base_s, retry_max_s
        self._client = httpx.Client(timeout=timeout_s, headers={
            "content-type": "application/json", "x-emulator-channel": state.channel,
            **(headers or {})})
        self._cursor = 0
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._counts = {"sent_events": 0, "batches": 0, "failures": 0, "unauthorised": 0}
        self.last_error = ""

    def stats(self) -> dict[str, Any]:
        return {**self._counts, "cursor": self._cursor, "last_error": self.last_error}

    def start(self) -> PushSender:
        self._thread = threading.Thread(target=self._run, name=f"push-{self.state.channel}",
                                        daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.send_once():
                self._stop.wait(self.poll_s)

    def send_once(self) -> int:
        """Send the next batch (retrying until accepted or stopped); the number sent."""
        batch, after = self.state.released_since(self._cursor, self.batch_size)
        if not batch:
            return 0
        encode = self.encode or self.state.raw_of
        items = [(event.order, encode(event.order)) for event in batch]
        attempt = 0
        while not self._stop.is_set() or attempt == 0:
            attempt += 1
            try:
                now_s = self.now()
                body = envelope(self.state.channel, items, now_s=now_s, app_key=self.app_key)
                params, headers = signed(self.state.channel, body, app_key=self.app_key,
                                         app_secret=self._secret, now_s=now_s,
                                         query=self.query, sign_method=self.sign_method)
                response = self._client.post(self.url, params=params, content=body,
                                             headers=headers)
                if response.is_success:
                    self._cursor = after
                    self._counts["sent_events"] += len(batch)
                    self._counts["batches"] += 1
                    return len(batch)
                self.last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code == 401:
                    self._counts["unauthorised"] += 1
            except httpx.HTTPError as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
            self._counts["failures"] += 1
            log.info("push %s: batch of %d failed (%s), attempt %d", self.state.channel,
                     len(batch), self.last_error, attempt)
            pause = min(self.retry_max_s, self.retry_base_s * 2 ** (attempt - 1))
            self._stop.wait(pause * (0.5 + self._rng.random() / 2))
        return 0

    def drain(self, timeout_s: float = 10.0) -> bool:
        """Wait until every event released so far has been accepted."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            _, end = self.state.released_since(self._cursor, 1)
            if end == self._cursor:
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._client.close()

    def __enter__(self) -> PushSender:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
