"""Execute the member operations: owners, user members (and invitations), group members.

Mixed into ``itwins_write.Writer``, which provides the project id and the name -> id caches.
A 409 on a batch add (someone in it is already a member, e.g. a resent POST that had
succeeded) is resolved member by member, so re-runs converge; deleting what is gone is done.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from reconciler.api import AccessControlApi
from reconciler.errors import ApiError, Conflict, ItwinAccessError, NotFound, NotLive
from reconciler.plan.build import Operation
from reconciler.plan.payloads import GroupMemberPayload, MemberPayload, OwnerPayload
from reconciler.targets import itwins_wire as wire


def gone(exc: ItwinAccessError) -> bool:
    """Not found on deleting something (by the API, or already missing from the live
    project's listing): it is already gone, which is what was wanted."""
    return isinstance(exc, NotFound | NotLive)


class MemberWrites:
    """Handlers of owner, member and group-member operations."""

    access: AccessControlApi
    _shadowed: dict[str, dict[str, list[str]]]  # iTwin id -> email -> invitation ids
    _shadowed_owners: dict[str, dict[str, list[str]]]  # the same, of owner invitations
    _kept: dict[str, dict[str, list[str]]]  # iTwin id -> member/group id -> Default role ids

    def project_id(self, op: Operation) -> str:
        raise NotImplementedError

    def role_ids(self, itwin_id: str, names: Sequence[str]) -> list[str]:
        raise NotImplementedError

    def group_id(self, itwin_id: str, name: str) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------------ owners

    def add_owner(self, op: Operation) -> None:
        email = OwnerPayload.of(op).email or op.key
        try:
            self.access.add_owner(self.project_id(op), email)
        except ApiError as exc:
            if exc.code != "OwnerAlreadyExists":
                raise

    def remove_owner(self, op: Operation) -> None:
        owner = OwnerPayload.of(op)
        itwin_id = self.project_id(op)
        try:
            if owner.invitation.pending:
                self.access.cancel_invitation(itwin_id, str(owner.id))
            else:
                self.access.remove_owner(itwin_id, str(owner.id))
        except ApiError as exc:
            if not gone(exc):
                raise
        self._cancel_shadowed(itwin_id, op.key, self._shadowed_owners)

    # ------------------------------------------------------------------ members

    def _add_members(self, ops: Sequence[Operation]) -> None:
        itwin_id = self.project_id(ops[0])
        wanted = {}
        for op in ops:
            member = MemberPayload.of(op)
            wanted[(member.email or op.key).lower()] = sorted(member.new_roles)
        self._post_members(itwin_id, wanted)

    def _post_members(self, itwin_id: str, wanted: Mapping[str, list[str]]) -> None:
        rows = [(email, self.role_ids(itwin_id, roles)) for email, roles in wanted.items()]
        try:
            self.access.add_user_members(itwin_id, rows)
        except Conflict:
            self._converge_members(itwin_id, wanted)

    def _converge_members(self, itwin_id: str, wanted: Mapping[str, list[str]]) -> None:
        """After a 409 on a batch add (someone in it is already a member, e.g. a resent POST
        that had succeeded): make each one right on its own terms."""
        live = {str(m.get("email") or "").lower(): m for m in self.access.user_members(itwin_id)}
        names = wire.role_names(self.access.roles(itwin_id))
        missing: dict[str, list[str]] = {}
        for email, roles in wanted.items():
            member = live.get(email)
            if member is None:
                missing[email] = roles
                continue
            have = sorted(wire.roles_of(member, names))
            if have != roles:
                self.access.update_user_member(
                    itwin_id, str(member["id"]), self.role_ids(itwin_id, roles)
                )
        if missing:
            rows = [(email, self.role_ids(itwin_id, roles)) for email, roles in missing.items()]
            self.access.add_user_members(itwin_id, rows)

    def _with_kept(self, itwin_id: str, member_id: str, role_ids: list[str]) -> list[str]:
        """A PATCH replaces every role: add back the Default roles the member holds (hidden
        from plans, never ours to remove, contract C6)."""
        kept = self._kept.get(itwin_id, {}).get(member_id, [])
        return role_ids + [r for r in kept if r not in role_ids]

    def update_member(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        member = MemberPayload.of(op)
        roles = sorted(member.new_roles)
        member_id = str(member.old_id)
        self.access.update_user_member(
            itwin_id,
            member_id,
            self._with_kept(itwin_id, member_id, self.role_ids(itwin_id, roles)),
        )
        self._cancel_shadowed(itwin_id, op.key)

    def reinvite_member(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        member = MemberPayload.of(op)
        try:
            self.access.cancel_invitation(itwin_id, str(member.old_id))
        except ApiError as exc:
            if not gone(exc):
                raise
        self._cancel_shadowed(itwin_id, op.key)  # the person's other pending invitations
        email = (member.new.email if member.new else None) or op.key
        self._post_members(itwin_id, {email.lower(): sorted(member.new_roles)})

    def remove_member(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        try:
            self.access.remove_user_member(itwin_id, str(MemberPayload.of(op).old_id))
        except ApiError as exc:
            if not gone(exc):
                raise
        self._cancel_shadowed(itwin_id, op.key)

    def _cancel_shadowed(
        self, itwin_id: str, email: str, table: dict[str, dict[str, list[str]]] | None = None
    ) -> None:
        """Cancel the pending invitations of a member (or owner: ``table``) that the read saw
        beside its membership (ownership)."""
        shadowed = self._shadowed if table is None else table
        for invitation_id in shadowed.get(itwin_id, {}).pop(email, []):
            try:
                self.access.cancel_invitation(itwin_id, invitation_id)
            except ApiError as exc:
                if not gone(exc):
                    raise

    def cancel_invitation(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        try:
            self.access.cancel_invitation(itwin_id, str(MemberPayload.of(op).old_id))
        except ApiError as exc:
            if not gone(exc):
                raise
        self._cancel_shadowed(itwin_id, op.key)  # the person's other pending invitations

    # ------------------------------------------------------------------ group members

    def _add_group_members(self, ops: Sequence[Operation]) -> None:
        itwin_id = self.project_id(ops[0])
        wanted = {}
        for op in ops:
            given = GroupMemberPayload.of(op).new
            wanted[(given.group if given else None) or op.key] = sorted(
                given.roles if given else ()
            )
        rows = [
            (self.group_id(itwin_id, name), self.role_ids(itwin_id, roles))
            for name, roles in wanted.items()
        ]
        try:
            self.access.add_group_members(itwin_id, rows)
        except Conflict:
            live = {str(m.get("id")): m for m in self.access.group_members(itwin_id)}
            missing = []
            for group_id, role_ids in rows:
                member = live.get(group_id)
                if member is None:
                    missing.append((group_id, role_ids))
                elif sorted(str(r.get("id")) for r in member.get("roles") or []) != sorted(
                    role_ids
                ):
                    self.access.update_group_member(itwin_id, group_id, role_ids)
            if missing:
                self.access.add_group_members(itwin_id, missing)

    def update_group_member(self, op: Operation) -> None:
        itwin_id = self.project_id(op)
        member = GroupMemberPayload.of(op)
        roles = sorted(member.new_roles)
        group_id = member.old_id or self.group_id(itwin_id, op.key)
        role_ids = self._with_kept(itwin_id, group_id, self.role_ids(itwin_id, roles))
        self.access.update_group_member(itwin_id, group_id, role_ids)

    def remove_group_member(self, op: Operation) -> None:
        try:
            group_id = str(GroupMemberPayload.of(op).old_id)
            self.access.remove_group_member(self.project_id(op), group_id)
        except ItwinAccessError as exc:  # the iTwin itself may be gone (NotLive)
            if not gone(exc):
                raise
