"""The top of every rendered plan: the target line, then the guards the plan lifts.

Small and separate so each renderer calls them first and changes to the rest of a renderer
merge without touching them. A reviewer approving a plan approves the guards it lifts (they
travel with a saved plan and ``apply --plan`` honours them), so they come before the
operations, not after (right after the access impact, which comes first).
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.plan.build import Plan


def target_text(plan: Plan) -> list[str]:
    """The header line naming API, backend, identity and config, and a blank line."""
    return [plan.target.header(), ""] if plan.target is not None else []


def lifted_text(plan: Plan) -> list[str]:
    lifted = [v for v in plan.guards if v.allowed]
    unused = _unused(plan)
    if not lifted and not unused:
        return []
    lines = ["This plan lifts guards (approving it approves these; apply honours them):"]
    lines += [f"  ! {v.guard} (--allow {v.guard}): {v.message}" for v in lifted]
    if unused:
        lines.append(f"  also allowed, not needed by this plan: {', '.join(unused)}")
    return [*lines, ""]


def target_markdown(plan: Plan) -> list[str]:
    if plan.target is None:
        return []
    line = plan.target.header().replace("`", "'")
    return [f"`{line}`", ""]


def lifted_markdown(plan: Plan, inline: Callable[[str], str]) -> list[str]:
    """``inline``: the Markdown renderer's escaping of free text."""
    lifted = [v for v in plan.guards if v.allowed]
    unused = _unused(plan)
    if not lifted and not unused:
        return []
    lines = [
        "> [!IMPORTANT]",
        "> **This plan lifts guards**: approving it approves these (apply honours them).",
    ]
    lines += [f"> - `{v.guard}` (`--allow {v.guard}`): {inline(v.message)}" for v in lifted]
    if unused:
        allowed = ", ".join(f"`{g}`" for g in unused)
        lines.append(f"> - also allowed, not needed by this plan: {allowed}")
    return [*lines, ""]


def _unused(plan: Plan) -> list[str]:
    used = {v.guard for v in plan.guards if v.allowed}
    return [g for g in plan.allow if g not in used]
