"""Markdown plan for a pull-request comment.

Layout: a title and the one-line summary; the access impact when given (who gains or loses
what, ``render.impact_markdown``); a summary table (one row per project with changes, new and
deleted projects marked); guards that block (a caution block) and problems; the changes
identical in several projects, once, with their projects (``render.aggregate``); then one
collapsible ``<details>`` section per project holding a ``diff`` code block of the rest (GitHub
colours ``+``/``-`` lines). Sets (permissions, members, roles) change as deltas. The whole
comment is at most ``max_chars`` (default 60,000; GitHub refuses comments past 65,536): when
cut, it says how much is shown and points at the full JSON or saved plan.

For ``drift`` with ``extras`` (ids of the operations removing unmanaged extras), the headline,
the table and each project's block tell "changed outside the manifests" from "unmanaged
extras" (as ``@@`` lines, which GitHub highlights in a ``diff`` block).
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable, Collection

from reconciler.impact import Impact
from reconciler.plan.build import Operation, OpKind, Plan, PlanProblem
from reconciler.render.aggregate import SharedChange, projects_lines, shared_changes
from reconciler.render.describe import (
    Described,
    Words,
    expired_lines,
    invitations_expired,
    listed_problems,
)
from reconciler.render.header import lifted_markdown, target_markdown
from reconciler.render.impact_markdown import impact_markdown
from reconciler.render.text import CHANGED, EXPIRED, EXTRAS, drift_tally, no_changes
from reconciler.visible import visible

MAX_CHARS = 60_000
MAX_ROWS = 100  # summary-table rows and listed guards/problems before "... and N more"
DEFAULT_HINT = (
    "The full plan is in the JSON output (`itwin-access plan --format json`) "
    "or the saved plan file (`itwin-access plan --out FILE`)."
)


def render_markdown(
    plan: Plan,
    *,
    drift: bool = False,
    title: str | None = None,
    max_chars: int = MAX_CHARS,
    full_plan_hint: str = DEFAULT_HINT,
    extras: Collection[str] | None = None,
    impact: Impact | None = None,
    scope: str | None = None,
    expired: Collection[str] = (),
) -> str:
    """``scope``: which projects were planned and why (``--changed-since``, ``--exclude``,
    ``--shard``), a line under the headline; ``expired`` (drift): ids of the adds re-inviting
    someone whose invitation expired, a category of their own."""
    counts = plan.summary()
    split = frozenset(extras or ()) if drift and extras is not None else None
    heading = title or ("itwin-access drift" if drift else "itwin-access plan")
    head = [*target_markdown(plan), f"### {_inline(heading)}", ""]
    tally = f"{counts['add']} to add, {counts['change']} to change, {counts['remove']} to remove"
    if plan.is_empty:
        head.append(f"**{no_changes(plan, drift)}**")
    elif split is not None:
        head.append(
            f"**{drift_tally(plan, split, expired)}** in {len(plan.projects())} project(s) "
            f"(applying the manifests: {tally})."
        )
    else:
        verb = "Drift" if drift else "Plan"
        head.append(
            f"**{verb}: {tally}** in {len(plan.projects())} project(s){_new_deleted(plan)}."
        )
    if scope:
        head.extend(["", f"_{_inline(scope)}_"])
    blocks: list[str] = ["\n".join(head) + "\n"]
    if impact is not None and not plan.is_empty:
        blocks.append(impact_markdown(impact))  # issue 16: who gains or loses what, first
    lifted = lifted_markdown(plan, _inline)  # issue 13: before any operation
    if lifted:
        blocks.append("\n".join(lifted))
    by_project = plan.by_project()
    if by_project:
        # The summary table comes first; capped so guards and problems always fit after it.
        blocked_projects = {v.project for v in plan.blocked}
        if split is None:
            rows = ["| Project | Add | Change | Remove | |", "|---|--:|--:|--:|---|"]
        else:
            rows = ["| Project | Changed | Unmanaged extras | |", "|---|--:|--:|---|"]
        # New and deleted projects first: past the row cap they would not be seen.
        marked = sorted(by_project.items(), key=lambda item: not _state(item[1]))
        for number, ops in marked[:MAX_ROWS]:
            note = ", ".join(
                n for n in (_state(ops), number in blocked_projects and "blocked") if n
            )
            if split is None:
                c = _counts(ops)
                cells = f"{c['add']} | {c['change']} | {c['remove']}"
            else:
                n_extras = sum(1 for op in ops if op.id in split)
                late = [op for op in ops if op.id in expired]
                cells = f"{len(ops) - n_extras - len(late)} | {n_extras}"
                n_expired = invitations_expired(late)
                if n_expired:
                    note = ", ".join(x for x in (note, f"{n_expired} invitation(s) expired") if x)
            rows.append(f"| `{_code(number)}` | {cells} | {note} |")
        if len(by_project) > MAX_ROWS:
            empty = " |" * (4 if split is None else 3)
            rows.append(f"| ... and {len(by_project) - MAX_ROWS} more project(s) |{empty}")
        blocks.append("\n".join(rows) + "\n")
    if plan.blocked:
        what = (
            "**Applying the manifests would be blocked by guards**:"
            if drift
            else "**Blocked by guards**: nothing will be applied."
        )
        lines = ["> [!CAUTION]", f"> {what}"]
        lines += _capped(
            [f"> - `{v.guard}`: {_inline(v.message)}; {v.how()}" for v in plan.blocked], "> - "
        )
        blocks.append("\n".join(lines) + "\n")
    problems = listed_problems(plan)
    if problems:
        lines = ["**Problems**", ""]
        lines += _capped([f"- {_problem(p)}" for p in problems], "- ")
        blocks.append("\n".join(lines) + "\n")
    # Issue 16: a change identical in several projects is shown once, before the projects.
    words = Words(plan.identity)
    shared = shared_changes(plan, words) if split is None else []
    sections = _shared_section(shared) + _sections(
        plan, split, frozenset(i for s in shared for i in s.operations), frozenset(expired), words
    )
    return _assemble(
        blocks,
        sections,
        max_chars,
        full_plan_hint,
        len(sections) - bool(shared),
        uncounted=bool(shared),
    )


def _new_deleted(plan: Plan) -> str:
    kinds = [op.kind for op in plan.operations]
    new, deleted = kinds.count(OpKind.CREATE_PROJECT), kinds.count(OpKind.DELETE_PROJECT)
    parts = [f"{new} new" if new else "", f"{deleted} deleted" if deleted else ""]
    said = ", ".join(p for p in parts if p)
    return f" ({said})" if said else ""


def _state(ops: tuple[Operation, ...]) -> str:
    """The summary table's mark for a project the plan creates or deletes."""
    kinds = {op.kind for op in ops}
    return (
        "**new**"
        if OpKind.CREATE_PROJECT in kinds
        else ("**deleted**" if OpKind.DELETE_PROJECT in kinds else "")
    )


