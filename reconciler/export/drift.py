"""Drift, seen from the manifests: what changed by hand, what was added by hand, how to adopt it.

``split_drift`` sorts the operations of a drift plan (desired = manifests, actual = live) into

- **changed**: objects the manifests manage that someone changed outside them (a role's
  permissions edited in the portal, a declared member removed or given other roles, an
  attribute changed), and
- **extras**: live objects in authoritative sections that no manifest lists (someone added a
  member or a role by hand); the plan would remove them, and
- **expired**: declared members, owners and group members whose invitation expired
  unaccepted (marked by ``reconciler.invitations``); not drift, the plan re-invites them. A
  group update that does more than re-list them stays "changed" (its lines still say whose
  invitation expired).

``adopt_project`` is the opposite direction: the desired project rewritten so that it describes
the live one, section by section, keeping each section's ``manage`` mode (an additive section
adopts the live values of what it declares, and never lists live extras, which it tolerates).
Planning the adopted project against the same live project gives no operation, except for what
no manifest can express (a "missing user" without an email), which ``adoption_notes`` reports.

Pure: no I/O. Writing the adopted manifests is ``reconciler.export.rewrite``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.invitations import only_expired
from reconciler.model import (
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    Role,
    State,
    UserMember,
)
from reconciler.plan.build import Operation
from reconciler.plan.kinds import SPECS, Drift


@dataclass(frozen=True)
class DriftSplit:
    changed: tuple[Operation, ...]  # managed objects changed outside the manifests
    extras: tuple[Operation, ...]  # live objects in authoritative sections the manifests omit
    # Declared people whose invitation expired unaccepted: not drift (issue 15).
    expired: tuple[Operation, ...] = ()


def _declared_keys(project: Project | None, section: str) -> set[str]:
    if project is None:
        return set()
    items: Iterable[Role | Group | UserMember | GroupMember | Owner] = getattr(project, section)
    return {item.key for item in items}


def split_drift(desired: State, operations: Iterable[Operation]) -> DriftSplit:
    """Split a drift plan's operations into "changed" and "unmanaged extras"."""
    changed: list[Operation] = []
    extras: list[Operation] = []
    expired: list[Operation] = []
    for op in operations:
        # The registry's drift category (reconciler.plan.kinds); for an "extra", the section
        # whose declared keys decide whether the object was listed. Issue 15: an add marked
        # as re-inviting an expired invitation (a group update doing only that) is its own
        # category.
        spec = SPECS[op.kind]
        if only_expired(op):
            expired.append(op)
        elif spec.drift is Drift.EXTRA and op.key not in _declared_keys(
            desired.project(op.project), spec.section
        ):
            extras.append(op)
        else:
            changed.append(op)
    return DriftSplit(tuple(changed), tuple(extras), tuple(expired))


_K = TypeVar("_K", Role, Group, UserMember, GroupMember, Owner)


def _adopt_section(declared: tuple[_K, ...], live: tuple[_K, ...], mode: Manage) -> tuple[_K, ...]:
    # A user deleted from IMS has no email, so no manifest can list it (see adoption_notes).
    expressible = [item for item in live if getattr(item, "email", "") is not None]
    if mode is Manage.AUTHORITATIVE:
        return tuple(expressible)
    # Additive: keep declaring what was declared and still exists, with its live value.
    keys = {item.key for item in declared}
    return tuple(item for item in expressible if item.key in keys)


def adopt_project(want: Project, live: Project) -> Project:
    """``want`` rewritten to describe ``live`` in the sections and attributes it manages."""
    attributes = {
        name: live.attributes[name]
        for name in want.attributes
        if live.attributes.get(name) is not None
    }
    changes: dict[str, object] = {"attributes": attributes}
    for section, fields in (
        ("roles", ("roles",)),
        ("groups", ("groups",)),
        ("members", ("members", "group_members")),
        ("owners", ("owners",)),
    ):
        mode = want.managed(section)
        if mode is None:
            continue
        for name in fields:
            changes[name] = _adopt_section(getattr(want, name), getattr(live, name), mode)
    return want.evolve(**changes)


def adoption_notes(want: Project, live: Project) -> list[str]:
    """What adoption cannot express for this project, one sentence each."""
    notes = []
    for section, items in (("members", live.members), ("owners", live.owners)):
        if want.managed(section) is not Manage.AUTHORITATIVE:
            continue
        for item in items:
            if item.email is None:
                notes.append(
                    f"project {want.number}: {section[:-1]} id {item.id} is a user deleted from "
                    "IMS (no email); no manifest can list it, so the plan still removes it"
                )
    return notes
