"""Apply: execute a Plan against a Target, in order, recording each outcome.

Pure orchestration: no I/O of its own. All I/O goes through the injected ``Target``; the CLI
turns outcomes into a journal and progress through the callbacks.

Execution (design.md §5, issue 6):

- Within a project, phases (design.md §5: project, roles, groups, owners, adds and updates,
  removals, deletions, owner removals, project deletion) run in order. Add operations that
  carry a ``batch`` are grouped by (project, kind, batch) and sent in one ``Target.execute``
  call: one API request; so are the operations a target with bulk jobs numbers into one job
  (``job_batches``, optional: the iTwins backend's member adds, role changes and removals),
  placed at the phase of the job's first operation; every other operation is a request of
  its own. A job that did only some of its operations raises ``PartialFailure``: those it
  names failed, the rest were applied.
- The requests of one phase touch different objects and none needs another (every dependency
  below crosses phases), so they run concurrently, as do different projects: at most
  ``concurrency`` requests at a time in all.
- A failed operation stops only what depends on it (``blocked_by``); everything else goes on,
  in its project and in the others. A skipped operation counts as not done, so what depends on
  it is skipped too, naming the failure at the root.

Dependencies are conservative on purpose: an operation is skipped when it *might* need the
failed one, because a skipped operation is finished by the next run, whereas one executed on a
wrong premise (a member given a role that does not exist, the last owner removed) is not.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from reconciler.errors import ApiError, ItwinAccessError, NotLive, PartialFailure
from reconciler.model import LiveContext, State
from reconciler.plan.build import Operation, OpKind
from reconciler.plan.kinds import SPECS, Blocks, Match
from reconciler.plan.payloads import NewProject, given_roles, held_roles

Progress = Callable[[int, int], None]  # (done, total)


class Target(Protocol):
    """A backend (iTwins + Access Control, or the legacy Projects API) seen by the core.

    ``read`` returns the live State of the named projects (a project missing live is simply
    absent from it) and the LiveContext the plan's preflight needs; ``sections`` (number ->
    the sections its manifest manages) lets a backend read only those (issue 17), and
    ``deleting`` names the projects declared ``state: absent``. ``execute`` performs one
    API request's worth of work: a single operation, or a batch of add operations of one
    project sharing ``kind`` and ``batch``, or the operations of one job (``job_batches``
    numbers the operations it sends together in bulk jobs: ``{id: job number}``, empty for
    a backend without jobs). It
    raises ``ApiError`` on failure (``PartialFailure`` when only some of a batch failed) and
    treats an answer meaning "already so" (e.g. ``OwnerAlreadyExists``) as success, so re-runs
    converge.
    """

    def read(
        self,
        numbers: Sequence[str],
        progress: Progress | None = None,
        sections: Mapping[str, Collection[str]] | None = None,
        deleting: Collection[str] = (),
    ) -> tuple[State, LiveContext]: ...

    def execute(self, operations: Sequence[Operation]) -> None: ...

    def job_batches(self, operations: Sequence[Operation]) -> dict[str, int]: ...


class Status(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """What happened to one operation. ``cause`` is the id of the failed operation that made
    this one be skipped; ``code``/``message``/``http_status`` come from the ``ApiError``."""

    operation: Operation
    status: Status
    code: str | None = None
    message: str | None = None
    http_status: int | None = None
    cause: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The journal line: no secrets (an ApiError never carries the token)."""
        op = self.operation
        row: dict[str, Any] = {
            "id": op.id,
            "kind": op.kind.value,
            "project": op.project,
            "status": self.status.value,
            "code": self.code,
        }
        if self.http_status is not None:
            row["httpStatus"] = self.http_status
        if self.message is not None:
            row["message"] = self.message
        if self.cause is not None:
            row["cause"] = self.cause
        return row


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...] = ()
    interrupted: bool = False  # stopped early (Ctrl-C): the rest was neither run nor skipped

    def _with(self, status: Status) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status is status)

    @property
    def applied(self) -> tuple[Outcome, ...]:
        return self._with(Status.APPLIED)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return self._with(Status.FAILED)

    @property
    def skipped(self) -> tuple[Outcome, ...]:
        return self._with(Status.SKIPPED)

    @property
    def complete(self) -> bool:
        """Every operation was applied."""
        return not self.interrupted and all(o.status is Status.APPLIED for o in self.outcomes)

    def projects(self) -> tuple[str, ...]:
        return tuple(sorted({o.operation.project for o in self.outcomes}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "applied": len(self.applied),
            "failed": len(self.failed),
            "skipped": len(self.skipped),
            "interrupted": self.interrupted,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


OnOutcome = Callable[[Outcome], None]


def blocked_by(op: Operation, failed: Operation) -> bool:
    """Whether ``op`` must be skipped because ``failed`` (same project, earlier) did not happen.

    The registry says it (``reconciler.plan.kinds``: ``KindSpec.blocks`` of the failed kind, and
    ``needs_all`` of ``op``'s): a failed create_project holds back everything of its project;
    a failed role create or rename holds back that role's updates and the member changes giving
    it; a failed group create or rename, that group's updates and assignment; a failed add_owner,
    every remove_owner; a member change or removal that failed, deleting a role it still holds
    (and for a group member, deleting that group); a failed update_group, deleting that group;
    any failure, delete_project. Anything else is independent and goes on.
    """
    if op.project != failed.project or op is failed:
        return False
    if SPECS[op.kind].needs_all:
        return True
    return any(_holds_back(rule, op, failed) for rule in SPECS[failed.kind].blocks)


def _holds_back(rule: Blocks, op: Operation, failed: Operation) -> bool:
    if rule.kinds is not None and op.kind not in rule.kinds:
        return False
    if rule.match is Match.PROJECT:
        return True
    if rule.match is Match.SAME_KEY:
        return op.key == failed.key
    if rule.match is Match.GIVES_ROLE:
        return SPECS[op.kind].gives_roles and failed.key in given_roles(op)
    return op.key in held_roles(failed)  # Match.HELD_ROLE


def steps(
    operations: Sequence[Operation], jobs: Mapping[str, int] | None = None
) -> list[list[Operation]]:
    """One project's operations as the requests that carry them, in execution order.

    Sorted by ``sort_key``; operations the target numbered into a bulk job (``jobs``: id ->
    job number) are merged with the others of that job, whatever their kind; else operations
    with a ``batch`` are merged with the others of the same kind and batch (at the position of
    the first); everything else is a step of its own.
    """
    ordered = sorted(operations, key=lambda o: o.sort_key())
    result: list[list[Operation]] = []
    batches: dict[tuple[str, str, int], list[Operation]] = {}
    for op in ordered:
        job = (jobs or {}).get(op.id)
        if op.batch is None and job is None:
            result.append([op])
            continue
        group_key = (
            (op.project, "job", job)
            if job is not None
            else (op.project, op.kind.value, op.batch or 0)
        )
        existing = batches.get(group_key)
        if existing is None:
            batches[group_key] = [op]
            result.append(batches[group_key])
        else:
            existing.append(op)
    return result


def phases(
    operations: Sequence[Operation], jobs: Mapping[str, int] | None = None
) -> list[list[list[Operation]]]:
    """One project's requests (``steps``) in waves that run one after another: by phase
    (design.md §5), and within a phase, a request touching an object an earlier request of
    the phase touches waits for it (plans never hold two such operations, but a saved plan
    is data from outside: keep sort_key order for one object whatever it holds)."""
    waves: dict[tuple[int, int], list[list[Operation]]] = {}
    last_wave: dict[tuple[int, str], int] = {}  # (phase, key) -> wave that last touched it
    for step in steps(operations, jobs):
        phase = step[0].phase
        wave = max((last_wave[(phase, op.key)] + 1 for op in step if (phase, op.key) in last_wave),
                   default=0)  # fmt: skip
        for op in step:
            last_wave[(phase, op.key)] = wave
        waves.setdefault((phase, wave), []).append(step)
    return [waves[key] for key in sorted(waves)]


def created_under(operations: Sequence[Operation]) -> dict[str, Operation]:
    """Child project number -> the parent's create_project, for each project this plan creates
    under a parent it creates too: the child's creation needs the parent's id, so the child
    waits for it (projects otherwise run side by side)."""
    creates = {op.project: op for op in operations if op.kind is OpKind.CREATE_PROJECT}
    waits: dict[str, Operation] = {}
    for number, op in creates.items():
        parent = NewProject.of(op).parent
        if parent is not None and parent != number and parent in creates:
            waits[number] = creates[parent]
    return waits


@dataclass
class _Project:
    """One project's progress: phases still to run, requests in flight, what did not happen."""

    phases: list[list[list[Operation]]]
    in_flight: int = 0
    # Failed or skipped operations, each with the root failure to name.
    not_done: list[tuple[Operation, str]] = field(default_factory=list)


@dataclass
class _Run:
    """Bookkeeping of one apply; touched only by the scheduling thread."""

    total: int
    on_outcome: OnOutcome | None
    on_progress: Progress | None
    outcomes: list[Outcome] = field(default_factory=list)

    def record(self, outcome: Outcome) -> None:
        # Called from the scheduling thread only: a journal writer never sees two at once.
        self.outcomes.append(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        if self.on_progress is not None:
            self.on_progress(len(self.outcomes), self.total)


def _failure(op: Operation, exc: ItwinAccessError) -> Outcome:
    api = exc if isinstance(exc, ApiError) else None
    code = exc.code if isinstance(exc, ApiError | NotLive) else type(exc).__name__
    return Outcome(
        op,
        Status.FAILED,
        code=code,
        message=(api.message or str(api)) if api else str(exc),
        http_status=api.status if api else None,
    )


STOP_POLL_SECONDS = 0.1


def apply_plan(
    plan_operations: Sequence[Operation],
    target: Target,
    *,
    concurrency: int = 8,
    on_outcome: OnOutcome | None = None,
    on_progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> ApplyReport:
    """Execute the operations against ``target`` and report every outcome.

    Scheduling: each project runs its phases in order; the requests of one phase (different
    objects of one project, independent by construction of §5's order) and the requests of
    different projects share one pool of ``concurrency`` workers. A phase starts when the
    previous one of its project has finished, after the skips that its failures imply.

    Never raises for an API failure (that is an outcome). An unexpected exception (a bug) or
    ``KeyboardInterrupt`` (Ctrl-C, or SIGTERM as the CLI maps it) stops starting requests;
    running ones finish and their outcomes are recorded; then it is re-raised. ``stop`` set
    (SIGTERM, as the CLI maps it) does the same without an exception: nothing new starts,
    running requests finish and are recorded, and the report is ``interrupted``.
    """
    by_project: dict[str, list[Operation]] = {}
    for op in plan_operations:
        by_project.setdefault(op.project, []).append(op)
    # A target that sends some operations together in bulk jobs numbers them (issue 17).
    jobs: Mapping[str, int] = target.job_batches(plan_operations)
    projects = {number: _Project(phases(ops, jobs)) for number, ops in sorted(by_project.items())}
    waiting = created_under(plan_operations)  # child -> its parent's create_project
    run = _Run(total=len(plan_operations), on_outcome=on_outcome, on_progress=on_progress)
    if run.on_progress is not None:
        run.on_progress(0, run.total)
    workers = max(1, concurrency)
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="apply")
    # Requests ready to go wait here, not in the pool's queue: at most `workers` futures exist
    # at a time, so each wait() below is over a handful of futures, not thousands.
    ready: deque[tuple[_Project, list[Operation]]] = deque()
    running: dict[Future[None], tuple[_Project, list[Operation]]] = {}

    def next_phase(project: _Project) -> None:
        """Queue the project's next phase that has anything left to run."""
        while project.phases and project.in_flight == 0:
            for step in project.phases.pop(0):
                runnable: list[Operation] = []
                for op in step:
                    cause = next(
                        (root for bad, root in project.not_done if blocked_by(op, bad)), None
                    )
                    if cause is None:
                        runnable.append(op)
                    else:
                        project.not_done.append((op, cause))
                        run.record(Outcome(op, Status.SKIPPED, cause=cause))
                if runnable:
                    ready.append((project, runnable))
                    project.in_flight += 1

    def pump() -> None:
        while ready and len(running) < workers:
            project, ops = ready.popleft()
            running[pool.submit(target.execute, ops)] = (project, ops)

    def settle(future: Future[None]) -> None:
        project, ops = running.pop(future)
        project.in_flight -= 1
        try:
            future.result()
        except PartialFailure as exc:
            for op in ops:
                error = exc.failures.get(op.id)
                if error is None:
                    run.record(Outcome(op, Status.APPLIED))
                else:
                    project.not_done.append((op, op.id))
                    run.record(_failure(op, error))
        except ItwinAccessError as exc:
            for op in ops:
                project.not_done.append((op, op.id))
                run.record(_failure(op, exc))
        else:
            for op in ops:
                run.record(Outcome(op, Status.APPLIED))

    def release(ops: Sequence[Operation]) -> None:
        """Start (or, if it did not happen, skip) the projects waiting for a parent in ``ops``."""
        for create in (op for op in ops if op.kind is OpKind.CREATE_PROJECT):
            parent = projects[create.project]
            root = next((r for bad, r in parent.not_done if bad is create), None)
            for child in [c for c, op in waiting.items() if op is create]:
                del waiting[child]
                if root is None:
                    next_phase(projects[child])
                else:
                    skip(child, root)

    def skip(number: str, root: str) -> None:
        """Skip every operation of a project whose parent was not created."""
        project = projects[number]
        skipped = [op for phase in project.phases for step in phase for op in step]
        project.phases.clear()
        for op in skipped:
            project.not_done.append((op, root))
            run.record(Outcome(op, Status.SKIPPED, cause=root))
        release(skipped)

    interrupted = False
    try:
        for number, project in projects.items():
            if number not in waiting:
                next_phase(project)
        pump()
        # With a stop flag, wake up now and then to look at it (a completion wakes us anyway).
        poll = STOP_POLL_SECONDS if stop is not None else None
        while running:
            done, _ = wait(running, timeout=poll, return_when=FIRST_COMPLETED)
            for future in done:
                project, ops = running[future]
                settle(future)
                release(ops)
                next_phase(project)
            if stop is not None and stop.is_set():
                ready.clear()  # stop scheduling; what is running finishes and is recorded
                continue
            pump()
        if stop is None or not stop.is_set():
            # Still waiting at the end: a parent cycle (validate refuses one; a saved plan is
            # data from outside). Skip them rather than leave them silently undone.
            for child, create in list(waiting.items()):
                if child in waiting:
                    del waiting[child]
                    skip(child, create.id)
    except BaseException:
        interrupted = True
        raise
    finally:
        # On an exception nothing new starts; requests already running finish, and their
        # outcomes are recorded (the journal then says exactly what was done before the stop).
        pool.shutdown(wait=True, cancel_futures=interrupted)
        if interrupted:
            for future in [f for f in running if not f.cancelled()]:
                with contextlib.suppress(BaseException):  # a bug in one must not hide the stop
                    settle(future)
    order = {op.id: i for i, op in enumerate(sorted(plan_operations, key=Operation.sort_key))}
    outcomes = tuple(sorted(run.outcomes, key=lambda o: order.get(o.operation.id, 0)))
    return ApplyReport(outcomes=outcomes, interrupted=len(outcomes) < run.total)
