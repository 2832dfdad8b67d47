"""Shared by the back-office emulator tests: an async client driven from sync test code
on one event loop, and HTTP clients for loopback (plain HTTP, so no CA bundle to load:
that alone costs ~0.1 s a client on this machine)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


def local_http() -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=False, timeout=10)


def local_sync_http() -> httpx.Client:
    return httpx.Client(verify=False, timeout=10)


class Blocking:
    """``Blocking(WmsClient, url)`` builds the client on a loopback HTTP client;
    ``.dispatch(rows)`` then runs the coroutine to its end."""

    def __init__(self, kind: Any, *args: Any, **kwargs: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.http = local_http()
        self.client = kind(*args, http=self.http, **kwargs)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        return lambda *args, **kwargs: self.loop.run_until_complete(method(*args, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.http.aclose())
        self.loop.close()

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
