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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

from reconciler.model import Scalar
from reconciler.plan.kinds import SPECS, OpKind

Wire = dict[str, Any]  # one side (``before`` or ``after``) of an operation, JSON-able

# Marks the plan puts in an ``after`` (wire names).
INVITATION = "invitation"  # an add the API turns into an invitation (contract C4)
EXPIRED = "expiredInvitation"  # an add's: the sending date of the expired invitation it resends
EXPIRED_MEMBERS = "expiredMembers"  # a group update's: email -> sending date of those it re-lists
INVITES_MEMBERS = "invitesMembers"  # a group change inviting each person it lists anew (C4)

_K = OpKind
_T = TypeVar("_T")


class PayloadError(ValueError):
    """An operation's ``before``/``after`` does not have the shape its kind's payload needs."""


class Carrier(Protocol):
    """What carries a payload (``Operation``; a protocol, so this module does not import it)."""

    @property
    def kind(self) -> OpKind: ...

    @property
    def before(self) -> Mapping[str, Any] | None: ...

    @property
    def after(self) -> Mapping[str, Any] | None: ...

    @property
    def key(self) -> str: ...

    @property
    def payload(self) -> Payload:
        """Its typed payload, read once (``read``)."""
        ...


class Payload:
    """Base of the payload families: ``of`` reads one from an operation, ``wire`` writes it."""

    KINDS: ClassVar[frozenset[OpKind]] = frozenset()

    @classmethod
    def of(cls, op: Carrier) -> Self:
        """The payload of ``op`` (PayloadError when its kind has another family, or its
        ``before``/``after`` is malformed)."""
        payload = op.payload if op.kind in cls.KINDS else None
        if not isinstance(payload, cls):
            raise PayloadError(f"{op.kind.value} has no {cls.__name__} payload")
        return payload

    @classmethod
    def _parse(cls, op: Carrier) -> Self:
        return cls._read(op.kind, _Side(op.before, "before"), _Side(op.after, "after"))

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        raise NotImplementedError

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        """``(before, after)`` of a ``kind`` operation carrying this payload."""
        raise NotImplementedError


@dataclass(frozen=True)
class Change(Generic[_T]):
    """One field an update changes: its live value and the desired one."""

    old: _T
    new: _T


# ---------------------------------------------------------------------------- project


@dataclass(frozen=True)
class NewProject(Payload):
    """create_project: the number and the declared attributes (manifest names)."""

    KINDS = frozenset({_K.CREATE_PROJECT})
    number: str
    attributes: Mapping[str, Scalar] = field(default_factory=dict)

    @property
    def parent(self) -> str | None:
        """The declared parent's project number, if any."""
        return _as_text(self.attributes.get("parent"))

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        attrs = {k: after.scalar(k) for k in after.fields() if k != "number"}
        return cls(after.text("number"), attrs)

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        return None, {"number": self.number, **self.attributes}


@dataclass(frozen=True)
class ProjectUpdate(Payload):
    """update_project: the live id and each changed attribute."""

    KINDS = frozenset({_K.UPDATE_PROJECT})
    id: str | None
    changes: Mapping[str, Change[Scalar]]

    @property
    def desired(self) -> dict[str, Scalar]:
        """The changed attributes' desired values (manifest names)."""
        return {k: c.new for k, c in self.changes.items()}

    @property
    def parent(self) -> str | None:
        """The new parent's project number, when the update moves the project."""
        change = self.changes.get("parent")
        return _as_text(change.new) if change is not None else None

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        changes = {k: Change(before.scalar(k, None), after.scalar(k)) for k in after.fields()}
        return cls(before.opt_text("id", None), changes)

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        old = {k: c.old for k, c in self.changes.items()}
        return {"id": self.id, **old}, {k: c.new for k, c in self.changes.items()}


@dataclass(frozen=True)
class ProjectDeletion(Payload):
    """delete_project: the live id and display name."""

    KINDS = frozenset({_K.DELETE_PROJECT})
    id: str | None
    display_name: str | None

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        return cls(before.opt_text("id", None), before.opt_text("displayName"))

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        return {"id": self.id, "displayName": self.display_name}, None


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


