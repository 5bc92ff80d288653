"""Words for the access impact, shared by the text and Markdown renderers.

One line per subject and identical change: what is gained (``+permission``), lost
(``-permission``), ownership ("becomes owner", "loses ownership"), pending invitations, and the
projects it happens in (listed up to ``MAX_PROJECTS``, then counted). Flags come first, each
once with its projects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.impact import (
    EXTERNAL_ADMIN,
    GAINED,
    GROUP,
    LOST,
    NEW_OWNER,
    REMOVED_OWNER,
    Aggregate,
    Flag,
    Impact,
)

MAX_PROJECTS = 5  # project numbers named on one line before "and N more"
MAX_PERMISSIONS = 12  # permissions named on one line before "and N more"
MAX_NAMES = 4  # people (or groups) named on one row before "and N more"


@dataclass(frozen=True)
class Row:
    """People (or groups) with the same change, in the union of their projects."""

    aggregates: tuple[Aggregate, ...]
    projects: tuple[str, ...]

    @property
    def sample(self) -> Aggregate:
        return self.aggregates[0]


def rows(impact: Impact) -> list[Row]:
    """One row per identical change: forty engineers gaining the same permission through one
    role set are one row naming a few of them, not forty (the JSON keeps each)."""
    grouped: dict[tuple[object, ...], list[Aggregate]] = {}
    for a in (*impact.people(), *impact.groups()):
        c = a.change
        grouped.setdefault((c.kind, c.external, *c.delta()), []).append(a)
    result = []
    for aggregates in grouped.values():
        projects = sorted({p for a in aggregates for p in a.projects})
        result.append(Row(tuple(aggregates), tuple(projects)))
    return result


def who_row(row: Row, limit: int = MAX_NAMES) -> str:
    if len(row.aggregates) == 1:
        return who(row.sample)
    c = row.sample.change
    noun = "groups" if c.kind == GROUP else "people"
    names = [repr(a.change.name) if c.kind == GROUP else a.change.name for a in row.aggregates]
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    outsiders = " (outside the organization)" if c.external else ""
    return f"{len(names)} {noun}{outsiders}: {shown}{more}"


@dataclass(frozen=True)
class FlagLine:
    flag: Flag
    projects: tuple[str, ...]


def flag_lines(impact: Impact) -> list[FlagLine]:
    """Flags, each identical one (flag, person, permissions) once with its projects."""
    grouped: dict[tuple[str, str, tuple[str, ...]], list[Flag]] = {}
    for f in impact.flags():
        grouped.setdefault((f.flag, f.name, f.permissions), []).append(f)
    return [FlagLine(fs[0], tuple(f.project for f in fs)) for fs in grouped.values()]


def flag_groups(impact: Impact) -> list[list[FlagLine]]:
    """Flag lines of the same kind and permissions together, in flag order."""
    grouped: dict[tuple[str, tuple[str, ...]], list[FlagLine]] = {}
    for line in flag_lines(impact):
        grouped.setdefault((line.flag.flag, line.flag.permissions), []).append(line)
    return list(grouped.values())


_FLAG_GROUP = {
    EXTERNAL_ADMIN: "people outside the organization gain {what}",
    NEW_OWNER: "people become owners",
    REMOVED_OWNER: "people are no longer owners",
}


def flag_group_text(
    group: Sequence[FlagLine], code: Callable[[str], str] = str, limit: int = MAX_NAMES
) -> str:
    """One flag line for several people: "12 people become owners: a (P1), b (P2, P3) ..." ."""
    if len(group) == 1:
        return flag_text(group[0], code)
    first = group[0].flag
    what = ", ".join(code(p) for p in first.permissions) if first.permissions else "ownership"
    head = f"{len(group)} " + _FLAG_GROUP[first.flag].format(what=what)
    named = [
        f"{line.flag.name} ({', '.join(code(p) for p in line.projects[:2])}"
        + (f" and {len(line.projects) - 2} more" if len(line.projects) > 2 else "")
        + ")"
        for line in group[:limit]
    ]
    more = f" and {len(group) - limit} more" if len(group) > limit else ""
    return f"{head}: {', '.join(named)}{more}"


def flag_text(line: FlagLine, code: Callable[[str], str] = str) -> str:
    f = line.flag
    if f.flag == EXTERNAL_ADMIN:
        what = ", ".join(code(p) for p in f.permissions) if f.permissions else "ownership"
        text = f"{f.name} (outside the organization) gains {what}"
    else:
        text = f.text()
    return f"{text} {projects_text(line.projects, code)}"


def projects_text(
    projects: Sequence[str],
    code: Callable[[str], str] = str,
    limit: int = MAX_PROJECTS,
    between: bool = False,
) -> str:
    """``between``: several people's projects, not each one's ("in 9 projects between them")."""
    named = ", ".join(code(p) for p in projects[:limit])
    if len(projects) == 1:
        return f"in {named}"
    more = f" and {len(projects) - limit} more" if len(projects) > limit else ""
    them = " between them" if between else ""
    return f"in {len(projects)} projects{them} ({named}{more})"


def row_projects_text(row: Row, code: Callable[[str], str] = str, limit: int = MAX_PROJECTS) -> str:
    between = len({a.projects for a in row.aggregates}) > 1
    return projects_text(row.projects, code, limit, between)


def who(aggregate: Aggregate) -> str:
    c = aggregate.change
    if c.kind == GROUP:
        count = len(c.members)
        return f"group {c.name!r} ({count} member{'s' if count != 1 else ''})"
    return c.name + (" (outside the organization)" if c.external else "")


def gains_text(aggregate: Aggregate, code: Callable[[str], str] = str, signs: bool = True) -> str:
    c = aggregate.change
    parts: list[str] = []
    if c.owner == GAINED:
        parts.append("becomes owner (every permission)" + (", pending" if c.owner_pending else ""))
    if c.gained:
        parts.append(_permissions("+" if signs else "", sorted(c.gained), code))
        if c.pending:
            parts.append("pending invitation" if c.pending == c.gained else "some pending")
    return "; ".join(parts)


def losses_text(aggregate: Aggregate, code: Callable[[str], str] = str, signs: bool = True) -> str:
    c = aggregate.change
    parts: list[str] = []
    if c.owner == LOST:
        parts.append("loses ownership")
    if c.lost:
        parts.append(_permissions("-" if signs else "", sorted(c.lost), code))
    return "; ".join(parts)


def _permissions(sign: str, names: list[str], code: Callable[[str], str]) -> str:
    # Without signs (a table's Gains/Loses columns say it) the names are comma-separated.
    joiner = " " if sign else ", "
    shown = joiner.join(code(sign + n) for n in names[:MAX_PERMISSIONS])
    if len(names) > MAX_PERMISSIONS:
        shown += f" and {len(names) - MAX_PERMISSIONS} more"
    return shown
