"""The access impact as Markdown, the first block of the pull-request comment (issue 16).

A bold headline ("Access changes: 3 people gain, 1 loses"), the flags in a warning block, then a
table: who, gains, losses, in which projects, one row per identical change. Rows stop at
``MAX_IMPACT_ROWS`` or when the block would pass ``budget`` characters ("... and N more"), so
the operations after it always keep room in a 60,000-character comment.
"""

from __future__ import annotations

import html

from reconciler.impact import Impact
from reconciler.render.impact_words import (
    flag_group_text,
    flag_groups,
    gains_text,
    losses_text,
    row_projects_text,
    rows,
    who_row,
)

MAX_IMPACT_ROWS = 60
MAX_FLAGS = 10  # flag lines (each for every person with the same flag)
MAX_NAMES = 3  # people named in one cell or flag line
MAX_PROJECTS = 3  # projects named in one cell
IMPACT_BUDGET = 20_000  # characters; a third of the comment


def impact_markdown(impact: Impact, budget: int = IMPACT_BUDGET) -> str:
    lines = [f"**{impact.headline()}**" + ("." if not impact.changes else "")]
    if not impact.changes:
        return "\n".join(lines) + "\n"
    groups = flag_groups(impact)
    if groups:
        lines += ["", "> [!WARNING]"]
        # Identical flags are one line naming a few people, so a hundred invited outsiders
        # neither fill the first screen nor hide a removed owner.
        lines += [f"> - {flag_group_text(g, _code, MAX_NAMES)}" for g in groups[:MAX_FLAGS]]
        if len(groups) > MAX_FLAGS:
            lines.append(f"> - ... and {len(groups) - MAX_FLAGS} more (see the JSON plan)")
    lines += ["", "| Who | Gains | Loses | Where |", "|---|---|---|---|"]
    table = rows(impact)
    size = sum(len(line) + 1 for line in lines)
    shown = 0
    for item in table:
        row = (
            f"| {_cell(who_row(item, MAX_NAMES))} "
            f"| {_cell(gains_text(item.sample, _code, signs=False), code=True)} "
            f"| {_cell(losses_text(item.sample, _code, signs=False), code=True)} "
            f"| {_cell(row_projects_text(item, _code, MAX_PROJECTS), code=True)} |"
        )
        if shown >= MAX_IMPACT_ROWS or size + len(row) + 200 > budget:
            break
        lines.append(row)
        size += len(row) + 1
        shown += 1
    if shown < len(table):
        lines.append(f"| ... and {len(table) - shown} more (see the JSON plan) | | | |")
    if not impact.domains:
        lines += [
            "",
            "<sub>Set `policies: {domains: [...]}` in the config to flag people outside "
            "the organization.</sub>",
        ]
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    # A code span cannot hold a backtick; a table cell cannot hold a bare pipe.
    return "`" + text.replace("`", "'") + "`"


def _cell(text: str, code: bool = False) -> str:
    """Text safe in a table cell: no HTML, no row breaks; code spans are already quoted."""
    escaped = text if code else html.escape(text, quote=False)
    return escaped.replace("|", "\\|").replace("\n", " ")
