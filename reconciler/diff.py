"""diff: the operations that turn the actual (live) state into the desired (manifest) state.

Pure: no I/O, no ordering beyond a deterministic sort; ``plan`` batches and guards the result.

Semantics (design.md §4 and §5):

- Only projects in the desired state are looked at; a live project absent from it is never
  touched. ``state: absent`` deletes the project (and nothing else is planned for it).
- Only the attributes a manifest declares are compared; a role's or group's ``description`` of
  None is unmanaged.
- A section absent from ``Project.manage`` is not managed. ``additive`` creates and updates the
  declared objects exactly as declared, and never removes an undeclared one; ``authoritative``
  also removes what is live but undeclared (including "missing users", keyed ``id:<id>``).
- Pending invitations count as members with their roles: never re-invited; a role change is a
  ``reinvite_member``; an undeclared one in an authoritative section is a ``cancel_invitation``.
- A member declared with no roles cannot exist: it is removed.
- The applying identity's own ownership is never removed.

Why not deepdiff: every compared value here is a flat scalar or a set of strings, so a plain
comparison is exact and gives the field-level before/after in manifest terms directly; DeepDiff's
path-keyed report would only have to be translated back, at a cost on 1,000-project plans.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from functools import partial
from typing import TypeVar

from reconciler.errors import PlanError
from reconciler.model import (
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    ProjectState,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import (
    Change,
    GivenRoles,
    GroupDef,
    GroupMemberPayload,
    GroupRoles,
    GroupUpdate,
    HeldRoles,
    Invitation,
    MemberPayload,
    NewProject,
    OwnerPayload,
    Payload,
    ProjectDeletion,
    ProjectUpdate,
    Rename,
    RoleDef,
    RoleUpdate,
)

# One section's differ: (desired, live, authoritative: remove what is undeclared) -> operations.
Differ = Callable[[Project, Project, bool], list[Operation]]


def diff(desired: State, actual: State, identity: str | None = None) -> list[Operation]:
    """Every operation needed, sorted by ``Operation.sort_key`` (projects by number, §5 order).

    ``identity`` is the applying identity's lower-cased email: its ownership is always kept.
    """
    live = {p.number: p for p in actual.projects}
    ops: list[Operation] = []
    for want in desired.projects:
        ops.extend(diff_project(want, live.get(want.number), identity))
    return sorted(ops, key=Operation.sort_key)


def diff_project(
    want: Project, live: Project | None, identity: str | None = None
) -> list[Operation]:
    """The operations for one desired project against its live counterpart (None: missing)."""
    number = want.number
    if want.state is ProjectState.ABSENT:
        if live is None:
            return []
        gone = ProjectDeletion(live.id, live.display_name)
        return [_op(OpKind.DELETE_PROJECT, live, "", gone, want.source)]

    ops: list[Operation] = []
    if live is None:
        new = NewProject(number, dict(want.attributes))
        ops.append(Operation.build(OpKind.CREATE_PROJECT, number, "", new, _src(want.source)))
        # The creator becomes the project's owner (itwin-api.md §3.2); nothing else exists yet.
        owners = (Owner(identity),) if identity else ()
        live = Project(number=number, owners=owners)
    else:
        changes = {
            k: Change(live.attributes.get(k), v)
            for k, v in want.attributes.items()
            if live.attributes.get(k) != v
        }
        if changes:
            update = ProjectUpdate(live.id, changes)
            ops.append(_op(OpKind.UPDATE_PROJECT, live, "", update, want.source))

    renames, live = _renames(want, live)
    ops.extend(renames)
    sections: tuple[tuple[str, Differ], ...] = (
        ("roles", _roles),
        ("groups", _groups),
        ("members", _members),
        ("members", _group_members),
        ("owners", partial(_owners, identity=identity)),  # the one that keeps the identity's own
    )
    for section, differ in sections:
        mode = want.managed(section)
        if mode is not None:
            ops.extend(differ(want, live, mode is Manage.AUTHORITATIVE))
    return ops


# ---------------------------------------------------------------------------- sections


def _roles(want: Project, live: Project, remove: bool) -> list[Operation]:
    ops: list[Operation] = []
    have = {r.key: r for r in live.roles}
    for role in want.roles:
        old = have.get(role.key)
        if old is None:
            ops.append(_op(OpKind.CREATE_ROLE, live, role.key, _role(role), role.source))
            continue
        description = None
        if role.description is not None and role.description != old.description:
            description = Change(old.description, role.description)
        permissions = _set_change(old.permissions, role.permissions)
        if description or permissions:
            update = RoleUpdate(old.id, description, permissions)
            ops.append(_op(OpKind.UPDATE_ROLE, live, role.key, update, role.source))
    if remove:
        for old in _undeclared(live.roles, want.roles):
            ops.append(_op(OpKind.DELETE_ROLE, live, old.key, _role(old, old.id)))
    return ops


def _groups(want: Project, live: Project, remove: bool) -> list[Operation]:
    ops: list[Operation] = []
    have = {g.key: g for g in live.groups}
    for group in want.groups:
        old = have.get(group.key)
        if old is None:
            ops.append(_op(OpKind.CREATE_GROUP, live, group.key, _group(group), group.source))
            continue
        description = None
        if group.description is not None and group.description != old.description:
            description = Change(old.description, group.description)
        members = _set_change(old.members, group.members)
        ims_groups = _set_change(old.ims_groups, group.ims_groups)
        if description or members or ims_groups:
            update = GroupUpdate(old.id, description, members, ims_groups)
            ops.append(_op(OpKind.UPDATE_GROUP, live, group.key, update, group.source))
    if remove:
        for old in _undeclared(live.groups, want.groups):
            ops.append(_op(OpKind.DELETE_GROUP, live, old.key, _group(old, old.id)))
    return ops


def _members(want: Project, live: Project, remove: bool) -> list[Operation]:
    ops: list[Operation] = []
    have = {m.key: m for m in live.members}
    for member in want.members:
        old = have.get(member.key)
        if not member.roles:  # a member with no roles cannot exist: it goes
            if old is not None:
                ops.append(_member_removal(live, old, member.source))
            continue
        given = GivenRoles(member.email, tuple(sorted(member.roles)))
        if old is None:
            add = MemberPayload(new=given)
            ops.append(_op(OpKind.ADD_MEMBER, live, member.key, add, member.source))
        elif old.roles != member.roles:
            kind = OpKind.REINVITE_MEMBER if old.pending else OpKind.UPDATE_MEMBER
            change = MemberPayload(_member(old), given)
            ops.append(_op(kind, live, member.key, change, member.source))
    if remove:
        for old in _undeclared(live.members, want.members):
            ops.append(_member_removal(live, old, None))
    return ops


def _group_members(want: Project, live: Project, remove: bool) -> list[Operation]:
    ops: list[Operation] = []
    have = {m.key: m for m in live.group_members}
    for member in want.group_members:
        old = have.get(member.key)
        if not member.roles:
            if old is not None:
                gone = GroupMemberPayload(old=_group_member(old))
                ops.append(_op(OpKind.REMOVE_GROUP_MEMBER, live, old.key, gone, member.source))
            continue
        given = GroupRoles(member.group, tuple(sorted(member.roles)))
        if old is None:
            add = GroupMemberPayload(new=given)
            ops.append(_op(OpKind.ADD_GROUP_MEMBER, live, member.key, add, member.source))
        elif old.roles != member.roles:
            change = GroupMemberPayload(_group_member(old), given)
            ops.append(_op(OpKind.UPDATE_GROUP_MEMBER, live, member.key, change, member.source))
    if remove:
        for old in _undeclared(live.group_members, want.group_members):
            gone = GroupMemberPayload(old=_group_member(old))
            ops.append(_op(OpKind.REMOVE_GROUP_MEMBER, live, old.key, gone))
    return ops


def _owners(want: Project, live: Project, remove: bool, identity: str | None) -> list[Operation]:
    ops: list[Operation] = []
    have = {o.key for o in live.owners}  # a pending owner invitation counts as an owner
    for owner in want.owners:
        if owner.key not in have:
            add = OwnerPayload(owner.email)
            ops.append(_op(OpKind.ADD_OWNER, live, owner.key, add, owner.source))
    if remove:
        for old in _undeclared(live.owners, want.owners):
            if identity is not None and old.key == identity:
                continue  # the applying identity's own ownership is always kept (design.md §4)
            gone = OwnerPayload(old.email, old.id, _invitation(old))
            ops.append(_op(OpKind.REMOVE_OWNER, live, old.key, gone))
    return ops


def _renames(want: Project, live: Project) -> tuple[list[Operation], Project]:
    """Renames (``renamedFrom``) of live roles and groups, and the live project as they leave
    it: the members, groups and assignments follow the new name, so nothing is removed and
    re-added. An old name not live is no rename (done already, or a create); both names live
    is an error, never guessed."""
    ops: list[Operation] = []
    if want.managed("roles") is not None:
        roles = {r.key: r for r in live.roles}
        for role in want.roles:
            old = _renamed(want, "role", role.key, role.renamed_from, roles, role.source)
            if old is not None:
                rename = Rename(str(old.id), old.key, role.key)
                ops.append(_op(OpKind.RENAME_ROLE, live, role.key, rename, role.source))
                live = _rename_role(live, old.key, role.key)
    if want.managed("groups") is not None:
        groups = {g.key: g for g in live.groups}
        for group in want.groups:
            old_g = _renamed(want, "group", group.key, group.renamed_from, groups, group.source)
            if old_g is not None:
                rename = Rename(str(old_g.id), old_g.key, group.key)
                ops.append(_op(OpKind.RENAME_GROUP, live, group.key, rename, group.source))
                live = _rename_group(live, old_g.key, group.key)
    return ops, live


_R = TypeVar("_R", Role, Group)


def _renamed(
    want: Project,
    noun: str,
    new: str,
    old: str | None,
    have: Mapping[str, _R],
    source: Source | None,
) -> _R | None:
    """The live object to rename to ``new``, if any."""
    if old is None or old == new or old not in have:
        return None
    where = f"{source}: " if source else ""
    declared = want.roles if noun == "role" else want.groups
    if any(item.key == old for item in declared):
        raise PlanError(
            f"{where}{noun} {new!r} is renamedFrom {old!r}, which project {want.number} also "
            f"declares; drop renamedFrom or the declaration of {old!r}"
        )
    if new in have:
        raise PlanError(
            f"{where}{noun} {new!r} is renamedFrom {old!r}, but project {want.number} has both "
            f"live; delete or rename one of them by hand, or drop renamedFrom"
        )
    return have[old]


def _rename_role(live: Project, old: str, new: str) -> Project:
    def names(roles: frozenset[str]) -> frozenset[str]:
        return frozenset(new if r == old else r for r in roles)

    return live.evolve(
        roles=tuple(replace(r, display_name=new) if r.key == old else r for r in live.roles),
        members=tuple(replace(m, roles=names(m.roles)) for m in live.members),
        group_members=tuple(replace(g, roles=names(g.roles)) for g in live.group_members),
    )


def _rename_group(live: Project, old: str, new: str) -> Project:
    return live.evolve(
        groups=tuple(replace(g, name=new) if g.key == old else g for g in live.groups),
        group_members=tuple(
            replace(g, group=new) if g.key == old else g for g in live.group_members
        ),
    )


# ---------------------------------------------------------------------------- helpers


def _op(
    kind: OpKind,
    live: Project,
    key: str,
    payload: Payload,
    source: Source | None = None,
) -> Operation:
    return Operation.build(kind, live.number, key, payload, _src(source), live.id)


def _src(source: Source | None) -> str | None:
    return str(source) if source is not None else None


def _set_change(live: frozenset[str], wanted: frozenset[str]) -> Change[tuple[str, ...]] | None:
    """The change of a set field (full sorted lists), or None when it is the same."""
    return Change(tuple(sorted(live)), tuple(sorted(wanted))) if live != wanted else None


_K = TypeVar("_K", Role, Group, UserMember, GroupMember, Owner)


def _undeclared(live: Iterable[_K], declared: Iterable[_K]) -> list[_K]:
    keys = {item.key for item in declared}
    return [item for item in live if item.key not in keys]


def _member_removal(live: Project, old: UserMember, source: Source | None) -> Operation:
    kind = OpKind.CANCEL_INVITATION if old.pending else OpKind.REMOVE_MEMBER
    return _op(kind, live, old.key, MemberPayload(old=_member(old)), source)


def _role(role: Role, live_id: str | None = None) -> RoleDef:
    return RoleDef(role.display_name, role.description, tuple(sorted(role.permissions)), live_id)


def _group(group: Group, live_id: str | None = None) -> GroupDef:
    members, ims_groups = tuple(sorted(group.members)), tuple(sorted(group.ims_groups))
    return GroupDef(group.name, group.description, members, ims_groups, live_id)


def _member(member: UserMember) -> HeldRoles:
    return HeldRoles(member.id, member.email, tuple(sorted(member.roles)), _invitation(member))


def _invitation(item: UserMember | Owner) -> Invitation:
    """Pending or not, and a pending invitation's dates (YYYY-MM-DD), for plans to show."""
    if not item.pending:
        return Invitation()
    sent, expires = item.invited_on, item.expires_on
    return Invitation(True, sent[:10] if sent else None, expires[:10] if expires else None)


def _group_member(member: GroupMember) -> GroupRoles:
    return GroupRoles(member.group, tuple(sorted(member.roles)), member.id)