def _shared_section(shared: list[SharedChange]) -> list[tuple[str, list[str], str]]:
    if not shared:
        return []
    lines: list[str] = []
    for change in shared:
        d = change.described
        where = f"  # {d.where}" if d.where else ""
        n = len(change.projects)
        lines.append(_fence(f"{d.symbol} {d.headline} in {n} projects{where}"))
        lines += [_fence(f"    {detail}") for detail in d.details]
        lines += [_fence(f"    {line}") for line in projects_lines(change.projects)]
    opening = "**Identical in several projects** (shown once):\n\n```diff"
    return [(opening, lines, "```\n")]


def _sections(
    plan: Plan,
    split: frozenset[str] | None,
    shown_once: frozenset[str] = frozenset(),
    expired: frozenset[str] = frozenset(),
    words: Callable[[Operation], Described] | None = None,
) -> list[tuple[str, list[str], str]]:
    """(opening, code lines, closing) per project; ``shown_once``: ids left out (shown above);
    ``expired`` (drift): re-invitations of expired invitations, listed apart; ``words``: the
    operations' descriptions, kept from the shared pass (``Words``)."""
    say = words or Words(plan.identity)
    flagged: dict[str, list[PlanProblem]] = defaultdict(list)
    for problem in plan.problems:
        for op_id in problem.operations:
            flagged[op_id].append(problem)

    def op_lines(ops: Collection[Operation]) -> list[str]:
        lines: list[str] = []
        for op in ops:
            d = say(op)
            where = f"  # {d.where}" if d.where else ""
            lines.append(_fence(f"{d.symbol} {d.headline}{where}"))
            lines += [_fence(f"    {detail}") for detail in d.details]
            lines += [_fence(f"    ! {p.brief or p.code}") for p in flagged.get(op.id, ())]
        return lines

    sections = []
    for number, ops in plan.by_project().items():
        if split is None:
            c = _counts(ops)
            own = [op for op in ops if op.id not in shown_once]
            once = len(ops) - len(own)
            if not own:
                continue  # every change of this project is shown once above
            also = f" ({once} shown once above)" if once else ""
            summary = html.escape(
                visible(f"{number}: +{c['add']} ~{c['change']} -{c['remove']}{also}")
            )
            lines = op_lines(own)
        else:
            changed = [op for op in ops if op.id not in split | expired]
            extra = [op for op in ops if op.id in split]
            late = [op for op in ops if op.id in expired]
            plural = "s" if len(extra) != 1 else ""
            also = f", {invitations_expired(late)} invitation(s) expired" if late else ""
            summary = html.escape(
                visible(f"{number}: {len(changed)} changed, {len(extra)} extra{plural}{also}")
            )
            lines = []
            for label, group in ((CHANGED, changed), (EXTRAS, extra)):
                if group:
                    lines += [f"@@ {label} @@", *op_lines(group)]
            if late:
                lines.append(f"@@ {EXPIRED} @@")
                for op in late:
                    lines += [*map(_fence, expired_lines(op)), *op_lines([op])]
        opening = f"<details><summary><code>{summary}</code></summary>\n\n```diff"
        sections.append((opening, lines, "```\n\n</details>\n"))
    return sections


