"""Serve an emulator's ASGI app on 127.0.0.1 in a background thread, on a free port:
the hub's own server (``hub.api.server.ApiServer``) with the emulators' defaults.

>>> from fastapi import FastAPI
>>> with LoopbackServer(FastAPI(), name="demo") as server:
...     server.url.startswith("http://127.0.0.1:") and server.port > 0
True
"""

from __future__ import annotations

from typing import Any

from hub.api.server import ApiServer

LOOPBACK = "127.0.0.1"


class LoopbackServer(ApiServer):
    """One uvicorn server bound to loopback; ``port=0`` picks a free port."""

    def __init__(self, app: Any, *, name: str = "emulator", port: int = 0,
                 host: str = LOOPBACK) -> None:
        super().__init__(app, name=name, host=host, port=port)
