"""Extract role definitions shared by several projects into named role sets.

A role definition is (displayName, description, permissions). Every definition used identically
by two or more projects is shared. Shared definitions used by exactly the same projects travel
together, so they form one role set; a project then says ``- use: NAME`` once per set instead of
repeating the roles. Names come from the role names, so they read well in a pull request, and
are made unique in a fixed order, so the same live state always exports the same text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.export.documents import RoleDef, role_def
from reconciler.model import Project


@dataclass(frozen=True)
class RoleSet:
    name: str
    roles: tuple[RoleDef, ...]  # sorted by displayName
    projects: frozenset[str]  # project numbers using the set


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "roles"


def _name(roles: tuple[RoleDef, ...]) -> str:
    names = [slug(r[0]) for r in roles]
    if len(names) <= 3:
        return "-".join(names)
    return f"{names[0]}-and-{len(names) - 1}-more"


def extract(projects: Iterable[Project]) -> list[RoleSet]:
    """Role sets for the roles of ``projects`` (only projects whose roles are exported)."""
    users: dict[RoleDef, set[str]] = defaultdict(set)
    for project in projects:
        for role in project.roles:
            users[role_def(role)].add(project.number)
    by_projects: dict[frozenset[str], list[RoleDef]] = defaultdict(list)
    for definition, numbers in users.items():
        if len(numbers) >= 2:
            by_projects[frozenset(numbers)].append(definition)
    groups = [
        (numbers, tuple(sorted(defs, key=_def_order))) for numbers, defs in by_projects.items()
    ]
    # Most widely used first; ties broken by content so the order (and the names) are stable.
    groups.sort(key=lambda g: (-len(g[0]), [_def_order(d) for d in g[1]], sorted(g[0])))
    taken: set[str] = set()
    result = []
    for users_of_set, defs in groups:
        base = _name(defs)
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        result.append(RoleSet(name, defs, users_of_set))
    return result


def _def_order(definition: RoleDef) -> tuple[str, str, list[str]]:
    name, description, permissions = definition
    return (name, description or "", sorted(permissions))
