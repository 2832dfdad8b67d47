"""Serve an ASGI app on 127.0.0.1 in a background thread, on a free port.

>>> from fastapi import FastAPI
>>> import httpx
>>> app = FastAPI()
>>> @app.get("/healthz")
... def healthz() -> dict:
...     return {"ok": True}
>>> with LoopbackServer(app, name="demo") as server:
...     httpx.get(server.url + "/healthz").json()
{'ok': True}
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

LOOPBACK = "127.0.0.1"


class LoopbackServer:
    """One uvicorn server bound to loopback; ``port=0`` picks a free port."""

    def __init__(self, app: Any, *, name: str = "emulator", port: int = 0,
                 host: str = LOOPBACK) -> None:
        self.app = app
        self.name = name
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.host = host
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> LoopbackServer:
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]},
            name=f"{self.name}-http", daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: server did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
