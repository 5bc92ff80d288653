"""Plain-text plan in the manner of Terraform, for terminals and CI logs.

One block per project (plan order), one line per operation: ``+`` add/create, ``~`` change,
``-`` remove/delete, the manifest location after ``#`` ("not in manifests" for an undeclared
removal), field-level ``before -> after`` beneath. Then guards that block (and those lifted),
preflight problems, and the closing "Plan: N to add, N to change, N to remove.".

``drift=True`` frames the same plan as drift ("changed outside the manifests") for the ``drift``
command. Plain strings: ANSI colour only when ``color=True`` (the CLI decides: TTY, NO_COLOR).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from reconciler.plan import Plan, PlanProblem
from reconciler.render.describe import describe

_ANSI = {"+": "32", "~": "33", "-": "31", "!": "31;1", "bold": "1", "dim": "2"}

NO_CHANGES = "No changes. Live state matches the manifests."
NO_DRIFT = "No drift. Live state matches the manifests."


def render_text(
    plan: Plan, *, drift: bool = False, color: bool = False, title: str | None = None
) -> str:
    def paint(style: str, text: str) -> str:
        return f"\033[{_ANSI[style]}m{text}\033[0m" if color else text

    lines: list[str] = []
    if title:
        lines += [paint("bold", title), ""]
    if plan.is_empty:
        lines.append(NO_DRIFT if drift else NO_CHANGES)
    else:
        lines.append(
            "Live state was changed outside the manifests. Applying the manifests would:"
            if drift
            else "itwin-access will perform the following actions:"
        )
        denied: dict[str, list[PlanProblem]] = defaultdict(list)
        for problem in plan.problems:
            for op_id in problem.operations:
                denied[op_id].append(problem)
        for number, ops in plan.by_project().items():
            pid = next((op.project_id for op in ops if op.project_id), None)
            header = f"project {number}" + (f" (id {pid})" if pid else " (new)")
            lines += ["", paint("bold", header)]
            for op in ops:
                d = describe(op)
                where = f"  # {d.where}" if d.where else ""
                batch = f" (request {op.batch + 1})" if op.batch is not None else ""
                lines.append(
                    paint(d.symbol, f"  {d.symbol} {d.headline}") + paint("dim", batch + where)
                )
                lines += [f"      {detail}" for detail in d.details]
                for problem in denied.get(op.id, ()):
                    lines.append(paint("!", f"      ! {problem.brief or problem.code}"))
    lines += _guards(plan, paint)
    if plan.problems:
        lines += ["", paint("bold", "Problems:")]
        lines += [f"  {problem}" for problem in plan.problems]
    if not plan.is_empty:
        counts = plan.summary()
        verb = "Drift" if drift else "Plan"
        lines += [
            "",
            paint(
                "bold",
                f"{verb}: {counts['add']} to add, {counts['change']} to change, "
                f"{counts['remove']} to remove.",
            ),
        ]
    return "\n".join(lines) + "\n"


def _guards(plan: Plan, paint: Callable[[str, str], str]) -> list[str]:
    lines: list[str] = []
    if plan.blocked:
        lines += ["", paint("!", "Blocked by guards (nothing will be applied):")]
        lines += [f"  ! {v}" for v in plan.blocked]
    lifted = [v for v in plan.guards if v.allowed]
    if lifted:
        lines += ["", "Guards lifted by --allow:"]
        lines += [f"  {v.guard}: {v.message} (allowed)" for v in lifted]
    return lines
