"""Model objects to manifest mappings (design.md §4), in a stable key order.

The mappings are plain dicts/lists ready for ``yamlout.dump``. Whatever a manifest cannot say is
left out and reported as a note: live "missing users" (deleted from IMS, no email) cannot be
named by email, so an authoritative section will plan their removal, which is the cleanup the
API documentation recommends anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.export.yamlout import Flow
from reconciler.model import PROJECT_ATTRIBUTES, SECTIONS, Manage, Project, Role

RoleDef = tuple[str, str | None, frozenset[str]]  # (displayName, description, permissions)


def role_def(role: Role) -> RoleDef:
    return (role.display_name, role.description, role.permissions)


def role_mapping(role: Role) -> dict[str, Any]:
    out: dict[str, Any] = {"displayName": role.display_name}
    if role.description is not None:
        out["description"] = role.description
    out["permissions"] = Flow(sorted(role.permissions))
    return out


@dataclass
class ProjectDocument:
    """One project as a manifest mapping, plus notes for the file header."""

    mapping: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def project_mapping(
    project: Project,
    role_refs: Sequence[str] = (),
    shared: frozenset[RoleDef] = frozenset(),
    manage: Mapping[str, Manage] | None = None,
) -> ProjectDocument:
    """The manifest mapping of ``project``.

    ``role_refs`` are role-set names used by the project (``- use: NAME``) and ``shared`` the role
    definitions those sets provide (left out of the inline roles). ``manage`` says which sections
    to write and how; by default the project's own ``manage`` (a live project read by a target
    carries exactly the sections that backend can express).
    """
    modes = project.manage if manage is None else manage
    notes: list[str] = []
    out: dict[str, Any] = {"number": project.number}
    for name in PROJECT_ATTRIBUTES:
        value = project.attributes.get(name)
        if value is not None:
            out[name] = value
    if project.state.value != "present":
        out["state"] = project.state.value
    sections = [s for s in SECTIONS if s in modes]
    if sections:
        out["manage"] = {s: Manage(modes[s]).value for s in sections}
    if "roles" in modes:
        roles: list[dict[str, Any]] = [{"use": name} for name in role_refs]
        roles += [role_mapping(r) for r in project.roles if role_def(r) not in shared]
        out["roles"] = roles
    if "groups" in modes:
        out["groups"] = [
            _group_mapping(g.name, g.description, g.members, g.ims_groups) for g in project.groups
        ]
    if "owners" in modes:
        owners = []
        for owner in project.owners:
            if owner.email is None:
                notes.append(_missing("owner", owner.id))
            else:
                owners.append(owner.email)
        out["owners"] = owners
    if "members" in modes:
        members: list[dict[str, Any]] = []
        for member in project.members:
            if member.email is None:
                notes.append(_missing("member", member.id))
                continue
            if not member.roles:  # cannot be declared (a member needs a role)
                notes.append(f"left out: member {member.email} holds no role")
                continue
            members.append({"email": member.email, "roles": Flow(sorted(member.roles))})
        for gm in project.group_members:
            members.append({"group": gm.group, "roles": Flow(sorted(gm.roles))})
        out["members"] = members
    return ProjectDocument(out, notes)


def _group_mapping(
    name: str, description: str | None, members: frozenset[str], ims_groups: frozenset[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if description is not None:
        out["description"] = description
    out["members"] = sorted(members)
    if ims_groups:
        out["imsGroups"] = sorted(ims_groups)
    return out


def _missing(what: str, member_id: str | None) -> str:
    return (
        f"left out: {what} id {member_id} is a user deleted from IMS (no email); "
        "an authoritative section plans its removal"
    )
