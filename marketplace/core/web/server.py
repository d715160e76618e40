"""How the web app is served: uvicorn's httptools protocol, with each answer's head and body
written to the socket together.

uvicorn writes an answer's head (status line and headers) when the app sends
`http.response.start` and its body when the app sends `http.response.body`: two socket
writes, so two TCP segments on a connection without Nagle's delay, and two wake-ups of the
client, for every answer. On a claim refused in a flash sale those two system calls are a
good part of the web process's time (docs/benchmarks.md, claims, part 5). Here the protocol
hands uvicorn a transport that holds a write until the next one and writes the two as one;
a write that no other follows (the last chunk of a stream, `100 Continue`) goes out when the
event loop next runs its ready callbacks, or when the connection is closed. Everything else
is uvicorn's own code.

`benefits serve` runs with `OneWriteHttpToolsProtocol`; uvicorn's command line takes
`--http marketplace.core.web.server:OneWriteHttpToolsProtocol` (`HTTP_PROTOCOL`).
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HTTP_PROTOCOL = "marketplace.core.web.server:OneWriteHttpToolsProtocol"


class PairedWrites(asyncio.Transport):
    """A transport that holds a write until the next one and sends both in one write.

    Order is kept: data is only ever appended to what is held, and whatever is held goes out
    before anything that closes, half-closes or hands the connection over.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.real = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: Any) -> None:
        if self._held is None:
            self._held = bytes(data)
            # In case no second write comes (a stream's last chunk, `100 Continue`).
            self._loop.call_soon(self.flush)
        else:
            held, self._held = self._held, None
            self.real.write(held + bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.write(b"".join(list_of_data))

    def flush(self) -> None:
        held, self._held = self._held, None
        # A connection the peer closed meanwhile drops it, as a write to it would.
        if held is not None and not self.real.is_closing():
            self.real.write(held)

    def close(self) -> None:
        self.flush()
        self.real.close()

    def abort(self) -> None:
        self._held = None
        self.real.abort()

    def write_eof(self) -> None:
        self.flush()
        self.real.write_eof()

    def can_write_eof(self) -> bool:
        return self.real.can_write_eof()

    def is_closing(self) -> bool:
        return self.real.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.real.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self.real.pause_reading()

    def resume_reading(self) -> None:
        self.real.resume_reading()

    def is_reading(self) -> bool:
        return self.real.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self.real.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self.real.get_write_buffer_size() + len(self._held or b"")

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self.real.get_write_buffer_limits()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self.real.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self.real.get_protocol()


class OneWriteHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over `PairedWrites`: one socket write per answer."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(PairedWrites(transport, self.loop))

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol gets the connection itself, with nothing held back.
        if isinstance(self.transport, PairedWrites):
            self.transport.flush()
            self.transport = self.transport.real
        super().handle_websocket_upgrade()
