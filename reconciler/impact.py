"""Access impact: who gains or loses which permissions, computed from a plan and the live state.

Pure: no I/O. A reviewer reads operations in terms of roles, groups and invitations; this module
says what they mean for people. For every project of the plan it replays the operations on the
live project (``effective.after_project``), then compares each subject's effective access before
and after:

- a **user** (by email) holds the permissions of the roles given to them directly, of the roles
  given to every group listing them, and, as an owner, every permission;
- a **group** (by name, with its members) holds the permissions of its own roles.

What comes only through a pending invitation (a live one, or an add the API will turn into an
invitation because the person is outside the organization's email domains, itwin-api.md §4) is
marked pending: it is granted when the person accepts. Owners hold every permission, so an
ownership change is said once ("becomes owner", "loses ownership") rather than as a list.

Flags for a reviewer: a person outside the organization's domains gaining any
``administration_*`` permission (or ownership), new owners, removed owners. With no domains
configured nobody is counted as outside.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.effective import (
    GROUP,
    USER,
    Access,
    access_by_subject,
    after_project,
    outside,
)
from reconciler.model import Project, State
from reconciler.plan.operations import Operation, OpKind

__all__ = [
    "ADMIN_PREFIX",
    "EXTERNAL_ADMIN",
    "GAINED",
    "GROUP",
    "IMPACT_FORMAT_VERSION",
    "LOST",
    "NEW_OWNER",
    "REMOVED_OWNER",
    "USER",
    "Aggregate",
    "Change",
    "Flag",
    "Impact",
    "changes_in",
    "compute_impact",
]

IMPACT_FORMAT_VERSION = 1
ADMIN_PREFIX = "administration_"
GAINED = "gained"
LOST = "lost"
EXTERNAL_ADMIN = "external-admin"
NEW_OWNER = "new-owner"
REMOVED_OWNER = "removed-owner"


# ------------------------------------------------------------------------------ changes


@dataclass(frozen=True)
class Change:
    """What one subject gains and loses in one project."""

    kind: str  # USER or GROUP
    name: str  # email or group name
    project: str
    gained: frozenset[str] = frozenset()
    lost: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()  # of ``gained``: granted once an invitation is accepted
    owner: str = ""  # GAINED, LOST or ""
    owner_pending: bool = False
    external: bool = False
    members: tuple[str, ...] = ()  # groups: their members after the plan (before, if deleted)
    via: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @property
    def gains(self) -> bool:
        return bool(self.gained) or self.owner == GAINED

    @property
    def loses(self) -> bool:
        return bool(self.lost) or self.owner == LOST

    def delta(self) -> tuple[frozenset[str], frozenset[str], frozenset[str], str, bool]:
        """What makes two changes "the same" across projects."""
        return (self.gained, self.lost, self.pending, self.owner, self.owner_pending)


def changes_in(
    number: str,
    before: Project | None,
    after: Project | None,
    is_external: Callable[[str], bool] = lambda email: False,
) -> list[Change]:
    """Every subject whose effective access differs between ``before`` and ``after``."""
    old, new = access_by_subject(before), access_by_subject(after)
    found: list[Change] = []
    for subject in sorted(set(old) | set(new)):
        a, b = old.get(subject, Access()), new.get(subject, Access())
        if a == b:
            continue
        kind, name = subject
        owner = ""
        if bool(a.owner) != bool(b.owner):
            owner = GAINED if b.owner else LOST
        gained: frozenset[str] = frozenset()
        lost: frozenset[str] = frozenset()
        # Owners hold every permission: while someone is (or becomes, or stops being) an
        # owner, the ownership says it all. A permission moving between pending and active
        # is not the plan's doing (someone accepted an invitation).
        if not (a.owner or b.owner):
            gained, lost = b.permissions - a.permissions, a.permissions - b.permissions
        pending = frozenset(p for p in gained if p in b.pending)
        if not (gained or lost or owner):
            continue
        found.append(
            Change(
                kind,
                name,
                number,
                gained,
                lost,
                pending,
                owner,
                owner == GAINED and b.owner == "pending",
                kind == USER and is_external(name),
                b.members or a.members,
                via={p: b.via.get(p) or a.via.get(p) or () for p in gained | lost},
            )
        )
    return found


@dataclass(frozen=True)
class Flag:
    flag: str  # EXTERNAL_ADMIN, NEW_OWNER, REMOVED_OWNER
    name: str
    project: str
    permissions: tuple[str, ...] = ()  # EXTERNAL_ADMIN: the administration_* gained

    def text(self) -> str:
        if self.flag == EXTERNAL_ADMIN:
            what = ", ".join(self.permissions) if self.permissions else "ownership"
            return f"{self.name} (outside the organization) gains {what}"
        if self.flag == NEW_OWNER:
            return f"{self.name} becomes an owner"
        return f"{self.name} is no longer an owner"


@dataclass(frozen=True)
class Aggregate:
    """One subject's identical change in several projects."""

    change: Change  # the first project's (its ``project`` is the first of ``projects``)
    projects: tuple[str, ...]


