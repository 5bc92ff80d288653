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

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

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
from reconciler.plan.operations import Operation, OpKind, Rename


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
        before = {"id": live.id, "displayName": live.display_name}
        return [_op(OpKind.DELETE_PROJECT, live, "", before, None, want.source)]

    ops: list[Operation] = []
    if live is None:
        after = {"number": number, **dict(want.attributes)}
        ops.append(Operation(OpKind.CREATE_PROJECT, number, "", None, after, _src(want.source)))
        # The creator becomes the project's owner (itwin-api.md §3.2); nothing else exists yet.
        owners = (Owner(identity),) if identity else ()
        live = Project(number=number, owners=owners)
    else:
        declared = list(want.attributes)
        before, after = _changed(
            {k: live.attributes.get(k) for k in declared}, dict(want.attributes)
        )
        if after:
            ops.append(
                _op(OpKind.UPDATE_PROJECT, live, "", {"id": live.id, **before}, after, want.source)
            )

    renames, live = _renames(want, live)
    ops.extend(renames)
    sections = (
        ("roles", _roles),
        ("groups", _groups),
        ("members", _members),
        ("members", _group_members),
        ("owners", _owners),
    )
    for section, differ in sections:
        mode = want.managed(section)
        if mode is not None:
            ops.extend(differ(want, live, mode is Manage.AUTHORITATIVE, identity))
    return ops


# ---------------------------------------------------------------------------- sections


def _roles(want: Project, live: Project, remove: bool, _identity: str | None) -> list[Operation]:
    ops: list[Operation] = []
    have = {r.key: r for r in live.roles}
    for role in want.roles:
        old = have.get(role.key)
        if old is None:
            ops.append(_op(OpKind.CREATE_ROLE, live, role.key, None, _role(role), role.source))
            continue
        wanted: dict[str, Any] = {}
        current: dict[str, Any] = {}
        if role.description is not None:
            wanted["description"] = role.description
            current["description"] = old.description
        wanted["permissions"] = sorted(role.permissions)
        current["permissions"] = sorted(old.permissions)
        before, after = _changed(current, wanted)
        if after:
            ops.append(
                _op(
                    OpKind.UPDATE_ROLE, live, role.key, {"id": old.id, **before}, after, role.source
                )
            )
    if remove:
        for old in _undeclared(live.roles, want.roles):
            ops.append(_op(OpKind.DELETE_ROLE, live, old.key, {"id": old.id, **_role(old)}, None))
    return ops


def _groups(want: Project, live: Project, remove: bool, _identity: str | None) -> list[Operation]:
    ops: list[Operation] = []
    have = {g.key: g for g in live.groups}
    for group in want.groups:
        old = have.get(group.key)
        if old is None:
            ops.append(_op(OpKind.CREATE_GROUP, live, group.key, None, _group(group), group.source))
            continue
        wanted = _group(group)
        current = _group(old)
        del wanted["name"], current["name"]
        if group.description is None:
            del wanted["description"], current["description"]
        before, after = _changed(current, wanted)
        if after:
            before = {"id": old.id, **before}
            ops.append(_op(OpKind.UPDATE_GROUP, live, group.key, before, after, group.source))
    if remove:
        for old in _undeclared(live.groups, want.groups):
            ops.append(_op(OpKind.DELETE_GROUP, live, old.key, {"id": old.id, **_group(old)}, None))
    return ops


def _members(want: Project, live: Project, remove: bool, _identity: str | None) -> list[Operation]:
    ops: list[Operation] = []
    have = {m.key: m for m in live.members}
    for member in want.members:
        old = have.get(member.key)
        if not member.roles:  # a member with no roles cannot exist: it goes
            if old is not None:
                ops.append(_member_removal(live, old, member.source))
            continue
        after = {"email": member.email, "roles": sorted(member.roles)}
        if old is None:
            ops.append(_op(OpKind.ADD_MEMBER, live, member.key, None, after, member.source))
        elif old.roles != member.roles:
            kind = OpKind.REINVITE_MEMBER if old.pending else OpKind.UPDATE_MEMBER
            ops.append(_op(kind, live, member.key, _member(old), after, member.source))
    if remove:
        for old in _undeclared(live.members, want.members):
            ops.append(_member_removal(live, old, None))
    return ops