def _assemble(
    blocks: list[str],
    sections: list[tuple[str, list[str], str]],
    max_chars: int,
    hint: str,
    total: int,
    uncounted: int = 0,
) -> str:
    """Join blocks then sections, cutting line by line when ``max_chars`` would be passed.
    The first ``uncounted`` sections are not a project's (changes shown once)."""
    reserve = 400 + len(hint)  # room for the truncation notice
    budget = max_chars - reserve
    out: list[str] = []
    size = 0
    shown = 0

    def fits(text: str) -> bool:
        return size + len(text) + 1 <= budget

    for block in blocks:
        if not fits(block):
            return _cut(out, shown, total, hint, "the summary")
        out.append(block)
        size += len(block) + 1
    for index, (opening, lines, closing) in enumerate(sections):
        whole = "\n".join([opening, *lines, closing])
        if fits(whole):
            out.append(whole)
            size += len(whole) + 1
            shown += index >= uncounted
            continue
        # Show what fits of this project, closed properly, then stop.
        part = [opening]
        used = len(opening) + len(closing) + 2
        for line in lines:
            if size + used + len(line) + 1 > budget:
                break
            part.append(line)
            used += len(line) + 1
        if len(part) > 1:
            part.append("... (cut)")
            out.append("\n".join([*part, closing]))
        return _cut(out, shown, total, hint, "")
    return "\n".join(out)


def _cut(out: list[str], shown: int, total: int, hint: str, what: str) -> str:
    cut_what = f"{what} was cut; " if what else ""
    notice = (
        f"> [!NOTE]\n> **Truncated**: {cut_what}{shown} of {total} project(s) shown in full, "
        f"to keep this comment under the size limit. {hint}"
    )
    return "\n".join([*out, notice, ""])


def _capped(lines: list[str], prefix: str) -> list[str]:
    if len(lines) <= MAX_ROWS:
        return lines
    return [*lines[:MAX_ROWS], f"{prefix}... and {len(lines) - MAX_ROWS} more (see the full plan)"]


def _counts(ops: tuple[Operation, ...]) -> dict[str, int]:
    return Plan(operations=ops).summary()


def _problem(p: PlanProblem) -> str:
    where = f" `{_code(p.source)}`" if p.source else ""
    return f"**{p.severity}**{where}: {_inline(p.message)}"


def _inline(text: str) -> str:
    """Text safe inside a Markdown paragraph or table cell (no HTML, no table breaks)."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return text.replace("`", "'").replace("|", "\\|")


def _fence(line: str) -> str:
    # A name containing ``` would close the code block early.
    return line.replace("```", "'''")
