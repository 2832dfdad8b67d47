"""The connectors' HTTP port (``hub.connectors._http``): one contract, run on both
adapters (aiohttp, the hub's own; httpx, for clients handed one) against a real
server on loopback."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hub.connectors._http import (
    AiohttpHttp,
    Http,
    HttpTimeout,
    HttpUnreachable,
    HttpxHttp,
    http_for,
    with_query,
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in {"content-length": str(len(body)), **headers}.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if url.path == "/echo":
            self._answer(200, json.dumps({
                "method": self.command, "query": parse_qs(url.query),
                "body": body.decode(), "type": self.headers.get("content-type")}).encode(),
                content_type="application/json", retry_after="7")
        elif url.path.startswith("/status/"):
            self._answer(int(url.path.rsplit("/", 1)[1]), b'{"error": "no"}')
        elif url.path == "/redirect":
            self._answer(302, b"", location="/echo")
        elif url.path == "/gzip":
            self._answer(200, gzip.compress(b'{"packed": true}'), content_encoding="gzip")
        elif url.path == "/slow":
            time.sleep(1.5)
            self._answer(200, b"{}")
        elif url.path == "/cut":  # promises 100 bytes, sends 5, hangs up
            self.send_response(200)
            self.send_header("content-length", "100")
            self.end_headers()
            self.wfile.write(b"short")
            self.wfile.flush()
            self.close_connection = True

    do_GET = do_POST = _serve


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


ADAPTERS = {"aiohttp": lambda: AiohttpHttp(timeout_s=5.0),
            "httpx": lambda: HttpxHttp(httpx.AsyncClient(timeout=5.0), own=True)}


@pytest.fixture(params=sorted(ADAPTERS))
def http(request: pytest.FixtureRequest) -> Http:
    return ADAPTERS[request.param]()


def run(http: Http, *calls: tuple[str, str, dict[str, Any]]) -> list[Any]:
    async def go() -> list[Any]:
        out = []
        try:
            for method, url, options in calls:
                try:
                    out.append(await http.request(method, url, **options))
                except Exception as exc:  # the contract checks which
                    out.append(exc)
        finally:
            await http.aclose()
        return out

    return asyncio.run(go())


def test_a_post_sends_its_bytes_query_and_type_and_reads_the_answer(http, server) -> None:
    (answer,) = run(http, ("POST", f"{server}/echo", {
        "params": {"a": "1 2", "签": "名&"}, "content": b"x=1&y=%E4",
        "headers": {"content-type": "application/x-www-form-urlencoded"}}))
    assert answer.status == 200
    echoed = json.loads(answer.content)
    assert echoed == {"method": "POST", "query": {"a": ["1 2"], "签": ["名&"]},
                      "body": "x=1&y=%E4", "type": "application/x-www-form-urlencoded"}
    assert answer.headers["Retry-After"] == answer.headers["retry-after"] == "7"


def test_a_get_without_a_body(http, server) -> None:
    (answer,) = run(http, ("GET", f"{server}/echo?since=3", {"params": {"limit": "5"}}))
    assert json.loads(answer.content)["query"] == {"since": ["3"], "limit": ["5"]}
    assert json.loads(answer.content)["body"] == ""


def test_error_statuses_are_answers_and_redirects_are_not_followed(http, server) -> None:
    got = run(http, ("GET", f"{server}/status/503", {}), ("POST", f"{server}/status/429", {}),
              ("GET", f"{server}/redirect", {}))
    assert [a.status for a in got] == [503, 429, 302]
    assert got[0].content == b'{"error": "no"}'
    assert got[2].headers["location"] == "/echo"


def test_a_compressed_answer_is_read_decompressed(http, server) -> None:
    (answer,) = run(http, ("GET", f"{server}/gzip", {}))
    assert json.loads(answer.content) == {"packed": True}


def test_no_answer_in_time_is_a_timeout_and_the_next_call_goes_through(http, server) -> None:
    slow, after = run(http, ("GET", f"{server}/slow", {"timeout": 0.3}),
                      ("GET", f"{server}/echo", {}))
    assert isinstance(slow, HttpTimeout), slow
    assert after.status == 200


def test_refused_and_cut_connections_are_unreachable(http, server) -> None:
    refused, cut = run(http, ("GET", f"{closed_port()}/echo", {}),
                       ("GET", f"{server}/cut", {}))
    assert isinstance(refused, HttpUnreachable), refused
    assert isinstance(cut, HttpUnreachable), cut
    assert "127.0.0.1" not in str(refused)  # the error names a class, never the URL


def test_the_aiohttp_session_follows_its_client_into_a_new_event_loop(server) -> None:
    http = AiohttpHttp()

    async def ask() -> int:
        return (await http.request("GET", f"{server}/echo")).status

    assert asyncio.run(ask()) == 200
    assert asyncio.run(ask()) == 200  # a session is bound to the loop it was made in
    asyncio.run(http.aclose())


def test_the_port_for_a_clients_arguments() -> None:
    made, own = http_for()
    assert isinstance(made, AiohttpHttp) and own
    given = httpx.AsyncClient()
    wrapped, own = http_for(given)
    assert isinstance(wrapped, HttpxHttp) and wrapped.client is given and not own
    mocked, own = http_for(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    assert isinstance(mocked, HttpxHttp) and own
    assert with_query("http://h/p?a=1", {"b": "2 3"}) == "http://h/p?a=1&b=2+3"
    assert with_query("http://h/p", None) == "http://h/p"
    asyncio.run(given.aclose())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_aiohttp_checks_certificates_and_refuses_a_self_signed_one(tmp_path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        (refused,) = run(AiohttpHttp(timeout_s=5.0),
                         ("GET", f"https://127.0.0.1:{httpd.server_address[1]}/echo", {}))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert isinstance(refused, HttpUnreachable), refused
    assert "Certificate" in refused.cause, refused.cause
