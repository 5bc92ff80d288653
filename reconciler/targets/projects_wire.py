"""Wire JSON of the deprecated Projects API <-> reconciler.model objects. Pure.

Field names differ from the iTwins API (contract §7.19): ``projectNumber`` is the manifest's
``number``, ``timeZone`` its ``ianaTimeZone``; ``latitude``/``longitude`` are strings on the wire
and numbers in a manifest; ``status`` is lower-case on the wire ("active") and capitalised in a
manifest ("Active"), like the iTwins API. ``class``/``subClass`` read as Endeavor/Project (what
a project is in iTwins terms); ``type`` and ``parent`` do not exist here.

The "Team Member" role (contract §5): the API adds it to every member it adds, so a manifest
could never remove it, and declaring it everywhere would be noise. This backend therefore hides
it: it is never read as a project role nor as a member's role, never deleted, and kept (sent
again) whenever a member's roles are replaced. A member holding only "Team Member" (a basic team
member, added with no role) is not read at all: a manifest member needs at least one role, so it
could never be declared, and reading it would make every authoritative ``members`` section plan
its removal. Such members are therefore outside what manifests manage on this backend; giving
one a role in a manifest turns it into a managed member (the add becomes a role update).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.errors import ItwinAccessError
from reconciler.model import Manage, Project, Scalar, UserMember
from reconciler.targets.common_wire import email_of, role_ids, text, to_role

JSON = dict[str, Any]

TEAM_MEMBER = "Team Member"
# The sections this backend can express; live projects carry exactly these (design.md §2).
SECTIONS: tuple[str, ...] = ("roles", "members")
# Manifest attribute -> Projects API field.
FIELDS: Mapping[str, str] = {
    "displayName": "displayName",
    "status": "status",
    "dataCenterLocation": "dataCenterLocation",
    "geographicLocation": "geographicLocation",
    "latitude": "latitude",
    "longitude": "longitude",
    "ianaTimeZone": "timeZone",
}
# Every Projects API project is what the iTwins API calls an Endeavor of subClass Project: live
# projects say so, so a manifest may too, and export writes it (it is what a migration creates).
FIXED: Mapping[str, str] = {"class": "Endeavor", "subClass": "Project"}
UNSUPPORTED_ATTRIBUTES = ("type", "parent")


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            return float(value)
        except ValueError:
            return None
    return None


def attributes(project: Mapping[str, Any]) -> dict[str, Scalar]:
    """Manifest attributes of a live project; fields the server left null are left out."""
    out: dict[str, Scalar] = dict(FIXED)
    for name, field in FIELDS.items():
        value = project.get(field)
        if name in ("latitude", "longitude"):
            out_value: Scalar = _number(value)
        elif name == "status":
            status = text(value)
            out_value = status.capitalize() if status else None
        else:
            out_value = text(value)
        if out_value is not None:
            out[name] = out_value
    return out


def project_fields(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Manifest attributes -> Projects API request fields (``None`` clears a field)."""
    out: dict[str, Any] = {}
    for name, value in attrs.items():
        if name == "number":
            out["projectNumber"] = value
            continue
        if name in FIXED and value == FIXED[name]:
            continue
        if name in UNSUPPORTED_ATTRIBUTES or name in FIXED:
            raise ItwinAccessError(
                f"the projects backend has no project attribute {name!r}; remove it from the "
                "manifest or use the itwins backend"
            )
        field = FIELDS.get(name)
        if field is None:
            continue
        if name in ("latitude", "longitude") and value is not None:
            value = _wire_number(value)
        elif name == "status" and isinstance(value, str):
            value = value.lower()
        out[field] = value
    return out


def _wire_number(value: object) -> str:
    number = float(value) if isinstance(value, int | float | str) else 0.0
    return repr(number) if number != int(number) else str(int(number))


def member_roles(member: Mapping[str, Any]) -> frozenset[str]:
    """Role names of a member, "Team Member" hidden. Roles come as objects with
    ``Prefer: return=representation`` and as bare names without it (contract §7.9)."""
    names: set[str] = set()
    roles = member.get("roles")
    for role in roles if isinstance(roles, list) else []:
        name = text(role.get("displayName")) if isinstance(role, dict) else text(role)
        if name and name != TEAM_MEMBER:
            names.add(name)
    return frozenset(names)


def to_member(member: Mapping[str, Any]) -> UserMember:
    return UserMember(
        email=email_of(member.get("email")), roles=member_roles(member), id=text(member.get("id"))
    )


def basic_team_members(members: Iterable[Mapping[str, Any]]) -> list[str]:
    """Who ``project`` leaves out: members holding only "Team Member", each as its email, or
    its id when the user was deleted from IMS (for ``export``'s warnings)."""
    out = []
    for row in members:
        member = to_member(row)
        if not member.roles:
            out.append(member.email or f"id {member.id} (a user deleted from IMS)")
    return out


def project(live: Mapping[str, Any], roles: list[JSON], members: list[JSON]) -> Project:
    role_ids(roles)  # refuse duplicate role names early
    people: dict[str, UserMember] = {}
    for row in members:
        member = to_member(row)
        if member.roles:  # a basic team member ("Team Member" only) is not managed
            people[member.key] = member
    return Project(
        number=str(live.get("projectNumber")),
        attributes=attributes(live),
        # Only what this backend can express: export then writes no groups and no owners.
        manage=dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE),
        roles=tuple(
            to_role(r)
            for r in roles
            if text(r.get("displayName")) and r.get("displayName") != TEAM_MEMBER
        ),
        members=tuple(people.values()),
        id=text(live.get("id")),
    )
