"""Apply: execute a Plan against a Target, in order, recording each outcome.

Pure orchestration: no I/O of its own. All I/O goes through the injected ``Target``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from reconciler.model import LiveContext, State
from reconciler.plan import Operation

Progress = Callable[[int, int], None]  # (done, total)


class Target(Protocol):
    """A backend (iTwins + Access Control, or the legacy Projects API) seen by the core.

    ``read`` returns the live State of the named projects (a project missing live is simply
    absent from it) and the LiveContext the plan's preflight needs. ``execute`` performs one
    API request's worth of work: a single operation, or a batch of add operations of one
    project sharing ``kind`` and ``batch``. It raises ``ApiError`` on failure and treats an
    answer meaning "already so" (e.g. ``OwnerAlreadyExists``) as success, so re-runs converge.
    """

    def read(
        self, numbers: Sequence[str], progress: Progress | None = None
    ) -> tuple[State, LiveContext]: ...

    def execute(self, operations: Sequence[Operation]) -> None: ...
