"""Wire JSON of the iTwins and Access Control APIs <-> reconciler.model objects. Pure.

Manifest attribute names map to iTwin fields one to one, except ``parent`` (the parent iTwin's
``number`` in a manifest, its ``parentId`` on the wire), which the caller resolves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.model import (
    PROJECT_ATTRIBUTES,
    SECTIONS,
    Group,
    GroupInvitation,
    GroupMember,
    Manage,
    Owner,
    Project,
    Scalar,
    UserMember,
    user_key,
)
from reconciler.targets.common_wire import email_of, role_ids, text, to_role
from reconciler.targets.itwins_duplicates import merge

JSON = dict[str, Any]

# Manifest attributes stored under the same name on an iTwin ("parent" is handled apart).
DIRECT_ATTRIBUTES: tuple[str, ...] = tuple(a for a in PROJECT_ATTRIBUTES if a != "parent")
DEFAULT_CLASS = "Endeavor"
DEFAULT_SUBCLASS = "Project"


def attributes(itwin: Mapping[str, Any], parent_number: str | None) -> dict[str, Scalar]:
    """The manifest attributes of a live iTwin; fields the server left null are left out."""
    out: dict[str, Scalar] = {}
    for name in DIRECT_ATTRIBUTES:
        value = itwin.get(name)
        if isinstance(value, str | int | float | bool):
            out[name] = value
    if parent_number is not None:
        out["parent"] = parent_number
    return out


def itwin_fields(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Manifest attributes -> iTwin request fields (``parent`` excluded: resolve it apart)."""
    return {k: v for k, v in attrs.items() if k in DIRECT_ATTRIBUTES}


