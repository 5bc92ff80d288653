"""Operations: the small frozen change values a plan is made of, and their total order.

Pure: no I/O. ``diff`` produces operations, ``plan.build`` orders, batches and guards them;
both sit above this module, so it lives apart from ``build`` (which re-exports it).

Operation payloads as a saved plan carries them (all values JSON-able, names not ids, except
``before["id"]`` which is always the live id of the object being changed or removed). Code
reads and writes them through the typed class of each kind (``reconciler.plan.payloads``,
listed below the table; ``PAYLOADS`` maps each kind to its class), never as dicts:

==================== ======================================= =====================================
kind                 before                                  after
==================== ======================================= =====================================
create_project       None                                    {"number", <declared attributes>}
update_project       {"id", <changed attrs, live values>}    {<changed attrs, desired values>}
delete_project       {"id", "displayName"}                   None
rename_role          {"id", "displayName" (old name)}        {"displayName" (new name)}
create_role          None                                    {"displayName", "description"
                                                             (None: unmanaged), "permissions"}
update_role          {"id", <changed fields, live>}          {<changed fields: "description",
                                                             "permissions" (full sorted list)>}
delete_role          {"id", "displayName", "description",    None
                     "permissions"}
rename_group         {"id", "name" (old name)}               {"name" (new name)}
create_group         None                                    {"name", "description", "members",
                                                             "imsGroups"}
update_group         {"id", <changed fields, live>}          {<changed: "description",
                                                             "members", "imsGroups" (full lists)>}
delete_group         {"id", "name", "description",           None
                     "members", "imsGroups"}
add_owner            None                                    {"email"}
remove_owner         {"id", "email", "pending"}              None
add_member           None                                    {"email", "roles"}
update_member        {"id", "email", "roles", "pending"}     {"email", "roles"} (full set)
reinvite_member      {"id" (invitation), "email", "roles",   {"email", "roles"}
                     "pending": true}
remove_member        {"id", "email" (None: missing user),    None
                     "roles", "pending"}
cancel_invitation    {"id" (invitation), "email", "roles",   None
                     "pending": true}
add_group_member     None                                    {"group", "roles"}
update_group_member  {"id" (group id), "group", "roles"}     {"group", "roles"}
remove_group_member  {"id" (group id), "group", "roles"}     None
==================== ======================================= =====================================

Payload classes: ``NewProject``, ``ProjectUpdate``, ``ProjectDeletion`` (projects);
``Rename`` (both renames); ``RoleDef`` (create/delete_role), ``RoleUpdate``; ``GroupDef``
(create/delete_group), ``GroupUpdate``; ``OwnerPayload``; ``MemberPayload`` (the five member
kinds: ``old`` the live member, ``new`` the roles given); ``GroupMemberPayload``.

Marks the plan adds (each a field of its payload class): an add of a member or owner the API
turns into an invitation has ``after["invitation"]: true``, and re-sending an expired one
``after["expiredInvitation"]`` (its sending date); a group create/update whose members the API
invites has ``after["invitesMembers"]: true``, and a group update re-listing people whose
invitation expired ``after["expiredMembers"]`` (email -> sending date). A live member or owner
with a pending invitation has ``before["invitedOn"]``/``before["expires"]`` when read.

A rename's key is the new name; the operations after it in the plan use the new name only.
Role names in member payloads are display names; the target resolves them to ids at execution
time, because roles and groups created earlier in the same plan have no id yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from reconciler.plan import payloads
from reconciler.plan.kinds import MEMBER_REMOVALS_GUARD, SPECS, Action, OpKind, kinds
from reconciler.plan.payloads import PAYLOADS, Payload, PayloadError, Rename

__all__ = [
    "ADDS",
    "CHANGES",
    "KIND_ORDER",
    "MEMBER_REMOVALS",
    "PHASE",
    "REMOVES",
    "OpKind",
    "Operation",
    "PayloadError",
    "Rename",
    "action",
]

# Views of the registry (reconciler.plan.kinds), kept for the modules that read them by name.
PHASE: Mapping[OpKind, int] = {kind: s.phase for kind, s in SPECS.items()}
KIND_ORDER: Mapping[OpKind, int] = {kind: i for i, kind in enumerate(OpKind)}
ADDS = kinds(action=Action.ADD)
CHANGES = kinds(action=Action.CHANGE)
REMOVES = kinds(action=Action.REMOVE)
# Removals that count against the member-removal guard (pending invitations count as members).
MEMBER_REMOVALS = kinds(guard=MEMBER_REMOVALS_GUARD)


def action(kind: OpKind) -> str:
    """ "add", "change" or "remove": the Terraform-style bucket of a kind."""
    return SPECS[kind].action.value


@dataclass(frozen=True)
class Operation:
    """One change to one object of one project.

    ``before``/``after`` are JSON-able dicts in manifest terms (role names, lower-cased emails):
    the payload as a saved plan carries it. Code reads and writes it typed, through the kind's
    class in ``reconciler.plan.payloads`` (``MemberPayload.of(op)``, ``Operation.build``,
    ``op.carrying``). ``before`` carries the live ``id`` of the object when one exists, so a
    saved plan can be executed without guessing. ``source`` is "file:line:col" of the
    declaration that caused the operation, or None for a removal of something "not in
    manifests".
    """

    kind: OpKind
    project: str  # project number
    key: str  # object key inside the project ("" for project-level operations)
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    source: str | None = None
    project_id: str | None = None  # live iTwin/project id; None when created by this plan
    batch: int | None = None  # add operations: index of the API request that carries it
    # The id of the operation that makes the API do this anyway (a member whose only roles a
    # role deletion removes, ``reconciler.cascade``); None for a declared change.
    cause: str | None = None

    @classmethod
    def build(
        cls,
        kind: OpKind,
        project: str,
        key: str,
        payload: Payload,
        source: str | None = None,
        project_id: str | None = None,
        cause: str | None = None,
    ) -> Operation:
        """The ``kind`` operation carrying ``payload`` (TypeError when it is another kind's)."""
        before, after = _wire(kind, payload)
        op = cls(kind, project, key, before, after, source, project_id, cause=cause)
        return op._keeping(payload)

    def carrying(self, payload: Payload) -> Operation:
        """This operation with ``payload`` in place of its own (same kind)."""
        before, after = _wire(self.kind, payload)
        return replace(self, before=before, after=after)._keeping(payload)

    def _keeping(self, payload: Payload) -> Operation:
        # ``payload`` is what reading the dicts it wrote gives back (tests/test_payloads.py
        # checks it for every kind and mark): kept, a plan just built is not read again.
        self.__dict__["payload"] = payload
        return self

    @cached_property
    def payload(self) -> Payload:
        """The typed payload, of the kind's class in ``PAYLOADS`` (read from ``before``/
        ``after`` once: renderers, impact and targets ask for it several times an operation;
        cached in the instance's ``__dict__``, which a frozen dataclass leaves writable to
        cached_property). PayloadError when malformed; ``from_dict`` reads it at load."""
        return payloads.read(self)

    @property
    def id(self) -> str:
        return f"{self.project}/{self.kind.value}/{self.key}"

    @property
    def phase(self) -> int:
        return PHASE[self.kind]

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.project, self.phase, KIND_ORDER[self.kind], self.key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "project": self.project,
            "key": self.key,
            "before": _plain(self.before),
            "after": _plain(self.after),
            "source": self.source,
            "project_id": self.project_id,
            "batch": self.batch,
            "cause": self.cause,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Operation:
        """Inverse of ``to_dict``; raises KeyError/ValueError/TypeError on a malformed dict."""
        op = cls(
            kind=OpKind(data["kind"]),
            project=_str(data["project"]),
            key=_str(data["key"]),
            before=_mapping(data.get("before")),
            after=_mapping(data.get("after")),
            source=_opt_str(data.get("source")),
            project_id=_opt_str(data.get("project_id")),
            batch=_opt_int(data.get("batch")),
            cause=_opt_str(data.get("cause")),
        )
        if "id" in data and data["id"] != op.id:
            raise ValueError(f"operation id {data['id']!r} does not match its content ({op.id})")
        try:
            op.payload  # noqa: B018 (read, and kept, now: a malformed payload fails the load)
        except PayloadError as exc:
            raise PayloadError(
                f"operation {op.id}: {exc}; make it again with `itwin-access plan --out FILE`"
            ) from None
        return op


def _wire(
    kind: OpKind, payload: Payload
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    if not isinstance(payload, PAYLOADS[kind]):
        raise TypeError(f"{kind.value} carries a {PAYLOADS[kind].__name__}, not {payload!r}")
    return payload.wire(kind)


def _plain(value: Any) -> Any:
    """A deep copy made of dicts, lists and scalars only (what json.dumps round-trips)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


def _mapping(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object or null, got {type(value).__name__}")
    plain: dict[str, Any] = _plain(value)
    return plain


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _opt_int(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    return value
