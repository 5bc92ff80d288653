"""Facts: a project as plain JSON-able data keyed by object, and what moved between two of them.

Pure. A saved plan stores the facts it was computed from (the live state of each planned project
and the desired state of the manifests) so that ``apply --plan`` can re-read live state,
recompute the operations, and, when they differ, say what moved fact by fact. Objects are
keyed (roles by name, members by email...) rather than listed, so a difference names the object
that moved (``member carol@contoso.com roles [Viewer] -> [Viewer, Contributor]``), not a list
index. Sources (file:line) are not kept: they say where a fact was declared, not what it is.

``changes`` uses deepdiff (a declared dependency for exactly this): it finds every path that
differs, and each is reported at the level of one field of one object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model import (
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    ProjectState,
    Role,
    UserMember,
)

Facts = dict[str, Any]

# Section key in the facts -> the word a person reads in an explanation.
_NOUN = {
    "roles": "role",
    "groups": "group",
    "members": "member",
    "groupMembers": "group member",
    "owners": "owner",
}


def project_facts(p: Project) -> Facts:
    """Every fact of a project, keyed by object (ids and pending flags included)."""
    return {
        "number": p.number,
        "id": p.id,
        "state": p.state.value,
        "attributes": dict(p.attributes),
        "manage": {k: v.value for k, v in sorted(p.manage.items())},
        "roles": {
            r.key: {
                "id": r.id,
                "description": r.description,
                "permissions": sorted(r.permissions),
                **_renamed(r.renamed_from),
            }
            for r in p.roles
        },
        "groups": {
            g.key: {
                "id": g.id,
                "description": g.description,
                "members": sorted(g.members),
                "imsGroups": sorted(g.ims_groups),
                **_renamed(g.renamed_from),
            }
            for g in p.groups
        },
        "members": {
            m.key: {"id": m.id, "email": m.email, "roles": sorted(m.roles), "pending": m.pending}
            for m in p.members
        },
        "groupMembers": {m.key: {"id": m.id, "roles": sorted(m.roles)} for m in p.group_members},
        "owners": {o.key: {"id": o.id, "email": o.email, "pending": o.pending} for o in p.owners},
    }


def _renamed(old: str | None) -> Facts:
    """A desired role's or group's ``renamedFrom``, kept only when declared (so facts without
    one read as before)."""
    return {} if old is None else {"renamedFrom": old}


def project_from_facts(data: Mapping[str, Any]) -> Project:
    """Inverse of ``project_facts``; KeyError/TypeError/ValueError on malformed data."""
    return Project(
        number=str(data["number"]),
        id=data.get("id"),
        state=ProjectState(data.get("state", "present")),
        attributes=dict(data.get("attributes", {})),
        manage={str(k): Manage(v) for k, v in data.get("manage", {}).items()},
        roles=tuple(
            Role(
                display_name=name,
                description=r.get("description"),
                permissions=frozenset(r.get("permissions", ())),
                id=r.get("id"),
                renamed_from=r.get("renamedFrom"),
            )
            for name, r in data.get("roles", {}).items()
        ),
        groups=tuple(
            Group(
                name=name,
                description=g.get("description"),
                members=frozenset(g.get("members", ())),
                ims_groups=frozenset(g.get("imsGroups", ())),
                id=g.get("id"),
                renamed_from=g.get("renamedFrom"),
            )
            for name, g in data.get("groups", {}).items()
        ),
        members=tuple(
            UserMember(
                email=m.get("email"),
                roles=frozenset(m.get("roles", ())),
                pending=bool(m.get("pending", False)),
                id=m.get("id"),
            )
            for m in data.get("members", {}).values()
        ),
        group_members=tuple(
            GroupMember(group=name, roles=frozenset(m.get("roles", ())), id=m.get("id"))
            for name, m in data.get("groupMembers", {}).items()
        ),
        owners=tuple(
            Owner(email=o.get("email"), pending=bool(o.get("pending", False)), id=o.get("id"))
            for o in data.get("owners", {}).values()
        ),
    )


def changes(number: str, before: Facts | None, after: Facts | None) -> list[str]:
    """What moved in project ``number`` from ``before`` to ``after`` (None: absent), one line
    per fact: ``BR-2024-001: member carol@contoso.com roles [Viewer] -> [Viewer, Contributor]``."""
    if before is None and after is None:
        return []
    if before is None:
        return [f"{number}: project created"]
    if after is None:
        return [f"{number}: project deleted"]
    # Imported here: only a saved plan's recheck compares facts, and deepdiff (with what it
    # pulls in: asyncio among others) costs every plan and apply a tenth of a second to import.
    from deepdiff import DeepDiff

    found = DeepDiff(before, after, ignore_order=False, view="tree")
    # Each difference is reported once per (section, object, field): deeper paths (a list item,
    # a dict key inside a field) collapse to their field, shown whole before -> after.
    places: dict[tuple[str | int, ...], None] = {}
    for level in (level for report in found.values() for level in report):
        places.setdefault(tuple(level.path(output_format="list"))[:3], None)
    lines = []
    for place in places:
        lines.append(f"{number}: {_describe(place, before, after)}")
    return lines


def _describe(place: tuple[str | int, ...], before: Facts, after: Facts) -> str:
    section = str(place[0])
    if section in _NOUN and len(place) >= 2:
        noun, key = _NOUN[section], str(place[1])
        old = before.get(section, {}).get(key)
        new = after.get(section, {}).get(key)
        if old is None:
            return f"{noun} {key} added{_summary(new)}"
        if new is None:
            return f"{noun} {key} removed"
        if len(place) >= 3:
            field = str(place[2])
            return f"{noun} {key} {field} {_show(old.get(field))} -> {_show(new.get(field))}"
        return f"{noun} {key} changed"
    if section == "attributes" and len(place) >= 2:
        field = str(place[1])
        old_attr = before.get("attributes", {}).get(field)
        new_attr = after.get("attributes", {}).get(field)
        return f"{field} {_show(old_attr)} -> {_show(new_attr)}"
    return f"{section} {_show(before.get(section))} -> {_show(after.get(section))}"


def _summary(facts: Any) -> str:
    if isinstance(facts, dict) and facts.get("roles"):
        pending = " (pending invitation)" if facts.get("pending") else ""
        return f" with roles {_show(facts['roles'])}{pending}"
    return ""


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value is None:
        return "(none)"
    return str(value) if not isinstance(value, str) else value
