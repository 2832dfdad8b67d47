"""How the emulated warehouse signs its status callbacks to the hub, written here on its
own (never imported from the hub), so a bug in the hub's check cannot hide in both.

The recipe the hub documents (``hub/api/signed_callback.py``): headers ``X-Warehouse``,
``X-Timestamp`` (epoch milliseconds), ``X-Nonce`` and ``X-Signature``, the last being
base64 of HMAC-SHA256 over ``"<timestamp>\\n<nonce>\\n"`` followed by the body. The example
below was checked against OpenSSL:
``printf '1000\\nn1\\n{}' | openssl dgst -sha256 -hmac k -binary | base64``.

>>> headers = signed_headers("main", "k", b"{}", now_ms=1000, nonce="n1")
>>> headers["X-Signature"]
'Ee2JK+Alz//yd6Pdlovgp/JPR7bkNNEzksSxTzr44D0='
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time


def signed_headers(warehouse: str, secret: str, body: bytes, *, now_ms: int | None = None,
                   nonce: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time() * 1000) if now_ms is None else now_ms)
    nonce = nonce or secrets.token_hex(16)
    mac = hmac.new(secret.encode("utf-8"), stamp.encode() + b"\n" + nonce.encode() + b"\n"
                   + body, hashlib.sha256)
    return {"X-Warehouse": warehouse, "X-Timestamp": stamp, "X-Nonce": nonce,
            "X-Signature": base64.b64encode(mac.digest()).decode("ascii")}