# ---------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Invitation:
    """A live person's invitation state: ``pending`` (not accepted yet) and, when the read
    had them, the dates it was sent and expires (YYYY-MM-DD)."""

    pending: bool = False
    invited_on: str | None = None
    expires: str | None = None

    @classmethod
    def read(cls, side: _Side) -> Invitation:
        return cls(
            side.boolean("pending"),
            side.opt_text("invitedOn", None),
            side.opt_text("expires", None),
        )

    def wire(self) -> Wire:
        dates = {"invitedOn": self.invited_on, "expires": self.expires}
        return {"pending": self.pending, **{k: v for k, v in dates.items() if v is not None}}


@dataclass(frozen=True)
class Sending:
    """An add's marks: the API turns it into an invitation (contract C4), and the sending date
    of the expired invitation it sends again (issue 15)."""

    invitation: bool = False
    expired: str | None = None

    @classmethod
    def read(cls, side: _Side) -> Sending:
        return cls(side.flag(INVITATION), side.opt_text(EXPIRED, None))

    def wire(self) -> Wire:
        marks: Wire = {INVITATION: True} if self.invitation else {}
        if self.expired is not None:
            marks[EXPIRED] = self.expired
        return marks


@dataclass(frozen=True)
class HeldRoles:
    """A live member (``before``): its id (the invitation's when pending), email (None: a user
    deleted from the directory), roles (names) and invitation state."""

    id: str | None
    email: str | None
    roles: tuple[str, ...]
    invitation: Invitation = Invitation()

    @property
    def pending(self) -> bool:
        return self.invitation.pending


@dataclass(frozen=True)
class GivenRoles:
    """What an add or update gives a member (``after``): the full set of role names (and
    its email; None only for a deleted user re-given roles by ``reconciler.repair``)."""

    email: str | None
    roles: tuple[str, ...]
    sending: Sending = Sending()


@dataclass(frozen=True)
class MemberPayload(Payload):
    """add_member, update_member, reinvite_member, remove_member, cancel_invitation: the live
    member (``old``; None for an add) and what it is given (``new``; None for a removal)."""

    KINDS = frozenset(
        {
            _K.ADD_MEMBER,
            _K.UPDATE_MEMBER,
            _K.REINVITE_MEMBER,
            _K.REMOVE_MEMBER,
            _K.CANCEL_INVITATION,
        }
    )
    old: HeldRoles | None = None
    new: GivenRoles | None = None

    @property
    def email(self) -> str | None:
        """The member's email: the given one, else the live one."""
        return self.new.email if self.new is not None else self.old.email if self.old else None

    @property
    def old_roles(self) -> tuple[str, ...]:
        return self.old.roles if self.old is not None else ()

    @property
    def new_roles(self) -> tuple[str, ...]:
        return self.new.roles if self.new is not None else ()

    @property
    def sending(self) -> Sending:
        return self.new.sending if self.new is not None else Sending()

    @property
    def old_id(self) -> str | None:
        """The live member's id (its invitation's when pending); None for an add."""
        return self.old.id if self.old is not None else None

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        old = new = None
        if kind is not _K.ADD_MEMBER:
            old = HeldRoles(
                before.opt_text("id", None),
                before.opt_text("email"),
                before.texts("roles", ()),
                Invitation.read(before),
            )
        if kind in (_K.ADD_MEMBER, _K.UPDATE_MEMBER, _K.REINVITE_MEMBER):
            new = GivenRoles(after.opt_text("email"), after.texts("roles", ()), Sending.read(after))
        return cls(old, new)

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        before = after = None
        if self.old is not None:
            old = self.old
            before = {"id": old.id, "email": old.email, "roles": list(old.roles)}
            before.update(old.invitation.wire())
        if self.new is not None:
            after = {"email": self.new.email, "roles": list(self.new.roles)}
            after.update(self.new.sending.wire())
        return before, after


@dataclass(frozen=True)
class OwnerPayload(Payload):
    """add_owner (``email`` and the add's marks), remove_owner (the live owner's ``id``,
    ``email`` and invitation state)."""

    KINDS = frozenset({_K.ADD_OWNER, _K.REMOVE_OWNER})
    email: str | None
    id: str | None = None  # removals only
    invitation: Invitation = Invitation()  # removals only
    sending: Sending = Sending()  # adds only

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        if kind is _K.ADD_OWNER:
            return cls(after.text("email"), sending=Sending.read(after))
        return cls(before.opt_text("email"), before.opt_text("id", None), Invitation.read(before))

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        if kind is _K.ADD_OWNER:
            return None, {"email": self.email, **self.sending.wire()}
        return {"id": self.id, "email": self.email, **self.invitation.wire()}, None


