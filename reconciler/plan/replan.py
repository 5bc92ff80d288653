"""``recheck(saved, actual, context, ...)``: is a saved plan still the plan for live state now?

``apply --plan`` reads the saved plan's projects again (the sections it read) and calls this
pure function next to ``build_plan``: it recomputes the operations from the desired facts the
plan stores, against the live state just read, with the guards, rights and policies as they
are now and the allowances the plan recorded. The CLI only prints what it returns and refuses
a stale plan; nothing here reads, writes or prints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler import facts
from reconciler.errors import PlanError
from reconciler.invitations import Expiry
from reconciler.model import LiveContext, State
from reconciler.plan.build import Plan, build_plan
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import GroupUpdate, marked, sending
from reconciler.plan.settings import GuardSettings, Policies

# The problems that depend on the live state and identity of now, not of when it was planned.
RECHECKED = frozenset({"unverified", "permission-denied"})


@dataclass(frozen=True)
class Recheck:
    """What recomputing a saved plan on live state found.

    ``plan``: the saved plan with its guards and rights problems as they are now (what apply
    executes when not ``stale``); ``moved``: project -> the facts that changed since it was
    made, one line each; ``stale``: the operations recomputed now differ, listed in
    ``changes``; ``projects``: the projects to name when refusing it."""

    plan: Plan
    moved: Mapping[str, list[str]]
    stale: bool
    changes: tuple[str, ...]
    projects: tuple[str, ...]


def recheck(
    saved: Plan,
    actual: State,
    context: LiveContext,
    settings: GuardSettings,
    members_per_batch: int | None = None,
    policies: Policies | None = None,
    expiry: Expiry | None = None,
) -> Recheck:
    """The saved plan checked against ``actual`` (read now, as ``context``'s identity), with
    the invitations known expired now (``expiry``).

    PlanError when the plan was made as another identity (``check_identity``)."""
    check_identity(saved, context)
    numbers = sorted(saved.desired)
    desired = State(tuple(facts.project_from_facts(saved.desired[n]) for n in numbers))
    again = build_plan(
        desired, actual, context, settings, saved.allow, members_per_batch, policies, expiry
    )
    moved = {
        n: facts.changes(n, saved.live.get(n), _live_facts(actual, n))
        for n in numbers
        if saved.live.get(n) != _live_facts(actual, n)
    }
    stale = _meaning(again.operations) != _meaning(saved.operations)
    kept = tuple(p for p in saved.problems if p.code not in RECHECKED)
    fresh = tuple(p for p in again.problems if p.code in RECHECKED)
    return Recheck(
        plan=dataclasses.replace(saved, guards=again.guards, problems=(*kept, *fresh)),
        moved=moved,
        stale=stale,
        changes=tuple(_operation_changes(saved.operations, again.operations)) if stale else (),
        projects=tuple(sorted(moved) or sorted({op.project for op in again.operations})),
    )


def check_identity(saved: Plan, context: LiveContext) -> None:
    """PlanError when the plan was made as another identity than the session's: its guards
    protected that one."""
    if saved.identity and context.identity and saved.identity != context.identity:
        raise PlanError(
            f"refusing to apply: the plan was made as {saved.identity}; this session is "
            f"{context.identity}. Nothing was written. Apply it with the plan's credentials, "
            "or plan again as this identity"
        )


def deleting(saved: Plan) -> list[str]:
    """The projects the saved plan deletes (their read includes what deleting needs)."""
    return [op.project for op in saved.operations if op.kind is OpKind.DELETE_PROJECT]


def _live_facts(actual: State, number: str) -> facts.Facts | None:
    project = actual.project(number)
    return facts.project_facts(project) if project is not None else None


def _meaning(operations: Sequence[Operation]) -> list[dict[str, object]]:
    """An operation as what it does: everything but the manifest location it came from and
    the mark of a re-invitation (an add is the same request whether or not the job that
    applies has the invitation ledger the planning job had)."""
    return [
        {k: v for k, v in _unmarked(op).to_dict().items() if k != "source"} for op in operations
    ]


def _unmarked(op: Operation) -> Operation:
    """``op`` without the marks of a re-invitation."""
    if op.kind is OpKind.UPDATE_GROUP:
        update = GroupUpdate.of(op)
        return op.carrying(dataclasses.replace(update, expired_members={}))
    if op.kind in (OpKind.ADD_MEMBER, OpKind.ADD_OWNER) and sending(op).expired:
        return op.carrying(marked(op, dataclasses.replace(sending(op), expired=None)))
    return op


def _operation_changes(saved: Sequence[Operation], now: Sequence[Operation]) -> list[str]:
    before = {op.id: op for op in saved}
    after = {op.id: op for op in now}
    lines = [f"no longer planned: {i}" for i in before if i not in after]
    lines += [f"now also planned: {i}" for i in after if i not in before]
    lines += [
        f"planned differently now: {i}"
        for i in before
        if i in after and _meaning([before[i]]) != _meaning([after[i]])
    ]
    return lines
