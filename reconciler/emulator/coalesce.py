"""One socket write per response: uvicorn writes a response's head and its body with one
``transport.write`` each, which is two ``send`` system calls and two TCP segments for every
answer, and two reads for the client. Here a response head that a body follows is held back
and sent with the write after it, at once (issue 17: the client and the emulator share the
machine's cores in the benchmarks and in CI, so the emulator's CPU per request is the
client's). The bytes sent are unchanged, and so is their order.

Only the head waits, and only for the next write: holding whole responses to the end of the
event loop's turn (tried first) made every answer of a burst wait for the handlers of all the
others, and the client, on the other core, idle meanwhile: the apply benchmark got slower."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class CoalescingTransport(asyncio.Transport):
    """Wraps a transport: a response head announcing a body is held until the next write,
    which sends both (or until the end of the loop's turn, should no write follow in it);
    every other write goes out as it comes. ``close`` sends what is held first (a response cut
    short, such as the emulator's dropped-connection fault, still shows its head, then the
    connection ends); ``abort`` drops it, as an abort does."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = transport
        self._loop = loop
        self._held = b""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._held:
            data, self._held = self._held + bytes(data), b""
            self._send(data)
        elif _awaits_body(data):
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._send(data)

    def flush(self) -> None:
        if self._held:
            data, self._held = self._held, b""
            self._send(data)

    def _send(self, data: bytes | bytearray | memoryview) -> None:
        if not self._inner.is_closing():
            self._inner.write(data)

    def close(self) -> None:
        self.flush()
        self._inner.close()

    def abort(self) -> None:
        self._held = b""
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + len(self._held)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._inner.write_eof()


def _awaits_body(data: bytes | bytearray | memoryview) -> bool:
    """A whole response head (status line to blank line) that does not say its body is
    empty: the body's write follows."""
    head = bytes(data[:5]) == b"HTTP/" and bytes(data[-4:]) == b"\r\n\r\n"
    return head and b"\r\ncontent-length: 0\r\n" not in bytes(data).lower()


class CoalescingProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (whichever ``http="auto"`` picks) over a
    :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        loop = asyncio.get_running_loop()
        super().connection_made(CoalescingTransport(transport, loop))
