"""Held writes: a request's head and body reach the socket in one write, at the first
read, and the answer is read as usual."""

import asyncio

import httpx

from hub.connectors import coalesced


class Recording:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.writes.append(buffer)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return b"answer"

    async def aclose(self) -> None:
        self.closed = True


def test_writes_are_held_until_a_read_then_sent_as_one() -> None:
    stream = Recording()
    held = coalesced._HeldWrites(stream)  # type: ignore[arg-type]

    async def talk() -> bytes:
        await held.write(b"POST / HTTP/1.1\r\n\r\n")
        await held.write(b"")
        await held.write(b"a=1")
        assert stream.writes == []
        return await held.read(10)

    assert asyncio.run(talk()) == b"answer"
    assert stream.writes == [b"POST / HTTP/1.1\r\n\r\na=1"]


def test_a_request_through_the_transport_gets_its_answer() -> None:
    chunks: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        body = await reader.readexactly(length)
        chunks.append(head + body)
        answer = b'{"echo": "' + body + b'"}'
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     b"content-length: " + str(len(answer)).encode() + b"\r\n\r\n" + answer)
        await writer.drain()
        writer.close()

    async def ask() -> httpx.Response:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server, httpx.AsyncClient(transport=coalesced.transport()) as http:
            return await http.post(f"http://127.0.0.1:{port}/x", data={"a": "1"})

    response = asyncio.run(ask())
    assert response.json() == {"echo": "a=1"}
    assert chunks and chunks[0].endswith(b"\r\n\r\na=1")
