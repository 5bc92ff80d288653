"""One socket write per response (``reconciler.emulator.coalesce``): a response head leaves with
the body written after it, at once; other writes leave as they come; closing sends a held head
first; aborting drops it. Over uvicorn, a response's head and body arrive in one piece."""

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


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\n"


def test_a_head_leaves_with_the_body_after_it_and_other_writes_at_once() -> None:
    async def run() -> list[bytes]:
        inner = _Recorder()
        outer = CoalescingTransport(inner, asyncio.get_running_loop())
        outer.write(HEAD)
        assert inner.writes == []  # the head waits for its body
        assert outer.get_write_buffer_size() == len(HEAD)
        outer.write(b"")
        outer.write(bytearray(b'{"a": 1}'))
        assert inner.writes == [HEAD + b'{"a": 1}']  # at once, not at the end of the turn
        outer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")  # no body
        outer.write(b"more")  # not a head: as it comes
        assert len(inner.writes) == 3
        outer.write(HEAD)  # a head no body follows in this turn (HEAD): sent at its end
        await asyncio.sleep(0)
        return inner.writes

    writes = asyncio.run(run())
    assert writes[1:] == [b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n", b"more", HEAD]


def test_close_sends_what_is_buffered_first_and_abort_drops_it() -> None:
    async def run() -> tuple[_Recorder, _Recorder]:
        loop = asyncio.get_running_loop()
        closed, aborted = _Recorder(), _Recorder()
        for inner in (closed, aborted):
            outer = CoalescingTransport(inner, loop)
            outer.write(HEAD)
            if inner is closed:
                outer.close()
            else:
                outer.abort()
            await asyncio.sleep(0)
        return closed, aborted

    closed, aborted = asyncio.run(run())
    assert (closed.writes, closed.closed) == ([HEAD], True)
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
