"""Removals the API makes on its own when a role is deleted, made explicit in the plan.

Pure: no I/O. Deleting a role removes every member (user, group or invitation) whose only
roles it held (itwin-api.md; the emulator does the same). Left implicit, a plan with
``members: additive`` would remove members while counting none, past every guard and policy.
So each such member gets its own removal operation, marked with the ``cause`` (the id of the
role deletion), counted like any other removal, and executed before the role is deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from reconciler.model import GroupMember, State, UserMember
from reconciler.plan.kinds import SPECS
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import (
    GroupMemberPayload,
    GroupRoles,
    HeldRoles,
    Invitation,
    MemberPayload,
    Payload,
)

# Member operations that change what the member holds (its ``before["roles"]``): a member a
# plan already changes or removes is not removed again.
_TOUCHED = frozenset(k for k, spec in SPECS.items() if spec.releases_roles)


def implied_removals(operations: Sequence[Operation], actual: State) -> list[Operation]:
    """The removal operations the plan's role deletions cause and the plan does not yet hold."""
    deleted: dict[str, dict[str, str]] = defaultdict(dict)  # project -> role -> op id
    touched: dict[str, set[str]] = defaultdict(set)
    for op in operations:
        if op.kind is OpKind.DELETE_ROLE:
            deleted[op.project][op.key] = op.id
        elif op.kind in _TOUCHED:
            touched[op.project].add(op.key)
    implied: list[Operation] = []
    for number, roles in sorted(deleted.items()):
        live = actual.project(number)
        if live is None:
            continue
        gone = frozenset(roles)
        holders: list[UserMember | GroupMember] = [*live.members, *live.group_members]
        for member in holders:
            if not member.roles or not member.roles <= gone or member.key in touched[number]:
                continue
            cause = roles[min(member.roles)]
            implied.append(_removal(member, number, live.id, cause))
    return implied


def _removal(
    member: UserMember | GroupMember, number: str, project_id: str | None, cause: str
) -> Operation:
    roles = tuple(sorted(member.roles))
    payload: Payload
    if isinstance(member, GroupMember):
        payload = GroupMemberPayload(old=GroupRoles(member.group, roles, member.id))
        kind = OpKind.REMOVE_GROUP_MEMBER
    else:
        # The invitation's dates are left out: the plan shows the removal as caused, not them.
        held = HeldRoles(member.id, member.email, roles, Invitation(member.pending))
        payload = MemberPayload(old=held)
        kind = OpKind.CANCEL_INVITATION if member.pending else OpKind.REMOVE_MEMBER
    return Operation.build(kind, number, member.key, payload, None, project_id, cause)
