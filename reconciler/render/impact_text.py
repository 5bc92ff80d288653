"""The access impact as plain text, printed before the operations (issue 16).

Access changes: 3 people gain, 1 loses (1 group changes)
  ! guest@partner.com (outside the organization) gains administration_remove_member in P1
  ! alice@contoso.com is no longer an owner in P1
  bob@contoso.com: +storage_read in 9 projects (P1, P2, P3, P4, P5 and 4 more)
  group 'Team' (2 members): +storage_read in 9 projects (...)
"""

from __future__ import annotations

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

MAX_ROWS = 100  # rows of the impact before "... and N more": the operations follow it


def impact_text_lines(impact: Impact) -> list[str]:
    lines = [impact.headline() + ("." if not impact.changes else ":")]
    if not impact.changes:
        return lines
    lines += [f"  ! {flag_group_text(g, limit=8)}" for g in flag_groups(impact)]
    table = rows(impact)
    for row in table[:MAX_ROWS]:
        what = "; ".join(t for t in (gains_text(row.sample), losses_text(row.sample)) if t)
        lines.append(f"  {who_row(row)}: {what} {row_projects_text(row)}")
    if len(table) > MAX_ROWS:
        lines.append(f"  ... and {len(table) - MAX_ROWS} more (`--format json` lists each)")
    if not impact.domains:
        lines.append(
            "  (set `policies: {domains: [...]}` in the config to flag people outside "
            "the organization)"
        )
    return lines
