"""Terminal habits shared by plan, drift and apply: colour, progress, confirmation, journal.

Everything here writes to stderr except what the caller explicitly sends to stdout: the plan and
JSON are the only stdout output (design.md §6), so `plan > plan.txt` captures exactly the plan.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import click

from reconciler.errors import ItwinAccessError


class Terminated(KeyboardInterrupt):
    """SIGTERM (what CI sends on cancel), raised in the main thread like Ctrl-C so the same
    clean stop runs: nothing new starts, requests in flight finish and are journaled."""


EXIT_TERMINATED = 143  # 128 + SIGTERM, what a shell reports for a process it ended


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises ``Terminated`` in the main thread (elsewhere: no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def sigterm_sets(flag: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM only sets ``flag`` (for a stop at a clean point: an apply
    stops scheduling and records what was in flight); elsewhere than the main thread, no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: flag.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def stream_is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def use_color(stream: IO[str], no_color_flag: bool) -> bool:
    """Colour only on a terminal, never with --no-color or NO_COLOR set to any non-empty value
    (no-color.org: an empty NO_COLOR does not count)."""
    if no_color_flag or os.environ.get("NO_COLOR"):
        return False
    return stream_is_tty(stream)


def warn(message: str) -> None:
    click.echo(message, err=True)


class Progress:
    """A ``(done, total)`` callback drawing progress on stderr.

    On a terminal: one line redrawn in place. Elsewhere, when ``enabled`` is forced (e.g. CI
    logs that want to see life): a line at every 10 % step. Callbacks may arrive from worker
    threads, so drawing is serialised.
    """

    def __init__(self, label: str, *, enabled: bool | None = None, minimum: int = 0) -> None:
        self.label = label
        self.tty = stream_is_tty(sys.stderr)
        self.enabled = self.tty if enabled is None else enabled
        self.minimum = minimum  # below this total, draw nothing: a handful needs no bar
        self._lock = threading.Lock()
        self._last_step = -1
        self._drawn = False
        self._last_draw = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0 or total < self.minimum:
            return
        with self._lock:
            if self.tty:
                now = time.monotonic()
                if done < total and now - self._last_draw < 0.05:
                    return
                self._last_draw = now
                width = 30
                filled = int(width * done / total)
                bar = "#" * filled + "-" * (width - filled)
                sys.stderr.write(f"\r{self.label} [{bar}] {done}/{total}")
                sys.stderr.flush()
                self._drawn = True
                return
            step = (done * 10) // total
            if step != self._last_step:
                self._last_step = step
                sys.stderr.write(f"{self.label}: {done}/{total}\n")
                sys.stderr.flush()

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                sys.stderr.write("\n")
                sys.stderr.flush()
                self._drawn = False


class Journal:
    """``--journal FILE``: one JSON line per operation outcome, appended and flushed each time,
    so a run killed at any instant leaves an exact record of what it did."""

    def __init__(self, path: Path) -> None:
        try:
            # 0600 when created: the journal names every member the apply touched.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
            self._file: IO[str] = os.fdopen(fd, "a", encoding="utf-8")
        except OSError as exc:
            raise ItwinAccessError(f"cannot open journal {path}: {exc.strerror}") from exc
        self._lock = threading.Lock()

    def write(self, row: dict[str, Any]) -> None:
        line = json.dumps({"time": _utc_now(), **row}, sort_keys=True)
        with self._lock:
            self._file.write(line + "\n")
            # Flushed to the OS per line: a SIGKILL then loses nothing already recorded.
            self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def confirm(question: str) -> bool:
    """Ask on the terminal; only called when stdin is one."""
    return click.confirm(question, default=False, err=True)
