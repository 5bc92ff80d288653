"""Effective access: what each user and group of a project holds, and the project as a plan
leaves it.

Pure: no I/O. ``after_project`` replays a plan's operations on a live project;
``access_by_subject`` says what every user (direct roles, the roles of groups listing them,
ownership) and every group (its roles) holds. Shared by the access impact
(``reconciler.impact``), the policies (``reconciler.policies``) and self-protection
(``reconciler.plan.guards``): the one place that says what each operation kind does to a
project.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from reconciler.model import Group, GroupMember, Owner, Project, Role, UserMember
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import (
    GroupDef,
    GroupUpdate,
    Rename,
    RoleDef,
    RoleUpdate,
    given_roles,
)

USER = "user"
GROUP = "group"


def email_domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def in_domains(email: str, domains: Collection[str]) -> bool:
    """Is ``email`` in one of ``domains`` or a subdomain of one (apps.contoso.com is
    contoso.com's: service applications have such emails)?"""
    domain = email_domain(email)
    return any(domain == d or domain.endswith("." + d) for d in domains)


def outside(domains: Collection[str]) -> Callable[[str], bool]:
    """A predicate: is this email outside the organization's ``domains``? (none: nobody is)."""
    wanted = {d.lower().lstrip("@") for d in domains}
    if not wanted:
        return lambda email: False
    return lambda email: "@" in email and not in_domains(email, wanted)


# ------------------------------------------------------------------------------ after the plan


def after_project(
    live: Project | None,
    number: str,
    ops: Iterable[Operation],
    is_external: Callable[[str], bool] = lambda email: False,
) -> Project | None:
    """The project as it will be once ``ops`` are applied to ``live`` (None: absent).

    A member or owner added for someone ``is_external`` says is outside the organization is
    pending (the API invites them); a re-invitation is pending.
    """
    project = live
    roles: dict[str, Role] = {}
    groups: dict[str, Group] = {}
    members: dict[str, UserMember] = {}
    group_members: dict[str, GroupMember] = {}
    owners: dict[str, Owner] = {}

    def load(p: Project) -> None:
        roles.update((r.key, r) for r in p.roles)
        groups.update((g.key, g) for g in p.groups)
        members.update((m.key, m) for m in p.members)
        group_members.update((m.key, m) for m in p.group_members)
        owners.update((o.key, o) for o in p.owners)

    if project is not None:
        load(project)
    for op in ops:
        kind = op.kind
        if kind is OpKind.CREATE_PROJECT:
            project = Project(number)
        elif kind is OpKind.DELETE_PROJECT:
            return None
        elif kind is OpKind.CREATE_ROLE:
            role = RoleDef.of(op)
            roles[op.key] = Role(op.key, role.description, frozenset(role.permissions))
        elif (
            kind is OpKind.UPDATE_ROLE
            and op.key in roles
            and (permissions := RoleUpdate.of(op).permissions) is not None
        ):
            roles[op.key] = replace(roles[op.key], permissions=frozenset(permissions.new))
        elif kind is OpKind.DELETE_ROLE:
            roles.pop(op.key, None)
        elif kind is OpKind.RENAME_ROLE and (old := Rename.of(op).old) in roles:
            roles[op.key] = replace(roles.pop(old), display_name=op.key)
            for m in list(members.values()):
                members[m.key] = replace(m, roles=_rename(m.roles, old, op.key))
            for g in list(group_members.values()):
                group_members[g.key] = replace(g, roles=_rename(g.roles, old, op.key))
        elif kind is OpKind.RENAME_GROUP and (old := Rename.of(op).old) in groups:
            groups[op.key] = replace(groups.pop(old), name=op.key)
            if old in group_members:
                group_members[op.key] = replace(group_members.pop(old), group=op.key)
        elif kind is OpKind.CREATE_GROUP:
            group = GroupDef.of(op)
            groups[op.key] = Group(op.key, group.description, frozenset(group.members))
        elif (
            kind is OpKind.UPDATE_GROUP
            and op.key in groups
            and (listed := GroupUpdate.of(op).members) is not None
        ):
            groups[op.key] = replace(groups[op.key], members=frozenset(listed.new))
        elif kind is OpKind.DELETE_GROUP:
            groups.pop(op.key, None)
            group_members.pop(op.key, None)  # a deleted group holds no roles any more
        elif kind is OpKind.ADD_OWNER:
            owners[op.key] = Owner(op.key, pending=is_external(op.key))
        elif kind is OpKind.REMOVE_OWNER:
            owners.pop(op.key, None)
        elif kind is OpKind.ADD_MEMBER:
            members[op.key] = UserMember(op.key, _given(op), is_external(op.key))
        elif kind is OpKind.UPDATE_MEMBER:
            pending = members[op.key].pending if op.key in members else False
            members[op.key] = UserMember(op.key, _given(op), pending)
        elif kind is OpKind.REINVITE_MEMBER:
            members[op.key] = UserMember(op.key, _given(op), pending=True)
        elif kind in (OpKind.REMOVE_MEMBER, OpKind.CANCEL_INVITATION):
            members.pop(op.key, None)
        elif kind in (OpKind.ADD_GROUP_MEMBER, OpKind.UPDATE_GROUP_MEMBER):
            group_members[op.key] = GroupMember(op.key, _given(op))
        elif kind is OpKind.REMOVE_GROUP_MEMBER:
            group_members.pop(op.key, None)
    if project is None:
        return None
    return replace(
        project,
        roles=tuple(roles.values()),
        groups=tuple(groups.values()),
        members=tuple(members.values()),
        group_members=tuple(group_members.values()),
        owners=tuple(owners.values()),
    )


def _rename(names: frozenset[str], old: str, new: str) -> frozenset[str]:
    return frozenset(new if name == old else name for name in names)


def _given(op: Operation) -> frozenset[str]:
    return frozenset(given_roles(op))


# ------------------------------------------------------------------------------ effective access


@dataclass(frozen=True)
class Access:
    """One subject's effective access in one project.

    ``permissions`` through roles; ``pending`` the subset held only through pending
    invitations; ``owner`` "active", "pending" or "" (owners hold every permission).
    ``via`` maps each permission to the roles (and groups, as "role via group") granting it,
    worked out from ``grants`` (each role's permissions and how it is held, in the order
    granted) when asked: only a subject whose access changes is ever asked (issue 17).
    """

    permissions: frozenset[str] = frozenset()
    pending: frozenset[str] = frozenset()
    owner: str = ""
    grants: tuple[tuple[Collection[str], str], ...] = field(default=(), compare=False)
    members: tuple[str, ...] = field(default=(), compare=False)  # groups: their members

    @cached_property
    def via(self) -> Mapping[str, tuple[str, ...]]:
        found: dict[str, list[str]] = defaultdict(list)
        for permissions, how in self.grants:
            for permission in permissions:
                found[permission].append(how)
        return {permission: tuple(hows) for permission, hows in found.items()}


def access_by_subject(project: Project | None) -> dict[tuple[str, str], Access]:
    """Effective access of every user and group of ``project``, keyed by (USER|GROUP, name)."""
    if project is None:
        return {}
    role_perms = {r.display_name: r.permissions for r in project.roles}
    direct = {name: f"role {name!r}" for name in role_perms}  # how a role is held directly
    # Per user: (the role's permissions, how it is held, through an invitation), as granted.
    held: dict[str, list[tuple[Collection[str], str, bool]]] = defaultdict(list)
    result: dict[tuple[str, str], Access] = {}
    for m in project.members:
        if m.email:
            for role in m.roles:
                granted = role_perms.get(role)
                if granted:  # a role of no permission grants nothing (nor makes a subject)
                    held[m.email].append((granted, direct[role], m.pending))
    groups = {g.name: g for g in project.groups}
    for gm in project.group_members:
        group = groups.get(gm.group)
        emails = sorted(group.members) if group else []
        grants: list[tuple[Collection[str], str]] = []
        for role in gm.roles:
            granted = role_perms.get(role)
            if not granted:
                continue
            grants.append((granted, f"role {role!r}"))
            how = f"role {role!r} via group {gm.group!r}"
            for email in emails:
                held[email].append((granted, how, False))
        result[(GROUP, gm.group)] = Access(
            frozenset(p for granted, _ in grants for p in granted),
            grants=tuple(grants),
            members=tuple(emails),
        )
    owners = {o.email: o for o in project.owners if o.email}
    for email in sorted(held.keys() | owners.keys()):
        owner = owners.get(email)
        entries = held.get(email, ())
        holds: set[str] = set()
        active: set[str] = set()
        pending: set[str] = set()
        for perms, _, invited in entries:
            holds.update(perms)
            (pending if invited else active).update(perms)
        result[(USER, email)] = Access(
            frozenset(holds),
            frozenset(pending - active),
            "" if owner is None else ("pending" if owner.pending else "active"),
            grants=tuple((perms, how) for perms, how, _ in entries),
        )
    return result
