"""Typed payloads of operations: one frozen value per family of kinds.

Pure data, no I/O. An ``Operation`` carries its payload as the ``before``/``after`` dicts of a
saved plan (their table: ``reconciler.plan.operations``); everything else reads and writes it
through these classes: ``Family.of(op)`` reads (and checks) it, ``Operation.build(kind, ...,
payload)`` and ``op.carrying(payload)`` write it, so no module but this one knows a field
name. ``PAYLOADS`` names the class of each kind (tests/test_payloads.py checks it is total).

A malformed payload (a saved plan edited by hand: a string for ``roles``, no ``email``) is a
``PayloadError`` naming the side and the field, raised when the plan is loaded: a field of the
wrong type, or a missing one that names the object (``email``, ``group``, ``name``,
``displayName``, ``number``, a rename's ``id``). Other missing fields read as empty (no id,
no description, no roles), as an operation made in a test by hand may leave them out.

Split by what the payloads are of: ``base`` (the base class, the marks, reading one side),
``project``, ``definitions`` (roles, groups, renames), ``people`` (members, owners, group
members); this module holds the registry and the reads shared across families.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from reconciler.plan.kinds import OpKind
from reconciler.plan.payloads.base import (
    _K,
    EXPIRED,
    EXPIRED_MEMBERS,
    INVITATION,
    INVITES_MEMBERS,
    Carrier,
    Change,
    Payload,
    PayloadError,
    Wire,
)
from reconciler.plan.payloads.definitions import (
    GroupDef,
    GroupUpdate,
    Rename,
    RoleDef,
    RoleUpdate,
)
from reconciler.plan.payloads.people import (
    GivenRoles,
    GroupMemberPayload,
    GroupRoles,
    HeldRoles,
    Invitation,
    MemberPayload,
    OwnerPayload,
    Sending,
)
from reconciler.plan.payloads.project import (
    NewProject,
    ProjectDeletion,
    ProjectUpdate,
)

__all__ = [
    "EXPIRED",
    "EXPIRED_MEMBERS",
    "INVITATION",
    "INVITES_MEMBERS",
    "PAYLOADS",
    "Carrier",
    "Change",
    "GivenRoles",
    "GroupDef",
    "GroupMemberPayload",
    "GroupRoles",
    "GroupUpdate",
    "HeldRoles",
    "Invitation",
    "MemberPayload",
    "NewProject",
    "OwnerPayload",
    "Payload",
    "PayloadError",
    "ProjectDeletion",
    "ProjectUpdate",
    "Rename",
    "RoleDef",
    "RoleUpdate",
    "Sending",
    "Wire",
    "given_roles",
    "held_roles",
    "invites_members",
    "listed_anew",
    "marked",
    "read",
    "sending",
]

# ---------------------------------------------------------------------------- the registry

_FAMILIES: tuple[type[Payload], ...] = (
    NewProject,
    ProjectUpdate,
    ProjectDeletion,
    Rename,
    RoleDef,
    RoleUpdate,
    GroupDef,
    GroupUpdate,
    MemberPayload,
    OwnerPayload,
    GroupMemberPayload,
)
# The payload class of each kind (total: tests/test_payloads.py).
PAYLOADS: Mapping[OpKind, type[Payload]] = {k: f for f in _FAMILIES for k in f.KINDS}


def read(op: Carrier) -> Payload:
    """The typed payload of any operation, read from its ``before``/``after`` (PayloadError
    when malformed). ``Operation.payload`` keeps what this returns: read it there."""
    return PAYLOADS[op.kind]._parse(op)


# ---------------------------------------------------------------------------- shared reads

_ADDS = frozenset({_K.ADD_MEMBER, _K.ADD_OWNER})


def sending(op: Carrier) -> Sending:
    """The marks of an operation: an add of a member or owner has them; any other, none."""
    if op.kind is _K.ADD_OWNER:
        return OwnerPayload.of(op).sending
    return MemberPayload.of(op).sending if op.kind is _K.ADD_MEMBER else Sending()


def marked(op: Carrier, marks: Sending) -> Payload:
    """The payload of an add of a member or owner, with ``marks`` for its own."""
    if op.kind is _K.ADD_OWNER:
        return replace(OwnerPayload.of(op), sending=marks)
    member = MemberPayload.of(op)
    if op.kind is not _K.ADD_MEMBER or member.new is None:
        raise PayloadError(f"{op.kind.value} is not an add of a member or owner")
    return replace(member, new=replace(member.new, sending=marks))


def given_roles(op: Carrier) -> tuple[str, ...]:
    """The roles a member or group member holds after ``op`` (``after["roles"]``; none for a
    removal or any other kind)."""
    if op.kind in MemberPayload.KINDS:
        return MemberPayload.of(op).new_roles
    return GroupMemberPayload.of(op).new_roles if op.kind in GroupMemberPayload.KINDS else ()


def held_roles(op: Carrier) -> tuple[str, ...]:
    """The roles a member or group member held before ``op`` (``before["roles"]``; none for
    an add or any other kind)."""
    if op.kind in MemberPayload.KINDS:
        return MemberPayload.of(op).old_roles
    return GroupMemberPayload.of(op).old_roles if op.kind in GroupMemberPayload.KINDS else ()


def listed_anew(op: Carrier) -> tuple[str, ...]:
    """The members a group creation or update lists that the group did not have (none for
    any other kind)."""
    if op.kind is _K.CREATE_GROUP:
        return GroupDef.of(op).members
    return GroupUpdate.of(op).listed_anew if op.kind is _K.UPDATE_GROUP else ()


def invites_members(op: Carrier) -> bool:
    """Whether a group creation or update is marked ``invitesMembers``."""
    if op.kind is _K.CREATE_GROUP:
        return GroupDef.of(op).invites_members
    return op.kind is _K.UPDATE_GROUP and GroupUpdate.of(op).invites_members