@dataclass(frozen=True)
class Impact:
    changes: tuple[Change, ...] = ()
    created: tuple[str, ...] = ()  # projects the plan creates
    deleted: tuple[str, ...] = ()  # projects the plan deletes
    domains: tuple[str, ...] = ()  # the organization's email domains (empty: not configured)

    def people(self) -> tuple[Aggregate, ...]:
        return _aggregate(c for c in self.changes if c.kind == USER)

    def groups(self) -> tuple[Aggregate, ...]:
        return _aggregate(c for c in self.changes if c.kind == GROUP)

    def counts(self) -> dict[str, int]:
        users = [c for c in self.changes if c.kind == USER]
        return {
            "gain": len({c.name for c in users if c.gains}),
            "lose": len({c.name for c in users if c.loses}),
            "groups": len({c.name for c in self.changes if c.kind == GROUP}),
        }

    def flags(self) -> tuple[Flag, ...]:
        found: list[Flag] = []
        for c in self.changes:
            if c.kind != USER:
                continue
            admin = tuple(sorted(p for p in c.gained if p.startswith(ADMIN_PREFIX)))
            if c.external and (admin or c.owner == GAINED):
                found.append(Flag(EXTERNAL_ADMIN, c.name, c.project, admin))
            if c.owner == GAINED:
                found.append(Flag(NEW_OWNER, c.name, c.project))
            elif c.owner == LOST:
                found.append(Flag(REMOVED_OWNER, c.name, c.project))
        order = {EXTERNAL_ADMIN: 0, REMOVED_OWNER: 1, NEW_OWNER: 2}
        return tuple(sorted(found, key=lambda f: (order[f.flag], f.name, f.project)))

    def headline(self) -> str:
        if not self.changes:
            return "Access changes: nobody gains or loses a permission"
        n = self.counts()
        people = "person" if n["gain"] == 1 else "people"
        text = f"Access changes: {n['gain']} {people} gain, {n['lose']} lose"
        if n["lose"] == 1:
            text += "s"
        if n["groups"]:
            text += f" ({n['groups']} group{'s' if n['groups'] != 1 else ''} change)"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The versioned ``impact`` key of the JSON plan (documented in render.json)."""

        def entry(a: Aggregate) -> dict[str, Any]:
            c = a.change
            item: dict[str, Any] = {
                "name": c.name,
                "projects": list(a.projects),
                "gained": sorted(c.gained),
                "lost": sorted(c.lost),
                "pending": sorted(c.pending),
                "owner": c.owner or None,
            }
            if c.kind == USER:
                item["external"] = c.external
                item["ownerPending"] = c.owner_pending
            else:
                item["members"] = list(c.members)
            return item

        return {
            "format_version": IMPACT_FORMAT_VERSION,
            "summary": self.counts(),
            "domains": list(self.domains),
            "createdProjects": list(self.created),
            "deletedProjects": list(self.deleted),
            "people": [entry(a) for a in self.people()],
            "groups": [entry(a) for a in self.groups()],
            "flags": [
                {
                    "flag": f.flag,
                    "name": f.name,
                    "project": f.project,
                    "permissions": list(f.permissions),
                }
                for f in self.flags()
            ],
        }


def _aggregate(changes: Iterable[Change]) -> tuple[Aggregate, ...]:
    """Identical changes of one subject across projects, once, with the projects' list."""
    grouped: dict[tuple[str, Any], list[Change]] = {}
    for c in changes:
        grouped.setdefault((c.name, c.delta()), []).append(c)
    result = [Aggregate(cs[0], tuple(c.project for c in cs)) for cs in grouped.values()]
    return tuple(sorted(result, key=lambda a: (not a.change.owner, a.change.name, a.projects)))


def compute_impact(
    operations: Sequence[Operation],
    actual: State,
    domains: Collection[str] = (),
) -> Impact:
    """The access impact of ``operations`` (a plan's) on ``actual`` (the live state read)."""
    is_external = outside(domains)
    by_project: dict[str, list[Operation]] = {}
    for op in operations:
        by_project.setdefault(op.project, []).append(op)
    changes: list[Change] = []
    created: list[str] = []
    deleted: list[str] = []
    live_projects = {p.number: p for p in actual.projects}
    for number, ops in by_project.items():
        live = live_projects.get(number)
        kinds = {op.kind for op in ops}
        if OpKind.CREATE_PROJECT in kinds:
            created.append(number)
        if OpKind.DELETE_PROJECT in kinds:
            deleted.append(number)
        after = after_project(live, number, ops, is_external)
        changes.extend(changes_in(number, live, after, is_external))
    return Impact(tuple(changes), tuple(created), tuple(deleted), tuple(sorted(domains)))