def _group_members(
    want: Project, live: Project, remove: bool, _identity: str | None
) -> list[Operation]:
    ops: list[Operation] = []
    have = {m.key: m for m in live.group_members}
    for member in want.group_members:
        old = have.get(member.key)
        if not member.roles:
            if old is not None:
                before = _group_member(old)
                ops.append(
                    _op(OpKind.REMOVE_GROUP_MEMBER, live, old.key, before, None, member.source)
                )
            continue
        after = {"group": member.group, "roles": sorted(member.roles)}
        if old is None:
            ops.append(_op(OpKind.ADD_GROUP_MEMBER, live, member.key, None, after, member.source))
        elif old.roles != member.roles:
            before = _group_member(old)
            ops.append(
                _op(OpKind.UPDATE_GROUP_MEMBER, live, member.key, before, after, member.source)
            )
    if remove:
        for old in _undeclared(live.group_members, want.group_members):
            ops.append(_op(OpKind.REMOVE_GROUP_MEMBER, live, old.key, _group_member(old), None))
    return ops


def _owners(want: Project, live: Project, remove: bool, identity: str | None) -> list[Operation]:
    ops: list[Operation] = []
    have = {o.key for o in live.owners}  # a pending owner invitation counts as an owner
    for owner in want.owners:
        if owner.key not in have:
            after = {"email": owner.email}
            ops.append(_op(OpKind.ADD_OWNER, live, owner.key, None, after, owner.source))
    if remove:
        for old in _undeclared(live.owners, want.owners):
            if identity is not None and old.key == identity:
                continue  # the applying identity's own ownership is always kept (design.md §4)
            before = {
                "id": old.id,
                "email": old.email,
                "pending": old.pending,
                **_invitation_dates(old),
            }
            ops.append(_op(OpKind.REMOVE_OWNER, live, old.key, before, None))
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
                before, after = Rename(str(old.id), old.key, role.key).payload(OpKind.RENAME_ROLE)
                ops.append(_op(OpKind.RENAME_ROLE, live, role.key, before, after, role.source))
                live = _rename_role(live, old.key, role.key)
    if want.managed("groups") is not None:
        groups = {g.key: g for g in live.groups}
        for group in want.groups:
            old_g = _renamed(want, "group", group.key, group.renamed_from, groups, group.source)
            if old_g is not None:
                rename = Rename(str(old_g.id), old_g.key, group.key)
                before, after = rename.payload(OpKind.RENAME_GROUP)
                ops.append(_op(OpKind.RENAME_GROUP, live, group.key, before, after, group.source))
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
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    source: Source | None = None,
) -> Operation:
    return Operation(kind, live.number, key, before, after, _src(source), live.id)


def _src(source: Source | None) -> str | None:
    return str(source) if source is not None else None


def _changed(
    current: Mapping[str, Any], wanted: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Field-level delta: (live values, desired values) of the fields that differ."""
    keys = [k for k in wanted if current.get(k) != wanted[k]]
    return {k: current.get(k) for k in keys}, {k: wanted[k] for k in keys}


_K = TypeVar("_K", Role, Group, UserMember, GroupMember, Owner)


def _undeclared(live: Iterable[_K], declared: Iterable[_K]) -> list[_K]:
    keys = {item.key for item in declared}
    return [item for item in live if item.key not in keys]


def _member_removal(live: Project, old: UserMember, source: Source | None) -> Operation:
    kind = OpKind.CANCEL_INVITATION if old.pending else OpKind.REMOVE_MEMBER
    return _op(kind, live, old.key, _member(old), None, source)


def _role(role: Role) -> dict[str, Any]:
    return {
        "displayName": role.display_name,
        "description": role.description,
        "permissions": sorted(role.permissions),
    }


def _group(group: Group) -> dict[str, Any]:
    return {
        "name": group.name,
        "description": group.description,
        "members": sorted(group.members),
        "imsGroups": sorted(group.ims_groups),
    }


def _member(member: UserMember) -> dict[str, Any]:
    return {
        "id": member.id,
        "email": member.email,
        "roles": sorted(member.roles),
        "pending": member.pending,
        **_invitation_dates(member),
    }


def _invitation_dates(item: UserMember | Owner) -> dict[str, str]:
    """A pending invitation's dates (YYYY-MM-DD), for plans to show (``invitedOn``,
    ``expires``)."""
    dates = {"invitedOn": item.invited_on, "expires": item.expires_on}
    return {k: v[:10] for k, v in dates.items() if item.pending and v is not None}


def _group_member(member: GroupMember) -> dict[str, Any]:
    return {"id": member.id, "group": member.group, "roles": sorted(member.roles)}
