"""The web server's protocol (marketplace/core/web/server.py) over a real uvicorn server on
loopback: each answer in one socket write, and every kind of answer arrives whole and in
order (plain, streamed in chunks, empty, HEAD, 100-continue, pipelined, connection close)."""

import asyncio
import socket

import httpx
import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from marketplace.core.web.server import HTTP_PROTOCOL, OneWriteHttpToolsProtocol, PairedWrites

CHUNKS = [b"a" * 10, b"b" * 70_000, b"c"]


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    if path == "/stream":  # no length: chunked, with the loop running between chunks
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for chunk in CHUNKS:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})
        return
    if path == "/empty":
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    answer = b"echo:" + body if path == "/echo" else b"hello " + path.encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


class Recorded(PairedWrites):
    """The connection as the protocol gets it, with each socket write recorded (and made at once)."""

    writes: list[bytes] = []

    def write(self, data) -> None:
        self.writes.append(bytes(data))
        self.real.write(data)


class RecordedOneWrite(OneWriteHttpToolsProtocol):
    def connection_made(self, transport) -> None:
        super().connection_made(Recorded(transport, self.loop))


class RecordedUvicorn(HttpToolsProtocol):
    def connection_made(self, transport) -> None:
        super().connection_made(Recorded(transport, self.loop))


async def _serve(protocol):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, http=protocol, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "the test server did not start"
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
async def one_write_server():
    Recorded.writes = []
    server, task, url = await _serve(RecordedOneWrite)
    yield url
    server.should_exit = True
    await task


def _answers(writes: list[bytes]) -> list[bytes]:
    return [write for write in writes if write.startswith(b"HTTP/1.1 ")]


async def test_an_answer_goes_out_in_one_write_with_its_head(one_write_server):
    async with httpx.AsyncClient(base_url=one_write_server) as http:
        answer = await http.get("/plain")
    assert answer.status_code == 200 and answer.text == "hello /plain"
    [write] = [write for write in Recorded.writes if b"hello /plain" in write]
    assert write.startswith(b"HTTP/1.1 200 OK\r\n") and write.endswith(b"\r\n\r\nhello /plain")
    assert len(Recorded.writes) == 1


async def test_uvicorns_own_protocol_writes_head_and_body_apart():
    """Why the protocol exists: if uvicorn one day writes an answer whole, it can go."""
    Recorded.writes = []
    server, task, url = await _serve(RecordedUvicorn)
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/plain")).text == "hello /plain"
    finally:
        server.should_exit = True
        await task
    assert len(Recorded.writes) == 2 and Recorded.writes[1] == b"hello /plain"


async def test_streamed_empty_head_and_posted_answers_arrive_whole(one_write_server):
    async with httpx.AsyncClient(base_url=one_write_server) as http:
        streamed = await http.get("/stream")
        empty = await http.get("/empty")
        head = await http.head("/plain")
        echoed = await http.post("/echo", content=b"x" * 100_000)
        expecting = await http.post("/echo", content=b"after continue", headers={"expect": "100-continue"})
    assert streamed.status_code == 200 and streamed.content == b"".join(CHUNKS)
    assert empty.status_code == 204 and empty.content == b""
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "12"
    assert echoed.content == b"echo:" + b"x" * 100_000
    assert expecting.content == b"echo:after continue"
    # The stream's head went out with its first chunk, the posted answer's with its body.
    [stream_head] = [write for write in _answers(Recorded.writes) if b"transfer-encoding: chunked" in write]
    assert stream_head.endswith(b"\r\n\r\na\r\n" + CHUNKS[0] + b"\r\n")
    assert any(write.endswith(b"\r\n\r\necho:" + b"x" * 100_000) for write in _answers(Recorded.writes))


async def _read_answers(reader: asyncio.StreamReader) -> bytes:
    data = b""
    while chunk := await asyncio.wait_for(reader.read(65536), 30):
        data += chunk
    return data


async def test_pipelined_requests_are_answered_in_order_and_close_ends_the_connection(one_write_server):
    port = int(one_write_server.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET /first HTTP/1.1\r\nhost: t\r\n\r\n"
        b"GET /second HTTP/1.1\r\nhost: t\r\n\r\n"
        b"GET /third HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n"
    )
    await writer.drain()
    data = await _read_answers(reader)  # the server closes after the third: read() ends
    writer.close()
    bodies = [part.split(b"\r\n\r\n", 1)[1] for part in data.split(b"HTTP/1.1 200 OK\r\n")[1:]]
    assert bodies == [b"hello /first", b"hello /second", b"hello /third"]
    assert b"connection: close" in data.split(b"hello /second")[1]


def test_benefits_serve_and_the_claims_benchmark_name_this_protocol():
    assert uvicorn.Config(app, http=HTTP_PROTOCOL).http == HTTP_PROTOCOL
    config = uvicorn.Config(app, http=HTTP_PROTOCOL)
    config.load()
    assert config.http_protocol_class is OneWriteHttpToolsProtocol
