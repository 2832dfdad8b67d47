"""The warehouse's status callback is signed: each warehouse shares a secret with the hub
and signs every request as

    X-Warehouse: <name>
    X-Timestamp: <epoch milliseconds, wall clock>
    X-Nonce:     <a value it never sends twice>
    X-Signature: base64(HMAC-SHA256(secret, "<timestamp>\\n<nonce>\\n" + body))

A missing or wrong signature, an unknown warehouse or a timestamp outside the window
(``window_s`` either way) is refused with 401; a nonce seen within the window is a replay,
refused with 409. Nonces are remembered for the window, which is all a replay needs.

>>> guard = CallbackGuard({"main": "s3cret"}, window_s=300, now=lambda: 1000.0)
>>> headers = {"x-warehouse": "main", "x-timestamp": "1000000", "x-nonce": "n1",
...            "x-signature": signature("s3cret", "1000000", "n1", b"{}")}
>>> guard.check(headers, b"{}")
'main'
>>> guard.check(headers, b"{}")
Traceback (most recent call last):
...
hub.api.signed_callback.CallbackRefused: 409: nonce n1 was used already (a replay)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from hub.errors import OrderHubError

NONCE_MAX_LEN = 128


class CallbackRefused(OrderHubError):
    """A callback the hub does not take; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(f"{status}: {reason}")


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n".encode() + body
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class CallbackGuard:
    """Checks the signed callbacks of the warehouses in ``secrets`` (name -> secret)."""

    def __init__(self, secrets: Mapping[str, str], *, window_s: float = 300.0,
                 now: Callable[[], float] = time.time) -> None:
        self.secrets, self.window_s, self.now = dict(secrets), window_s, now
        self._nonces: dict[tuple[str, str], float] = {}
        self.refused = 0

    def check(self, headers: Mapping[str, str], body: bytes) -> str:
        """The warehouse that signed this request; raises :class:`CallbackRefused`."""
        try:
            return self._check(headers, body)
        except CallbackRefused:
            self.refused += 1
            raise

    def _check(self, headers: Mapping[str, str], body: bytes) -> str:
        warehouse = headers.get("x-warehouse", "")
        stamp, nonce = headers.get("x-timestamp", ""), headers.get("x-nonce", "")
        given = headers.get("x-signature", "")
        if not (warehouse and stamp and nonce and given):
            raise CallbackRefused(401, "a signed callback needs X-Warehouse, X-Timestamp, "
                                       "X-Nonce and X-Signature")
        secret = self.secrets.get(warehouse)
        if secret is None:
            raise CallbackRefused(401, f"warehouse {warehouse[:64]!r} has no secret here")
        if not stamp.isdigit() or len(nonce) > NONCE_MAX_LEN:
            raise CallbackRefused(401, "X-Timestamp must be epoch milliseconds and X-Nonce "
                                       f"at most {NONCE_MAX_LEN} characters")
        if not hmac.compare_digest(signature(secret, stamp, nonce, body), given):
            raise CallbackRefused(401, "the signature does not match")
        now = self.now()
        if abs(now - int(stamp) / 1000) > self.window_s:
            raise CallbackRefused(401, f"X-Timestamp is more than {self.window_s:.0f} s from "
                                       "the hub's clock")
        self._forget(now)
        if (warehouse, nonce) in self._nonces:
            raise CallbackRefused(409, f"nonce {nonce} was used already (a replay)")
        self._nonces[(warehouse, nonce)] = now + self.window_s
        return warehouse

    def _forget(self, now: float) -> None:
        if len(self._nonces) < 1024:
            return
        self._nonces = {k: until for k, until in self._nonces.items() if until > now}
