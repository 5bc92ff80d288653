"""One socket write per response: uvicorn writes a response's head and its body with one
``transport.write`` each, which is two ``send`` system calls and two TCP segments for every
answer, and two reads for the client. The writes made in one turn of the event loop are joined
here and sent at the end of that turn, as one (issue 17: the client and the emulator share the
machine's cores in the benchmarks and in CI, so the emulator's CPU per request is the client's
wall time). The bytes sent are unchanged, and so is their order."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class CoalescingTransport(asyncio.Transport):
    """Wraps a transport: ``write`` buffers and sends the turn's writes together, once, at the
    end of the loop turn; ``close`` sends what is buffered first (a response cut short, such as
    the emulator's dropped-connection fault, still shows its head, then the connection ends);
    ``abort`` drops it, as an abort does."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._inner.is_closing():
            self._inner.write(data)

    def close(self) -> None:
        self.flush()
        self._inner.close()

    def abort(self) -> None:
        self._pending.clear()
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
        return self._inner.get_write_buffer_size() + sum(len(d) for d in self._pending)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._inner.write_eof()


class CoalescingProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (whichever ``http="auto"`` picks) over a
    :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        loop = asyncio.get_running_loop()
        super().connection_made(CoalescingTransport(transport, loop))
