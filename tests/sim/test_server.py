import httpx
from fastapi import FastAPI

from sim.emulators.server import LoopbackServer


def test_loopback_server_serves_and_stops() -> None:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True}

    server = LoopbackServer(app, name="t").start()
    assert server.url.startswith("http://127.0.0.1:")
    assert httpx.get(server.url + "/healthz").json() == {"ok": True}
    server.stop()
    try:
        httpx.get(server.url + "/healthz", timeout=1)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("server still answers after stop()")
