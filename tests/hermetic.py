"""A pytest plugin that fails any test opening a file outside what a fresh CI machine has.

Allowed: the checkout, the temporary directories, the virtual environment and the interpreter's
own prefix (plus a few device files). Everything else (a notes file in someone's home, a config
under /etc) would make a test pass on one machine and fail on the next, so the open is refused
with :class:`OutsideRead` and the test fails at teardown even if the code under test swallowed
the error. Subprocesses (uvicorn, the CLI, node) are not watched: only this interpreter is.

The guard wraps ``open`` (builtins and io, which pathlib uses), ``os.open`` and
``sqlite3.connect`` for the duration of each test. Not ``sys.addaudithook``: a Python audit hook
runs on every ``sys.settrace`` too, and CPython 3.11 refuses a second thread's settrace while one
is in progress ("Cannot install a trace function while another trace function is being
installed"), so under coverage two threads starting at once failed a test now and then.
"""

from __future__ import annotations

import builtins
import io
import os
import sqlite3
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

    def check(self, path: Any) -> None:
        if not self.active or isinstance(path, int):  # an already-open descriptor
            return
        text = os.fsdecode(path)
        if text in (":memory:", "") or text.startswith("file:"):
            return
        if self.outside(text):
            with self._lock:
                self.found.append(text)
            raise OutsideRead(f"tests may not read {text}: it is outside the repository")

    def take(self) -> list[str]:
        with self._lock:
            found, self.found = self.found, []
        return found


GUARD = Guard()
_OPEN, _OS_OPEN, _CONNECT = builtins.open, os.open, sqlite3.connect


def _open(file: Any, *args: Any, **kwargs: Any) -> Any:
    GUARD.check(file)
    return _OPEN(file, *args, **kwargs)


def _os_open(path: Any, *args: Any, **kwargs: Any) -> int:
    GUARD.check(path)
    return _OS_OPEN(path, *args, **kwargs)


def _connect(database: Any, *args: Any, **kwargs: Any) -> sqlite3.Connection:
    GUARD.check(database)
    return _CONNECT(database, *args, **kwargs)


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    GUARD.take()
    for module in (builtins, io):
        monkeypatch.setattr(module, "open", _open)
    monkeypatch.setattr(os, "open", _os_open)
    monkeypatch.setattr(sqlite3, "connect", _connect)
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