@dataclass(frozen=True)
class GroupRoles:
    """A group's roles in the project: its name and role names (and its live id, in a
    ``before``; None when the read did not give one)."""

    group: str
    roles: tuple[str, ...]
    id: str | None = None


@dataclass(frozen=True)
class GroupMemberPayload(Payload):
    """add_group_member, update_group_member, remove_group_member: the group's live roles
    (``old``; None for an add) and the roles it is given (``new``; None for a removal)."""

    KINDS = frozenset({_K.ADD_GROUP_MEMBER, _K.UPDATE_GROUP_MEMBER, _K.REMOVE_GROUP_MEMBER})
    old: GroupRoles | None = None
    new: GroupRoles | None = None

    @property
    def old_roles(self) -> tuple[str, ...]:
        return self.old.roles if self.old is not None else ()

    @property
    def new_roles(self) -> tuple[str, ...]:
        return self.new.roles if self.new is not None else ()

    @property
    def old_id(self) -> str | None:
        """The live group's id; None for an add (or when the read did not give it)."""
        return self.old.id if self.old is not None else None

    @classmethod
    def _read(cls, kind: OpKind, before: _Side, after: _Side) -> Self:
        old = new = None
        if kind is not _K.ADD_GROUP_MEMBER:
            old = GroupRoles(
                before.text("group"), before.texts("roles", ()), before.opt_text("id", None)
            )
        if kind is not _K.REMOVE_GROUP_MEMBER:
            new = GroupRoles(after.text("group"), after.texts("roles", ()))
        return cls(old, new)

    def wire(self, kind: OpKind) -> tuple[Wire | None, Wire | None]:
        before = after = None
        if self.old is not None:
            before = {"id": self.old.id, "group": self.old.group, "roles": list(self.old.roles)}
        if self.new is not None:
            after = {"group": self.new.group, "roles": list(self.new.roles)}
        return before, after


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


# ---------------------------------------------------------------------------- reading


_NO = object()  # no default: the field is required


class _Side:
    """One side (``before``/``after``) of an operation, read field by field with its type
    checked; errors name the side and the field."""

    __slots__ = ("data", "name")

    def __init__(self, data: Mapping[str, Any] | None, name: str) -> None:
        self.data: Mapping[str, Any] = data if data is not None else {}
        self.name = name

    def fields(self) -> list[str]:
        return list(self.data)

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default: Any) -> Any:
        if key in self.data:
            return self.data[key]
        if default is _NO:
            raise PayloadError(f"{self.name} has no {key!r}")
        return default

    def _bad(self, key: str, want: str, value: Any) -> PayloadError:
        return PayloadError(f"{self.name}.{key}: expected {want}, got {type(value).__name__}")

    def text(self, key: str, default: Any = _NO) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self._bad(key, "a string", value)
        return value

    def opt_text(self, key: str, default: Any = _NO) -> str | None:
        value = self._get(key, default)
        if value is not None and not isinstance(value, str):
            raise self._bad(key, "a string or null", value)
        return value

    def texts(self, key: str, default: Any = _NO) -> tuple[str, ...]:
        value = self._get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise self._bad(key, "a list of strings", value)
        return tuple(value)

    def boolean(self, key: str) -> bool:
        value = self._get(key, False)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false", value)
        return value

    def flag(self, key: str) -> bool:
        """A mark: absent or true (false is what absent means)."""
        return self.boolean(key)

    def scalar(self, key: str, default: Any = _NO) -> Scalar:
        value = self._get(key, default)
        if value is not None and not isinstance(value, str | int | float | bool):
            raise self._bad(key, "a string, number, boolean or null", value)
        result: Scalar = value
        return result

    def dates(self, key: str) -> dict[str, str]:
        value = self._get(key, {})
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise self._bad(key, "an object of strings", value)
        return dict(value)


def _text_change(before: _Side, after: _Side, key: str) -> Change[str | None]:
    return Change(before.opt_text(key, None), after.opt_text(key))


def _pair(change: Change[Any]) -> tuple[Any, Any]:
    """A change's two sides on the wire (tuples as lists)."""
    old, new = change.old, change.new
    return (list(old) if isinstance(old, tuple) else old), (
        list(new) if isinstance(new, tuple) else new
    )


def _as_text(value: Scalar) -> str | None:
    return value if isinstance(value, str) else None
