"""Plain-text plan in the manner of Terraform, for terminals and CI logs.

One block per project (plan order), one line per operation: ``+`` add/create, ``~`` change,
``-`` remove/delete, the manifest location after ``#`` ("not in manifests" for an undeclared
removal), field-level ``before -> after`` beneath (the guards the plan lifts come before the
operations, see ``reconciler.render.header``). Then guards that block,
preflight problems, and the closing "Plan: N to add, N to change, N to remove.".

``drift=True`` frames the same plan as drift for the ``drift`` command; given ``extras`` (the ids
of the operations that remove unmanaged extras, ``reconciler.export.drift.split_drift``), each
project lists what was "changed outside the manifests" apart from the "unmanaged extras", and the
closing line counts both. Plain strings: ANSI colour only when ``color=True`` (the CLI decides:
TTY, NO_COLOR).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection

from reconciler.impact import Impact
from reconciler.invitations import EXPIRED_CODE
from reconciler.plan.build import Operation, Plan, PlanProblem
from reconciler.render.aggregate import SharedChange, projects_lines, shared_changes
from reconciler.render.describe import (
    Described,
    Words,
    expired_lines,
    invitations_expired,
    listed_problems,
)
from reconciler.render.header import lifted_text, target_text
from reconciler.render.impact_text import impact_text_lines
from reconciler.visible import visible

_ANSI = {"+": "32", "~": "33", "-": "31", "!": "31;1", "bold": "1", "dim": "2"}

NO_CHANGES = "No changes. Live state matches the manifests."
NO_DRIFT = "No drift. Live state matches the manifests."
CHANGED = "changed outside the manifests"
EXTRAS = "unmanaged extras (live, in no manifest; applying the manifests removes them)"
EXPIRED = "invitations expired unaccepted (not drift; applying the manifests invites again)"


def no_changes(plan: Plan, drift: bool = False) -> str:
    """The empty plan's headline; it does not claim a match while something the manifests drop
    is kept on purpose (self-protection), and counts what was kept, nor while invitations that
    expired are not sent again (``invitations.reinviteExpired: false``)."""
    kept = sum(1 for p in plan.problems if p.code == "kept")
    reasons = [f"{kept} owner(s) kept by self-protection"] if kept else []
    if any(p.code == EXPIRED_CODE for p in plan.problems):
        reasons.append("invitations that expired unaccepted are not sent again")
    if not reasons:
        return NO_DRIFT if drift else NO_CHANGES
    word = "drift" if drift else "changes"
    return (
        f"No {word} to make, but live state differs from the manifests: "
        f"{'; '.join(reasons)} (listed under Problems)."
    )


def render_text(
    plan: Plan,
    *,
    drift: bool = False,
    color: bool = False,
    title: str | None = None,
    extras: Collection[str] | None = None,
    impact: Impact | None = None,
    expired: Collection[str] = (),
) -> str:
    """``expired`` (drift, with ``extras``): the ids of the adds re-inviting someone whose
    invitation expired, a category of their own (issue 15)."""

    def paint(style: str, text: str) -> str:
        return f"\033[{_ANSI[style]}m{text}\033[0m" if color else text

    split = extras is not None and drift
    extra_ids = frozenset(extras or ())
    expired_ids = frozenset(expired)

    lines: list[str] = target_text(plan)
    if title:
        lines += [paint("bold", title), ""]
    # Issue 13: the guards the plan lifts, before any operation (after the impact).
    lifted = [paint("!", line) if line.startswith("  !") else line for line in lifted_text(plan)]
    if plan.is_empty:
        lines += lifted
        lines.append(no_changes(plan, drift))
    else:
        if impact is not None:  # issue 16: who gains or loses what, first
            lines += [*impact_text_lines(impact), ""]
        lines += lifted
        if not drift:
            lines.append("itwin-access will perform the following actions:")
        elif split and all(op.id in expired_ids for op in plan.operations):
            # Issue 15: expired invitations alone are nobody's change.
            lines.append(
                "Nothing was changed outside the manifests, but invitations expired unaccepted. "
                "Applying the manifests would:"
            )
        else:
            lines.append(
                "Live state was changed outside the manifests. Applying the manifests would:"
            )
        denied: dict[str, list[PlanProblem]] = defaultdict(list)
        for problem in plan.problems:
            for op_id in problem.operations:
                denied[op_id].append(problem)
        # Issue 16: a change identical in several projects is shown once, before the projects.
        words = Words(plan.identity)
        shared = shared_changes(plan, words) if not split else []
        once = frozenset(i for change in shared for i in change.operations)
        lines += _shared(shared, paint)
        for number, all_ops in plan.by_project().items():
            ops = tuple(op for op in all_ops if op.id not in once)
            if not ops:
                continue
            pid = next((op.project_id for op in ops if op.project_id), None)
            header = visible(f"project {number}" + (f" (id {pid})" if pid else " (new)"))
            if len(ops) < len(all_ops):
                header += f" ({len(all_ops) - len(ops)} shown once above)"
            lines += ["", paint("bold", header)]
            if not split:
                lines += _operations(ops, "  ", denied, paint, words)
                continue
            for label, group in (
                (CHANGED, [op for op in ops if op.id not in extra_ids | expired_ids]),
                (EXTRAS, [op for op in ops if op.id in extra_ids]),
            ):
                if group:
                    lines.append(f"  {label}:")
                    lines += _operations(group, "    ", denied, paint, words)
            late = [op for op in ops if op.id in expired_ids]
            if late:
                lines.append(f"  {EXPIRED}:")
                for op in late:
                    lines += [f"    {line}" for line in expired_lines(op)]
                    lines += _operations([op], "      ", denied, paint, words)
    lines += _guards(plan, paint, drift)
    problems = listed_problems(plan)
    if problems:
        lines += ["", paint("bold", "Problems:")]
        lines += [f"  {problem}" for problem in problems]
    if not plan.is_empty:
        counts = plan.summary()
        tally = (
            f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove"
        )
        if split:
            closing = (
                f"{drift_tally(plan, extra_ids, expired_ids)} (applying the manifests: {tally})."
            )
        else:
            closing = f"{'Drift' if drift else 'Plan'}: {tally}."
        lines += ["", paint("bold", closing)]
    return "\n".join(lines) + "\n"


def drift_tally(plan: Plan, extras: Collection[str], expired: Collection[str]) -> str:
    """The drift tally: N changed outside the manifests, N unmanaged extras, and any
    invitations expired."""
    n_extras = sum(1 for op in plan.operations if op.id in extras)
    late = [op for op in plan.operations if op.id in expired]
    tally = (
        f"Drift: {len(plan.operations) - n_extras - len(late)} changed outside the manifests, "
        f"{n_extras} unmanaged extra{'s' if n_extras != 1 else ''}"
    )
    n_expired = invitations_expired(late)  # people: a group update may re-invite several
    if n_expired:
        tally += f", {n_expired} invitation{'s' if n_expired != 1 else ''} expired"
    return tally


def _shared(shared: list[SharedChange], paint: Callable[[str, str], str]) -> list[str]:
    if not shared:
        return []
    lines = ["", paint("bold", "identical in several projects (shown once):")]
    for change in shared:
        d = change.described
        where = f"  # {d.where}" if d.where else ""
        headline = f"  {d.symbol} {d.headline} in {len(change.projects)} projects"
        lines.append(paint(d.symbol, headline) + paint("dim", where))
        lines += [f"      {detail}" for detail in d.details]
        lines += [f"      {line}" for line in projects_lines(change.projects, limit=1000)]
    return lines


def _operations(
    ops: Collection[Operation],
    indent: str,
    denied: dict[str, list[PlanProblem]],
    paint: Callable[[str, str], str],
    words: Callable[[Operation], Described],
) -> list[str]:
    lines: list[str] = []
    for op in ops:
        d = words(op)
        where = f"  # {d.where}" if d.where else ""
        # Request numbers only matter when a project's member adds need more than one.
        batched = op.batch is not None and any(o.batch for o in ops)
        batch = f" (request {op.batch + 1})" if batched and op.batch is not None else ""
        lines.append(
            paint(d.symbol, f"{indent}{d.symbol} {d.headline}") + paint("dim", batch + where)
        )
        lines += [f"{indent}    {detail}" for detail in d.details]
        for problem in denied.get(op.id, ()):
            lines.append(paint("!", f"{indent}    ! {problem.brief or problem.code}"))
    return lines


def _guards(plan: Plan, paint: Callable[[str, str], str], drift: bool = False) -> list[str]:
    lines: list[str] = []
    if plan.blocked:
        # drift applies nothing itself; it says what an apply of the manifests would meet.
        heading = (
            "Applying the manifests would be blocked by guards:"
            if drift
            else "Blocked by guards (nothing will be applied):"
        )
        lines += ["", paint("!", heading)]
        lines += [f"  ! {v}" for v in plan.blocked]
    return lines
