"""Words for operations, shared by the text and Markdown renderers.

``describe(op)`` gives a symbol (``+`` add, ``~`` change, ``-`` remove), a headline in manifest
terms and field-level detail lines (``field: before -> after``; for sets only ``+added -removed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from reconciler.invitations import expired_members
from reconciler.model import Scalar
from reconciler.plan import payloads
from reconciler.plan.build import Operation, OpKind, Plan, PlanProblem, action
from reconciler.plan.kinds import GROUPS, OWNERS, PROJECT, ROLES, SPECS, Action
from reconciler.plan.payloads import Change, MemberPayload
from reconciler.visible import visible

SYMBOL = {"add": "+", "change": "~", "remove": "-"}
NOT_IN_MANIFESTS = "not in manifests"

_SETS = ("permissions", "members", "imsGroups", "roles")


@dataclass(frozen=True)
class Described:
    symbol: str
    headline: str
    details: tuple[str, ...]
    where: str  # "file:line:col", or "not in manifests" for an undeclared removal


class Words:
    """``describe`` for the operations of one rendering, each described once: the pass that
    finds changes shared by several projects and the projects' own blocks ask for the same
    words (issue 17: a plan of 5,000 operations was described twice over)."""

    def __init__(self, identity: str | None = None) -> None:
        self.identity = identity
        self._said: dict[str, Described] = {}

    def __call__(self, op: Operation) -> Described:
        key = op.id
        said = self._said.get(key)
        if said is None:
            said = self._said[key] = describe(op, self.identity)
        return said


def describe(op: Operation, identity: str | None = None) -> Described:
    """``identity``: the applying identity, named as the owner a created project gets (its
    creator, user or service application, becomes its owner: contract C3)."""
    spec = SPECS[op.kind]
    verb, noun = spec.verb, spec.noun
    name = _name(op)
    headline = f"{verb} {noun} {name}".rstrip()
    details: list[str] = []
    kind = op.kind
    marks = payloads.sending(op)
    if marks.invitation:
        # The API sends an invitation; the person is a member (owner) once they accept it.
        verb = "re-invite" if marks.expired else "invite"
        headline = f"{verb} {name}" + (" as owner" if kind is OpKind.ADD_OWNER else "")
    if spec.action is Action.ADD and spec.gives_roles:
        headline += f" with roles {_list(payloads.given_roles(op))}"
    elif spec.action is Action.REMOVE and spec.releases_roles:
        headline += f" (roles {_list(payloads.held_roles(op))})"
        if kind is OpKind.REMOVE_MEMBER and MemberPayload.of(op).email is None:
            headline += " [user deleted from the directory]"
    elif spec.action is Action.ADD and spec.section in (PROJECT, ROLES, GROUPS):
        for field, value in _created(op):
            # The headline already names the object; an empty set says nothing (but a role
            # created with no permissions is worth seeing).
            if value is None or (value in ([], ()) and field != "permissions"):
                continue
            details.append(f"{field}: {_value(field, value)}")
        if kind is OpKind.CREATE_PROJECT and identity:
            details.append(f"owner: {identity} (the creator becomes its owner)")
    elif spec.action is Action.REMOVE and spec.section in (ROLES, GROUPS):
        for field, values in _deleted(op):
            if values:
                details.append(f"{field}: {_list(values)}")
    elif spec.section != OWNERS:
        # updates and re-invitations: field-level before -> after
        for field, old, new in _changes(op):
            if old != new:
                details.append(f"{field}: {_delta(field, old, new)}")
    if kind is OpKind.REINVITE_MEMBER:
        details.append("pending invitation: cancelled and sent again with the new roles")
    invitation = _invitation(op)
    if invitation is not None and invitation.pending and invitation.expires:
        sent = invitation.invited_on or "?"
        details.append(f"pending invitation sent {sent}, expires {invitation.expires}")
    if marks.expired:
        headline += f" (invitation of {marks.expired} expired)"  # issue 15: not drift
    elif kind is OpKind.UPDATE_GROUP:
        for email, sent in sorted(expired_members(op).items()):
            details.append(f"re-invite {email} (invitation of {sent} expired)")
    if payloads.invites_members(op):
        # A service application's group change invites each person listed anew (C4).
        anew = set(payloads.listed_anew(op))
        for email in sorted(anew - set(expired_members(op))):
            details.append(f"invite {email} (in the group once they accept)")
    where = op.source or (NOT_IN_MANIFESTS if action(kind) == "remove" else "")
    if op.cause:
        where = f"{NOT_IN_MANIFESTS}; {caused_by(op)}"
    # Names come from live state too: control characters are shown, never sent (visible).
    return Described(
        SYMBOL[action(kind)],
        visible(headline),
        tuple(visible(d) for d in details),
        visible(where),
    )


def _created(op: Operation) -> list[tuple[str, Any]]:
    """The fields a creation sets beyond the name the headline gives (manifest names)."""
    if op.kind is OpKind.CREATE_PROJECT:
        attributes = payloads.NewProject.of(op).attributes
        return [(k, v) for k, v in attributes.items() if k != "displayName"]
    if op.kind is OpKind.CREATE_ROLE:
        role = payloads.RoleDef.of(op)
        return [("description", role.description), ("permissions", list(role.permissions))]
    group = payloads.GroupDef.of(op)
    return [
        ("description", group.description),
        ("members", list(group.members)),
        ("imsGroups", list(group.ims_groups)),
    ]


def _deleted(op: Operation) -> list[tuple[str, tuple[str, ...]]]:
    """The sets a deleted role or group had."""
    if op.kind is OpKind.DELETE_ROLE:
        return [("permissions", payloads.RoleDef.of(op).permissions)]
    return [("members", payloads.GroupDef.of(op).members)]


def _changes(op: Operation) -> list[tuple[str, Any, Any]]:
    """``(field, live, desired)`` of each field an update or rename sets (manifest names;
    sets as lists)."""
    kind = op.kind
    found: list[tuple[str, Change[Any] | None]]
    if kind is OpKind.UPDATE_PROJECT:
        found = list(payloads.ProjectUpdate.of(op).changes.items())
    elif kind in payloads.Rename.KINDS:
        rename = payloads.Rename.of(op)
        found = [(str(SPECS[kind].renames), Change(rename.old, rename.new))]
    elif kind is OpKind.UPDATE_ROLE:
        role = payloads.RoleUpdate.of(op)
        found = [("description", role.description), ("permissions", role.permissions)]
    elif kind is OpKind.UPDATE_GROUP:
        group = payloads.GroupUpdate.of(op)
        found = [
            ("description", group.description),
            ("members", group.members),
            ("imsGroups", group.ims_groups),
        ]
    else:  # member and group-member updates and re-invitations
        found = [("roles", Change(payloads.held_roles(op), payloads.given_roles(op)))]
    return [(field, _plain(c.old), _plain(c.new)) for field, c in found if c is not None]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _invitation(op: Operation) -> payloads.Invitation | None:
    """The invitation state of the live member or owner ``op`` starts from, if any."""
    if op.kind is OpKind.REMOVE_OWNER:
        return payloads.OwnerPayload.of(op).invitation
    if op.kind in MemberPayload.KINDS:
        old = MemberPayload.of(op).old
        return old.invitation if old is not None else None
    return None


def expired_lines(op: Operation) -> list[str]:
    """``drift``'s lines for an operation re-inviting people whose invitation expired
    unaccepted: an add (one person), or a group update (each person it re-lists)."""
    if op.kind is OpKind.UPDATE_GROUP:
        where = f" (group {op.key!r})"
    else:
        where = " (owner)" if op.kind is OpKind.ADD_OWNER else ""
    return [
        visible(f"invitation expired: {email}{where}, invited on {sent}")
        for email, sent in sorted(expired_members(op).items())
    ]


def invitations_expired(ops: Iterable[Operation]) -> int:
    """How many expired invitations ``ops`` send again (a group update may re-list several)."""
    return sum(len(expired_members(op)) for op in ops)


def caused_by(op: Operation) -> str:
    """Why an operation the manifests did not ask for is in the plan (``Operation.cause``)."""
    cause = op.cause or ""
    _, sep, role = cause.rpartition(f"/{OpKind.DELETE_ROLE.value}/")
    _, gsep, group = cause.rpartition(f"/{OpKind.DELETE_GROUP.value}/")
    if action(op.kind) != "remove" and (sep or gsep):
        return (
            f"moves what {'role' if sep else 'group'} {role or group!r} held before it is deleted"
        )
    if sep:
        return f"deleting role {role!r} removes it (its only role)"
    return f"caused by {cause}"


def _name(op: Operation) -> str:
    spec = SPECS[op.kind]
    if spec.section == PROJECT:
        display = _display_name(op)
        return f"{op.project} ({display!r})" if display else op.project
    if spec.quoted:
        return repr(op.key)
    return op.key


def _display_name(op: Operation) -> Scalar:
    """A project's display name: the one it is given, else the live one (if the plan has it)."""
    if op.kind is OpKind.CREATE_PROJECT:
        return payloads.NewProject.of(op).attributes.get("displayName")
    if op.kind is OpKind.DELETE_PROJECT:
        return payloads.ProjectDeletion.of(op).display_name
    change = payloads.ProjectUpdate.of(op).changes.get("displayName")
    return (change.new or change.old) if change is not None else None


def _value(field: str, value: Any) -> str:
    if field in _SETS or isinstance(value, list):
        return _list(value)
    return repr(value) if isinstance(value, str) else str(value)


def _list(values: Any) -> str:
    items = list(values or ())
    return "[" + ", ".join(str(v) for v in items) + "]"


def _delta(field: str, old: Any, new: Any) -> str:
    if field in _SETS and isinstance(new, list):
        # Only what changes (issue 16): a full before/after list of 30 permissions hides the
        # one that moved, and runs past the right edge of a review.
        old_set, new_set = set(old or ()), set(new)
        changes = [f"+{v}" for v in sorted(new_set - old_set)]
        changes += [f"-{v}" for v in sorted(old_set - new_set)]
        return " ".join(changes)
    return f"{_value(field, old)} -> {_value(field, new)}"


def listed_problems(plan: Plan) -> tuple[PlanProblem, ...]:
    """The problems to list under "Problems": not those a blocking guard already states word
    for word (a ``permission-denied`` guard carries its preflight problem's message)."""
    said = {(v.guard, v.project, v.message) for v in plan.blocked}
    return tuple(p for p in plan.problems if (p.code, p.project, p.message) not in said)
