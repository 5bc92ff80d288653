"""Repair what racing runs leave: roles and groups that share a name (issue 12).

Pure: no I/O. The target reads such a project as if each name had one object (the one with
the most assignments) and lists the others as ``model.Duplicate``. Here each duplicate becomes
ordinary planned operations: first its assignments move to the kept object (a member or group
holding only the duplicate role is re-given its roles by name, which the target resolves to the
kept role; a duplicate group's roles are given to the kept group), then the duplicate is
deleted. Duplicate role deletions are ``delete_role`` operations, under the role-deletions
guard like any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.model import Duplicate, GroupMember, Project, State
from reconciler.plan.kinds import GROUP_MEMBERS, SPECS
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import (
    GivenRoles,
    GroupDef,
    GroupMemberPayload,
    GroupRoles,
    HeldRoles,
    Invitation,
    MemberPayload,
    Payload,
    RoleDef,
)

DUPLICATE = "duplicate"


def duplicate_key(duplicate: Duplicate) -> str:
    """The key of a duplicate's deletion: its name and id, so it never collides with the
    deletion of the kept object of that name."""
    return f"{duplicate.name} ({DUPLICATE} {duplicate.id})"


def repair_duplicates(operations: Sequence[Operation], actual: State) -> list[Operation]:
    """The operations that merge every live duplicate into the object kept under its name."""
    out: list[Operation] = []
    for live in actual.projects:
        if live.duplicates:
            out.extend(_project(live, [op for op in operations if op.project == live.number]))
    return out


def _project(live: Project, ops: Sequence[Operation]) -> list[Operation]:
    # (is a group, key) of the live members the plan already changes or removes (the registry's
    # ``releases_roles`` kinds): their roles are not moved a second time.
    touched = {
        (SPECS[op.kind].section == GROUP_MEMBERS, op.key)
        for op in ops
        if SPECS[op.kind].releases_roles
    }
    deleted = {(op.kind, op.key) for op in ops}
    out: list[Operation] = []
    for dup in sorted(live.duplicates, key=lambda d: (d.kind, d.name, d.id)):
        if dup.kind == "role":
            role = RoleDef(dup.name, None, (), dup.id)
            deletion = _op(OpKind.DELETE_ROLE, live, duplicate_key(dup), role)
            if (OpKind.DELETE_ROLE, dup.name) not in deleted:
                out.extend(_move_role(live, dup, touched, deletion.id))
        else:
            group = GroupDef(dup.name, None, (), (), dup.id)
            deletion = _op(OpKind.DELETE_GROUP, live, duplicate_key(dup), group)
            if dup.roles and (OpKind.DELETE_GROUP, dup.name) not in deleted:
                out.extend(_move_group_roles(live, dup, touched, deletion.id))
        out.append(deletion)
    return out


def _move_role(
    live: Project, dup: Duplicate, touched: set[tuple[bool, str]], cause: str
) -> list[Operation]:
    out: list[Operation] = []
    for member in live.members:
        if member.key not in dup.holders or (False, member.key) in touched:
            continue
        roles = tuple(sorted(member.roles))
        held = HeldRoles(member.id, member.email, roles, Invitation(member.pending))
        kind = OpKind.REINVITE_MEMBER if member.pending else OpKind.UPDATE_MEMBER
        # Given the same roles by name: the target resolves them to the kept role.
        given = GivenRoles(member.email, roles)
        out.append(_op(kind, live, member.key, MemberPayload(held, given), cause))
    for group in live.group_members:
        if group.key not in dup.holders or (True, group.key) in touched:
            continue
        out.append(_op(OpKind.UPDATE_GROUP_MEMBER, live, group.key, _same_roles(group), cause))
    return out


def _move_group_roles(
    live: Project, dup: Duplicate, touched: set[tuple[bool, str]], cause: str
) -> list[Operation]:
    """The kept group is read holding its duplicates' roles too (``dup.roles`` are those it
    lacks); when the plan does not already set its roles, set them to that union."""
    kept = next((g for g in live.group_members if g.group == dup.name), None)
    if (True, dup.name) in touched or kept is None:
        return []
    return [_op(OpKind.UPDATE_GROUP_MEMBER, live, dup.name, _same_roles(kept), cause)]


def _same_roles(group: GroupMember) -> GroupMemberPayload:
    """A group member given the roles it holds again (by name: the target resolves them)."""
    roles = tuple(sorted(group.roles))
    return GroupMemberPayload(
        GroupRoles(group.group, roles, group.id), GroupRoles(group.group, roles)
    )


def _op(
    kind: OpKind, live: Project, key: str, payload: Payload, cause: str | None = None
) -> Operation:
    return Operation.build(kind, live.number, key, payload, None, live.id, cause)