def role_names(roles: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """id -> displayName of a project's roles (duplicate names refused, see ``role_ids``)."""
    return {role_id: name for name, role_id in role_ids(roles).items()}


DEFAULT_ROLE_TYPE = "Default"


def default_role_ids(roles: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Ids of the platform-provided roles (``type`` Default, contract C6). The reconciler
    hides them: never created, edited or deleted, never drift, never exported, and their
    assignments are kept when a member's roles are replaced."""
    return frozenset(
        str(r.get("id")) for r in roles if r.get("type") == DEFAULT_ROLE_TYPE and r.get("id")
    )


def default_assignments(
    rows: Iterable[Mapping[str, Any]], hidden: frozenset[str]
) -> dict[str, list[str]]:
    """Member (or group) id -> the ids of the Default roles it holds."""
    out: dict[str, list[str]] = {}
    for row in rows:
        roles = row.get("roles")
        held = [
            str(r.get("id"))
            for r in (roles if isinstance(roles, list) else [])
            if isinstance(r, dict) and str(r.get("id")) in hidden
        ]
        row_id = text(row.get("id")) or text(row.get("groupId"))
        if held and row_id:
            out[row_id] = held
    return out


def roles_of(
    obj: Mapping[str, Any], names: Mapping[str, str], hidden: frozenset[str] = frozenset()
) -> frozenset[str]:
    """Display names of the roles embedded in a member or invitation. The project's own list
    is authoritative for names; an embedded name covers roles defined elsewhere (Account).
    Roles whose id is in ``hidden`` (Default roles) are left out."""
    out: set[str] = set()
    roles = obj.get("roles")
    for role in roles if isinstance(roles, list) else []:
        if isinstance(role, dict):
            if str(role.get("id")) in hidden:
                continue
            name = names.get(str(role.get("id"))) or text(role.get("displayName"))
            if name:
                out.add(name)
        elif isinstance(role, str):
            out.add(role)
    return frozenset(out)


def to_members(
    users: Iterable[Mapping[str, Any]],
    invitations: Iterable[Mapping[str, Any]],
    names: Mapping[str, str],
    hidden: frozenset[str] = frozenset(),
) -> list[UserMember]:
    """User members plus pending invitations (as ``pending`` members).

    A "missing user" (deleted from IMS, email null) keeps its member id as key. An invitation
    for someone who is already a member shows as the member holding the invitation's roles too
    (what accepting it grants), so a manifest that wants fewer re-roles the member, which
    cancels the invitation (``shadowed_invitations``). A member or invitation holding only
    ``hidden`` (Default) roles is not read: the platform's assignment, not ours to manage.
    """
    members: dict[str, UserMember] = {}
    for user in users:
        member_id = text(user.get("id"))
        email = email_of(user.get("email"))
        roles = roles_of(user, names, hidden)
        if not roles and roles_of(user, names):
            continue
        member = UserMember(email=email, roles=roles, id=member_id)
        members[member.key] = member
    for invitation in invitations:
        if not _pending(invitation):
            continue
        email = email_of(invitation.get("email"))
        if email is None:
            continue
        roles = roles_of(invitation, names, hidden)
        invited, expires = _dates(invitation)
        seen = members.get(email)
        if seen is None:
            if not roles:
                continue  # only Default roles (or none): not ours
            members[email] = UserMember(
                email=email,
                roles=roles,
                pending=True,
                id=text(invitation.get("id")),
                invited_on=invited,
                expires_on=expires,
            )
        elif seen.pending:
            # Another pending invitation of the same person: accepting merges them all
            # (contract C7), so they count as one with every role; the first one's id is the
            # member's, the others are cancelled with it (``shadowed_invitations``).
            invited, expires = _merged_dates(seen, invited, expires)
            members[email] = replace(
                seen, roles=seen.roles | roles, invited_on=invited, expires_on=expires
            )
        else:
            members[email] = replace(seen, roles=seen.roles | roles)
    return list(members.values())


def _dates(invitation: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The invitation's creation and expiry times, as the API writes them (ISO 8601): plans
    show the dates, the invitation ledger judges expiry by the time (reconciler.invitations)."""
    return text(invitation.get("createdDate")), text(invitation.get("expirationDate"))


def _merged_dates(
    seen: UserMember | GroupInvitation, invited: str | None, expires: str | None
) -> tuple[str | None, str | None]:
    """The times of one person's invitations merged: the earliest sent, the latest expiry."""
    return (
        min(filter(None, (seen.invited_on, invited)), default=None),
        max(filter(None, (seen.expires_on, expires)), default=None),
    )


def shadowed_invitations(
    users: Iterable[Mapping[str, Any]], invitations: Iterable[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Ids of the pending invitations of people who are members (or owners) already, or that
    follow a person's first pending invitation (which ``to_members`` shows), by email.

    ``to_members`` (``to_owners``) shows the member, not these; but accepted later, one would
    bring back a removed member or owner or add its roles, so removing or re-roling that member
    (removing that owner) cancels them too.
    """
    emails = {e for u in users if (e := email_of(u.get("email")))}
    first: set[str] = set()  # people whose first pending invitation stands for them
    out: dict[str, list[str]] = {}
    for invitation in invitations:
        email = email_of(invitation.get("email"))
        invitation_id = text(invitation.get("id"))
        if email is None or not invitation_id or not _pending(invitation):
            continue
        if email in emails or email in first:
            out.setdefault(email, []).append(invitation_id)
        else:
            first.add(email)
    return out


def to_group_members(
    rows: Iterable[Mapping[str, Any]],
    group_names: Mapping[str, str],
    names: Mapping[str, str],
    hidden: frozenset[str] = frozenset(),
) -> list[GroupMember]:
    out = []
    for row in rows:
        group_id = text(row.get("id")) or text(row.get("groupId"))
        name = text(row.get("groupName")) or group_names.get(group_id or "")
        roles = roles_of(row, names, hidden)
        if name is None or (not roles and roles_of(row, names)):
            continue
        out.append(GroupMember(group=name, roles=roles, id=group_id))
    return out


def to_group(group: Mapping[str, Any], invitations: Iterable[Mapping[str, Any]] = ()) -> Group:
    """A group; people invited to it count as members (as pending user members do), their
    invitations' times kept for the invitation ledger (``Group.invitations``)."""
    members = group.get("members")
    pending: dict[str, GroupInvitation] = {}
    for invitation in invitations:
        email = email_of(invitation.get("email"))
        if email is None or not _pending(invitation):
            continue
        invited, expires = _dates(invitation)
        seen = pending.get(email)
        if seen is not None:  # one person's invitations merge on acceptance (contract C7)
            invited, expires = _merged_dates(seen, invited, expires)
        pending[email] = GroupInvitation(email, invited, expires)
    emails = set(pending)
    accepted: set[str] = set()  # members already: an invitation of theirs is not pending for us
    for member in members if isinstance(members, list) else []:
        if isinstance(member, dict):
            # contract §7.2: docs say userId, one official client says id.
            user_id = text(member.get("userId")) or text(member.get("id"))
            accepted.add(user_key(email_of(member.get("email")), user_id))
        elif isinstance(member, str):
            accepted.add(member.strip().lower())
    emails |= accepted
    ims = group.get("imsGroups")
    return Group(
        name=str(group.get("name")),
        description=text(group.get("description")),
        members=frozenset(emails),
        ims_groups=frozenset(x for x in ims if isinstance(x, str))
        if isinstance(ims, list)
        else frozenset(),
        id=text(group.get("id")),
        invitations=tuple(i for e, i in sorted(pending.items()) if e not in accepted),
    )


def to_owners(
    rows: Iterable[Mapping[str, Any]], invitations: Iterable[Mapping[str, Any]] = ()
) -> list[Owner]:
    """Owners, plus pending owner invitations (``pending``, id = the invitation's id)."""
    owners: dict[str, Owner] = {}
    for row in rows:
        owner = Owner(email=email_of(row.get("email")), id=text(row.get("id")))
        owners[owner.key] = owner
    for invitation in invitations:
        email = email_of(invitation.get("email"))
        if email is not None and email not in owners and _pending(invitation):
            invited, expires = _dates(invitation)
            owners[email] = Owner(
                email=email,
                pending=True,
                id=text(invitation.get("id")),
                invited_on=invited,
                expires_on=expires,
            )
    return list(owners.values())


def _pending(invitation: Mapping[str, Any]) -> bool:
    status = text(invitation.get("status"))
    return status is None or status.lower() == "pending"


def is_owner_invitation(invitation: Mapping[str, Any]) -> bool:
    """The list of invitations mixes both kinds; a member invitation always carries roles (a
    member cannot hold zero roles), an owner invitation none."""
    roles = invitation.get("roles")
    return not (isinstance(roles, list) and roles)


def project(
    itwin: Mapping[str, Any],
    parent_number: str | None,
    roles: list[JSON],
    users: list[JSON],
    group_rows: list[JSON],
    owners: list[JSON],
    groups: list[JSON],
    invitations: list[JSON],
    group_invitations: Mapping[str, list[JSON]] | None = None,
) -> Project:
    hidden = default_role_ids(roles)
    roles = [r for r in roles if str(r.get("id")) not in hidden]
    owner_invitations = [i for i in invitations if is_owner_invitation(i)]
    member_invitations = [i for i in invitations if not is_owner_invitation(i)]
    # Roles or groups sharing a name (runs racing) are read as one each, the rest listed as
    # duplicates for the plan to merge (itwins_duplicates, reconciler.repair).
    merged = merge(roles, groups, users, group_rows, member_invitations)
    names = merged.role_names
    roles = merged.roles
    kept_rows: list[JSON] = []
    for row in group_rows:
        gid = text(row.get("id")) or text(row.get("groupId")) or ""
        if gid in merged.dropped_groups:
            continue
        extra = merged.moved_group_roles.get(gid)
        if extra:
            held = row.get("roles")
            held_roles = list(held) if isinstance(held, list) else []
            row = {**row, "roles": held_roles + [{"id": rid} for rid in sorted(extra)]}
        kept_rows.append(row)
    group_rows = kept_rows
    pending = group_invitations or {}
    live_groups = [
        to_group(g, pending.get(str(g.get("id")), [])) for g in merged.groups if text(g.get("name"))
    ]
    group_names = {g.id: g.name for g in live_groups if g.id}
    return Project(
        number=str(itwin.get("number")),
        attributes=attributes(itwin, parent_number),
        # A live state is the whole truth of every section (model.Project).
        manage=dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE),
        roles=tuple(to_role(r) for r in roles if text(r.get("displayName"))),
        groups=tuple(live_groups),
        members=tuple(to_members(users, member_invitations, names, hidden)),
        group_members=tuple(to_group_members(group_rows, group_names, names, hidden)),
        owners=tuple(to_owners(owners, owner_invitations)),
        id=text(itwin.get("id")),
        duplicates=merged.duplicates,
    )
