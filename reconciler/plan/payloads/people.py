"""Payloads of people: members and their invitations, owners, group members' roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from reconciler.plan.kinds import OpKind
from reconciler.plan.payloads.base import (
    _K,
    EXPIRED,
    INVITATION,
    Payload,
    Wire,
    _Side,
)

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
