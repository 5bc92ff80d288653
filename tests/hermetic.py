"""A pytest plugin that fails any test opening a file outside what a fresh CI machine has.

Allowed: the checkout, the temporary directories, the virtual environment and the interpreter's
own prefix (plus a few device files). Everything else (a notes file in someone's home, a config
under /etc) would make a test pass on one machine and fail on the next, so the open is refused
with :class:`OutsideRead` and the test fails at teardown even if the code under test swallowed
the error. Subprocesses (uvicorn, the CLI, node) are not audited: only this interpreter is.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHECKOUT = Path(__file__).resolve().parents[1]
# Device files the standard library opens on every machine; not state of a particular machine.
DEVICES = frozenset({"/dev/null", "/dev/urandom", "/dev/random", "/dev/tty"})


class OutsideRead(PermissionError):
    """A test opened a file outside the checkout, the temp dirs, the venv and the interpreter."""


def _roots() -> tuple[str, ...]:
    roots = {str(CHECKOUT), os.path.realpath(CHECKOUT), tempfile.gettempdir()}
    roots.update(os.path.realpath(p) for p in list(roots))
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        roots.update({prefix, os.path.realpath(prefix)})
    for name in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_path(name)
        if path:
            roots.update({path, os.path.realpath(path)})
    return tuple(sorted(r.rstrip("/") + "/" for r in roots))


class Guard:
    """Collects the outside paths opened while a test runs (from any thread of this process)."""

    def __init__(self) -> None:
        self.roots = _roots()
        self.active = False
        self.found: list[str] = []
        self._lock = threading.Lock()

    def outside(self, path: str) -> bool:
        absolute = os.path.abspath(path)
        if absolute in DEVICES or absolute.startswith("/proc/self/"):
            return False
        return not any(absolute.startswith(root) for root in self.roots) and not any(
            os.path.realpath(absolute).startswith(root) for root in self.roots
        )

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "open":
            path = args[0]
        elif event == "sqlite3.connect":
            path = args[0]
            if path in (":memory:", b":memory:", "") or str(path).startswith("file:"):
                return
        else:
            return
        if isinstance(path, int):  # an already-open descriptor
            return
        text = os.fsdecode(path)
        if self.outside(text):
            with self._lock:
                self.found.append(text)
            raise OutsideRead(f"tests may not read {text}: it is outside the repository")

    def take(self) -> list[str]:
        with self._lock:
            found, self.found = self.found, []
        return found


GUARD = Guard()
sys.addaudithook(GUARD.audit)  # audit hooks cannot be removed; `active` turns it on per test


@pytest.fixture(autouse=True)
def hermetic() -> Iterator[Guard]:
    GUARD.take()
    GUARD.active = True
    try:
        yield GUARD
    finally:
        GUARD.active = False
    found = GUARD.take()
    if found:
        pytest.fail(
            "opened outside the repository (a file another machine will not have; put what the "
            f"test needs under tests/fixtures): {', '.join(sorted(set(found)))}",
            pytrace=False,
        )
