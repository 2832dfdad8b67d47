"""An httpx transport whose HTTP/1.1 connections hold their writes until they read.

httpcore writes a request's head and its body to the socket one after the other; on
a connection that then waits for the answer, holding both until the first read sends
them in one system call (one loopback delivery, one wake-up of the server) instead of
two. Nothing is held past a read, a TLS upgrade or a close, so the bytes and their order
are the same; a failed send surfaces at that read, as the transport error it is.
"""

from __future__ import annotations

from typing import Any

import httpcore
import httpx


class _HeldWrites(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._held: list[bytes] = []

    async def _flush(self, timeout: float | None) -> None:
        if self._held:
            held = self._held[0] if len(self._held) == 1 else b"".join(self._held)
            self._held = []
            await self._stream.write(held, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._held.append(buffer)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush(timeout)
        return await self._stream.read(max_bytes, timeout)

    async def aclose(self) -> None:
        self._held = []
        await self._stream.aclose()

    async def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        await self._flush(timeout)
        return _HeldWrites(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _Backend(httpcore.AsyncNetworkBackend):
    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _HeldWrites(await self._backend.connect_tcp(*args, **kwargs))

    async def connect_unix_socket(self, *args: Any,
                                  **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _HeldWrites(await self._backend.connect_unix_socket(*args, **kwargs))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def transport(**options: Any) -> httpx.AsyncHTTPTransport:
    """``httpx.AsyncHTTPTransport(**options)`` with held writes (HTTP/1.1 only)."""
    made = httpx.AsyncHTTPTransport(**options)
    # httpx and httpcore internals: where a release moved them, the plain transport stays
    pool = getattr(made, "_pool", None)
    if (isinstance(pool, httpcore.AsyncConnectionPool) and not options.get("http2")
            and hasattr(pool, "_network_backend")):
        pool._network_backend = _Backend(pool._network_backend)
    return made
