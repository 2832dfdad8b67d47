"""The hub's API server: uvicorn in a thread, configured from the ``[api]`` settings."""

import logging

import httpx
import pytest
from fastapi import FastAPI, Request

from hub.api.server import ApiServer
from hub.config import ApiConfig


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    @app.get("/whoami")
    def whoami(request: Request) -> dict:
        return {"client": request.client.host if request.client else None,
                "scheme": request.url.scheme}

    return app


def test_it_serves_on_a_free_port_and_stops() -> None:
    server = ApiServer.from_config(_app(), ApiConfig(port=0))
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
    server.start()
    assert httpx.get(server.url + "/healthz", timeout=5).json() == {"ok": True}
    server.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/healthz", timeout=1)


def test_the_settings_reach_uvicorn() -> None:
    api = ApiConfig(port=0, access_log=True, proxy_headers=False,
                    forwarded_allow_ips="10.0.0.1,10.0.0.2", keep_alive_s=7,
                    graceful_shutdown_s=3)
    server = ApiServer.from_config(_app(), api)
    try:
        config = server.config
        assert (config.access_log, config.proxy_headers) == (True, False)
        assert config.forwarded_allow_ips == "10.0.0.1,10.0.0.2"
        assert (config.timeout_keep_alive, config.timeout_graceful_shutdown) == (7, 3)
        defaults = ApiServer.from_config(_app(), ApiConfig(port=0))
        assert (defaults.config.access_log, defaults.config.proxy_headers) == (False, True)
        assert defaults.config.forwarded_allow_ips == "127.0.0.1"
        defaults.stop()
    finally:
        server.stop()


@pytest.mark.parametrize("proxy_headers", [True, False])
def test_forwarded_headers_are_believed_only_when_asked(proxy_headers) -> None:
    api = ApiConfig(port=0, proxy_headers=proxy_headers)
    with ApiServer.from_config(_app(), api) as server:
        answer = httpx.get(server.url + "/whoami", timeout=5, headers={
            "X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"}).json()
    if proxy_headers:  # from 127.0.0.1, the default trusted proxy
        assert answer == {"client": "203.0.113.5", "scheme": "https"}
    else:
        assert answer == {"client": "127.0.0.1", "scheme": "http"}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.parametrize("access_log", [True, False])
def test_the_access_log_is_written_only_when_on(access_log) -> None:
    logger = logging.getLogger("uvicorn.access")
    level = logger.level
    records = _Records()
    try:
        with ApiServer.from_config(_app(), ApiConfig(port=0, access_log=access_log)) as server:
            logger.addHandler(records)  # uvicorn configured its loggers when made
            httpx.get(server.url + "/healthz", timeout=5)
    finally:
        logger.removeHandler(records)
        logger.setLevel(level)
    written = [line for line in records.lines if "/healthz" in line]
    assert bool(written) is access_log
