"""Payloads of role and group definitions: renames, creations, updates, deletions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from reconciler.plan.kinds import SPECS, OpKind
from reconciler.plan.payloads.base import (
    _K,
    EXPIRED_MEMBERS,
    INVITES_MEMBERS,
    Carrier,
    Change,
    Payload,
    PayloadError,
    Wire,
    _pair,
    _Side,
)

# ---------------------------------------------------------------------------- renames


@dataclass(frozen=True)
class Rename(Payload):
    """rename_role, rename_group: the live object's id, its old and its new name. On the wire
    the names sit under the field the registry's ``KindSpec.renames`` names: ``displayName``
    for roles, ``name`` for groups; a missing new name is the operation's key."""

    KINDS = frozenset({_K.RENAME_ROLE, _K.RENAME_GROUP})
    id: str
    old: str
    new: str

    @classmethod
    def _parse(cls, op: Carrier) -> Self:
        rename = super()._parse(op)
        # A rename's key is its new name (what ``after`` holds; the key stands in without it).
        return rename if rename.new else cls(rename.id, rename.old, op.key)

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        name = _rename_field(kind)
        return cls(str(before.opt_text("id")), before.text(name), after.text(name, ""))

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        name = _rename_field(kind)
        return {"id": self.id, name: self.old}, {name: self.new}


def _rename_field(kind: OpKind) -> str:
    name = SPECS[kind].renames
    if name is None:
        raise PayloadError(f"{kind.value} is not a rename")
    return name


# ---------------------------------------------------------------------------- roles


@dataclass(frozen=True)
class RoleDef(Payload):
    """create_role (``after``), delete_role (``before``, with the live id): a whole role.
    ``description`` None: unmanaged."""

    KINDS = frozenset({_K.CREATE_ROLE, _K.DELETE_ROLE})
    display_name: str
    description: str | None
    permissions: tuple[str, ...]
    id: str | None = None  # deletions only

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        side = before if kind is _K.DELETE_ROLE else after
        return cls(
            side.text("displayName"),
            side.opt_text("description", None),
            side.texts("permissions", ()),
            before.opt_text("id", None) if kind is _K.DELETE_ROLE else None,
        )

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        role = {
            "displayName": self.display_name,
            "description": self.description,
            "permissions": list(self.permissions),
        }
        if kind is _K.CREATE_ROLE:
            return None, role
        return {"id": self.id, **role}, None


@dataclass(frozen=True)
class RoleUpdate(Payload):
    """update_role: the live id and the fields that change (None: unchanged); ``permissions``
    are full sorted lists."""

    KINDS = frozenset({_K.UPDATE_ROLE})
    id: str | None
    description: Change[str | None] | None = None
    permissions: Change[tuple[str, ...]] | None = None

    @property
    def desired(self) -> dict[str, Any]:
        """The changed fields' desired values (manifest names, as the APIs name them too)."""
        fields: dict[str, Any] = {}
        if self.description is not None:
            fields["description"] = self.description.new
        if self.permissions is not None:
            fields["permissions"] = sorted(self.permissions.new)
        return fields

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        description = permissions = None
        if after.has("description"):
            description = Change(
                before.opt_text("description", None), after.opt_text("description")
            )
        if after.has("permissions"):
            permissions = Change(before.texts("permissions", ()), after.texts("permissions"))
        return cls(before.opt_text("id", None), description, permissions)

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        before: Wire = {"id": self.id}
        after: Wire = {}
        if self.description is not None:
            before["description"], after["description"] = _pair(self.description)
        if self.permissions is not None:
            before["permissions"], after["permissions"] = _pair(self.permissions)
        return before, after


# ---------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class GroupDef(Payload):
    """create_group (``after``), delete_group (``before``, with the live id): a whole group.
    ``invites_members``: a creation whose members the API invites (contract C4)."""

    KINDS = frozenset({_K.CREATE_GROUP, _K.DELETE_GROUP})
    name: str
    description: str | None
    members: tuple[str, ...]
    ims_groups: tuple[str, ...]
    id: str | None = None  # deletions only
    invites_members: bool = False

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        side = before if kind is _K.DELETE_GROUP else after
        return cls(
            side.text("name"),
            side.opt_text("description", None),
            side.texts("members", ()),
            side.texts("imsGroups", ()),
            before.opt_text("id", None) if kind is _K.DELETE_GROUP else None,
            after.flag(INVITES_MEMBERS),
        )

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        group: Wire = {
            "name": self.name,
            "description": self.description,
            "members": list(self.members),
            "imsGroups": list(self.ims_groups),
        }
        if kind is _K.DELETE_GROUP:
            return {"id": self.id, **group}, None
        if self.invites_members:
            group[INVITES_MEMBERS] = True
        return None, group


@dataclass(frozen=True)
class GroupUpdate(Payload):
    """update_group: the live id and the fields that change (None: unchanged; lists are full
    sorted lists), with the marks the plan adds: ``invites_members`` (contract C4) and
    ``expired_members`` (email -> sending date of the expired invitations it re-lists)."""

    KINDS = frozenset({_K.UPDATE_GROUP})
    id: str | None
    description: Change[str | None] | None = None
    members: Change[tuple[str, ...]] | None = None
    ims_groups: Change[tuple[str, ...]] | None = None
    invites_members: bool = False
    expired_members: Mapping[str, str] = field(default_factory=dict)

    @property
    def desired(self) -> dict[str, Any]:
        """The changed fields' desired values (manifest names, as the API names them too)."""
        fields: dict[str, Any] = {}
        if self.description is not None:
            fields["description"] = self.description.new
        for name, change in (("members", self.members), ("imsGroups", self.ims_groups)):
            if change is not None:
                fields[name] = sorted(change.new)
        return fields

    @property
    def empty(self) -> bool:
        """Nothing to send: no field changes, no marks."""
        changes = (self.description, self.members, self.ims_groups)
        return all(c is None for c in changes) and not (
            self.invites_members or self.expired_members
        )

    @property
    def listed_anew(self) -> tuple[str, ...]:
        """The members the update lists that the group did not have, in listed order."""
        if self.members is None:
            return ()
        had = set(self.members.old)
        return tuple(e for e in self.members.new if e not in had)

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        description = members = ims = None
        if after.has("description"):
            description = Change(
                before.opt_text("description", None), after.opt_text("description")
            )
        if after.has("members"):
            members = Change(before.texts("members", ()), after.texts("members"))
        if after.has("imsGroups"):
            ims = Change(before.texts("imsGroups", ()), after.texts("imsGroups"))
        expired = after.dates(EXPIRED_MEMBERS)
        return cls(
            before.opt_text("id", None),
            description,
            members,
            ims,
            after.flag(INVITES_MEMBERS),
            expired,
        )

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        before: Wire = {"id": self.id}
        after: Wire = {}
        for name, change in (
            ("description", self.description),
            ("members", self.members),
            ("imsGroups", self.ims_groups),
        ):
            if change is not None:
                before[name], after[name] = _pair(change)
        if self.invites_members:
            after[INVITES_MEMBERS] = True
        if self.expired_members:
            after[EXPIRED_MEMBERS] = dict(self.expired_members)
        return before, after
