"""Serve an ASGI app with uvicorn in a background thread (the hub's API and dashboard).

The socket is bound when the server is made, so ``port=0`` picks a free port and
``url`` is known before ``start()``.

>>> from fastapi import FastAPI
>>> import httpx
>>> app = FastAPI()
>>> @app.get("/healthz")
... def healthz() -> dict:
...     return {"ok": True}
>>> with ApiServer(app, name="demo", port=0) as server:
...     httpx.get(server.url + "/healthz").json()
{'ok': True}
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any, Self

import uvicorn

from hub.config import ApiConfig


class ApiServer:
    """One uvicorn server on ``host:port`` (``port=0``: a free one), run in a thread."""

    def __init__(self, app: Any, *, name: str = "hub-api", host: str = "127.0.0.1",
                 port: int = 0, access_log: bool = False, proxy_headers: bool = True,
                 forwarded_allow_ips: str = "127.0.0.1", keep_alive_s: float = 30.0,
                 graceful_shutdown_s: float | None = None,
                 max_header_bytes: int = 16 * 1024) -> None:
        self.app, self.name, self.host = app, name, host
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.port: int = self._sock.getsockname()[1]
        self.config = uvicorn.Config(
            app, log_level="warning", access_log=access_log, lifespan="off",
            proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips,
            timeout_keep_alive=keep_alive_s,
            timeout_graceful_shutdown=graceful_shutdown_s,
            # a request line and headers past this are refused (400) before the app
            h11_max_incomplete_event_size=max_header_bytes)
        if access_log:  # uvicorn put its access logger at the warning level above
            logging.getLogger("uvicorn.access").setLevel(logging.INFO)
        self._server = uvicorn.Server(self.config)
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(cls, app: Any, api: ApiConfig, *, name: str = "hub-api") -> ApiServer:
        """The server the ``[api]`` settings describe."""
        return cls(app, name=name, host=api.host, port=api.port, access_log=api.access_log,
                   proxy_headers=api.proxy_headers,
                   forwarded_allow_ips=api.forwarded_allow_ips,
                   keep_alive_s=api.keep_alive_s, graceful_shutdown_s=api.graceful_shutdown_s,
                   max_header_bytes=api.max_header_bytes)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> Self:
        """Serve, and return once the server answers; ``RuntimeError`` if it did not
        start within ``timeout_s``."""
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
