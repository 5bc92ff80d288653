"""Serving the emulator with uvicorn: in a background thread (embedded mode, e2e tests) or in
the foreground (``itwin-access emulator serve``, see ``reconciler/cli/emulator.py``)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from reconciler.emulator.app import create_app
from reconciler.emulator.coalesce import CoalescingProtocol
from reconciler.emulator.web import Emulator


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0 picks a free port); OSError when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
    # without it keep-alive responses stall ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def uvicorn_config(app: Starlette) -> uvicorn.Config:
    # No access log (speed, and the emulator never prints); lifespan unused; a response's head
    # and body leave in one write (``coalesce``).
    return uvicorn.Config(
        app,
        http=CoalescingProtocol,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        date_header=False,  # the app sends Date from the emulator's (advanceable) clock
    )


class RunningEmulator:
    """An emulator served by uvicorn in a daemon thread; ``stop()`` shuts it down."""

    def __init__(self, app: Starlette, sock: socket.socket) -> None:
        self.app = app
        self.base_url = base_url(sock)
        self._sock = sock
        self._server = uvicorn.Server(uvicorn_config(app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="emulator"
        )

    @property
    def emulator(self) -> Emulator:
        emu: Emulator = self.app.state.emu
        return emu

    def _start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        with contextlib.suppress(OSError):
            self._sock.close()
        self.emulator.store.close()

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_background(
    db_path: str | Path,
    seed: str | Path | dict[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    **opts: Any,
) -> RunningEmulator:
    """Start the emulator on ``host:port`` in a thread; ``opts`` go to ``create_app``
    (``faults``, ``admin``, ``clock``). Returns once it accepts connections."""
    app = create_app(db_path, seed=seed, **opts)
    sock = bind(host, port)
    running = RunningEmulator(app, sock)
    running._start()
    return running
