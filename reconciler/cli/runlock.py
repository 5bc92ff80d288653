"""An advisory lock an ``apply`` takes before it reads live state, so runs sharing a lock file
(the same runner, or a shared file system that honours ``flock``) never interleave.

Two applies racing on the same projects both plan from the same live state, so both create the
same roles (issue 12). Taken before the read, the lock makes the second run plan from what the
first left: nothing to do, or a saved plan refused as stale. ``flock`` is released by the kernel
when the process dies, so a killed run never leaves a stale lock behind; the file itself is
kept and only says who held it last.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from reconciler.errors import ItwinAccessError

POLL_SECONDS = 0.2


@contextlib.contextmanager
def run_lock(
    path: Path,
    timeout: float,
    *,
    on_wait: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """Hold the lock on ``path`` for the block; wait up to ``timeout`` seconds for it.

    ItwinAccessError (one line: the file, its last holder, what to do) when it stays taken, or
    when the file cannot be opened (a symlink is refused: the lock file is created 0600)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ItwinAccessError(
            f"cannot open the lock file {path}: {exc.strerror}; check `lock` in "
            "itwin-access.yaml or --lock"
        ) from None
    try:
        deadline = clock() + max(timeout, 0.0)
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if clock() >= deadline:
                    raise ItwinAccessError(
                        f"another itwin-access run holds the lock {path} ({holder}); waited "
                        f"{timeout:g} s: run again when it has finished (`lockTimeout` waits "
                        "longer)"
                    ) from None
                if on_wait is not None and not told:
                    on_wait(f"Waiting for the lock {path} ({holder})...")
                    told = True
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {_now()}\n".encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return "held by " + text if text else "holder unknown"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
