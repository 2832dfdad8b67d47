"""Shared by the back-office emulator tests: an async client driven from sync test code
on one event loop (one connection pool per test, not one per call)."""

from __future__ import annotations

import asyncio
from typing import Any


class Blocking:
    """``Blocking(WmsClient(url)).dispatch(rows)`` runs the coroutine to its end."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        return lambda *args, **kwargs: self.loop.run_until_complete(method(*args, **kwargs))

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()

    def __enter__(self) -> Blocking:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
