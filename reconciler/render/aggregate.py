"""Identical changes across projects, to be shown once with the projects' list (issue 16).

A role set used by nine projects changes one permission: the plan holds nine ``update_role``
operations that read the same. ``shared_changes`` finds every operation whose words
(``describe``: symbol, headline, details) are the same in two or more projects, so a renderer
can say it once ("~ update role 'Checker' in 9 projects") and leave it out of each project's
own block. Project-level operations (they name their project) and operations a problem is
attached to (their warning belongs beside the project) are never shared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.plan.build import Operation, Plan
from reconciler.plan.kinds import PROJECT, SPECS
from reconciler.render.describe import Described, describe

MIN_PROJECTS = 2


@dataclass(frozen=True)
class SharedChange:
    described: Described  # ``where``: the common manifest location, or "" when they differ
    projects: tuple[str, ...]
    operations: tuple[str, ...]  # ids


def shared_changes(
    plan: Plan, words: Callable[[Operation], Described] = describe
) -> list[SharedChange]:
    """Changes identical in at least ``MIN_PROJECTS`` projects, most widespread first.
    ``words``: how an operation is described (a renderer's ``Words``, which keeps them for
    its own blocks; the identity it names only in a created project's words, never shared)."""
    flagged = {op_id for problem in plan.problems for op_id in problem.operations}
    groups: dict[tuple[str, str, tuple[str, ...]], list[tuple[str, str, Described]]] = {}
    for op in plan.operations:
        if SPECS[op.kind].section == PROJECT or op.id in flagged:
            continue
        d = words(op)
        groups.setdefault((d.symbol, d.headline, d.details), []).append((op.project, op.id, d))
    shared: list[SharedChange] = []
    for members in groups.values():
        projects = tuple(dict.fromkeys(project for project, _, _ in members))
        if len(projects) < MIN_PROJECTS:
            continue
        first = members[0][2]
        wheres = {d.where for _, _, d in members}
        where = first.where if len(wheres) == 1 else ""
        described = Described(first.symbol, first.headline, first.details, where)
        shared.append(SharedChange(described, projects, tuple(i for _, i, _ in members)))
    shared.sort(key=lambda s: (-len(s.projects), s.described.headline))
    return shared


def projects_lines(
    projects: Sequence[str], label: str = "projects: ", width: int = 88, limit: int = 60
) -> list[str]:
    """The projects' numbers wrapped to ``width`` (a code block does not wrap; a long line is
    cut off at the right edge of a review), at most ``limit`` named, then "and N more"."""
    names = [f"{p}," for p in projects[:limit]]
    if names:
        names[-1] = names[-1][:-1]
    if len(projects) > limit:
        names.append(f"and {len(projects) - limit} more")
    lines: list[str] = []
    current = label
    for name in names:
        if len(current) + len(name) + 1 > width and current.strip() != label.strip():
            lines.append(current.rstrip())
            current = " " * len(label)
        current += name + " "
    lines.append(current.rstrip())
    return lines
