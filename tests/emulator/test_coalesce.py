"""One socket write per response (``reconciler.emulator.coalesce``): the writes of one turn of
the event loop leave together, in order; closing sends what is buffered first; aborting drops
it. Over uvicorn, a response's head and body arrive in one piece."""

from __future__ import annotations

import asyncio
import socket
from contextlib import closing
from pathlib import Path

import pytest

from reconciler.emulator.coalesce import CoalescingTransport
from reconciler.emulator.server import start_background


class _Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


def test_the_writes_of_one_loop_turn_leave_as_one_in_order() -> None:
    async def run() -> list[bytes]:
        inner = _Recorder()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        outer.write(b"")
        outer.write(bytearray(b'{"a": 1}'))
        assert inner.writes == []  # nothing leaves before the turn ends
        assert outer.get_write_buffer_size() == 27
        await asyncio.sleep(0)
        outer.write(b"next")
        await asyncio.sleep(0)
        return inner.writes

    assert asyncio.run(run()) == [b'HTTP/1.1 200 OK\r\n\r\n{"a": 1}', b"next"]


def test_close_sends_what_is_buffered_first_and_abort_drops_it() -> None:
    async def run() -> tuple[_Recorder, _Recorder]:
        loop = asyncio.get_running_loop()
        closed, aborted = _Recorder(), _Recorder()
        for inner in (closed, aborted):
            outer = CoalescingTransport(inner, loop)
            outer.write(b"head")
            if inner is closed:
                outer.close()
            else:
                outer.abort()
            await asyncio.sleep(0)
        return closed, aborted

    closed, aborted = asyncio.run(run())
    assert (closed.writes, closed.closed) == ([b"head"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


@pytest.mark.e2e
def test_over_uvicorn_a_response_arrives_in_one_piece(tmp_path: Path) -> None:
    running = start_background(tmp_path / "one.db")
    try:
        host, port = running.base_url.removeprefix("http://").split(":")
        with closing(socket.create_connection((host, int(port)), timeout=10)) as sock:
            sock.sendall(
                b"GET /itwins HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n\r\n"
            )
            # The first read holds the whole answer: head and body were one write, hence one
            # segment (before, the head came alone and the body in a second segment).
            data = sock.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )  # fmt: skip
        assert head.startswith(b"HTTP/1.1 200")
        assert len(body) == length
        assert body.startswith(b'{"iTwins":')
    finally:
        running.stop()
