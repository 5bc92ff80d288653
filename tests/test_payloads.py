"""Typed payloads (reconciler.plan.payloads): one class per kind, and the saved-plan format
they read and write unchanged (issue 14)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_plan import every_kind_plan

from reconciler.errors import PlanError
from reconciler.invitations import GROUP, Sent, apply_expiry
from reconciler.model import LiveContext
from reconciler.plan.build import Plan, mark_invitations
from reconciler.plan.operations import Operation, OpKind
from reconciler.plan.payloads import (
    PAYLOADS,
    Change,
    GivenRoles,
    GroupUpdate,
    MemberPayload,
    OwnerPayload,
    PayloadError,
    RoleDef,
    read,
)

# The operations of ``every_kind_plan()`` as saved by main before payloads were typed
# (commit c306971): the format must not move.
SAVED = Path(__file__).parent / "fixtures" / "saved-operations-every-kind.json"

# Payloads only some plans hold: the marks (invitations, expired ones), a pending owner's
# dates, a deleted user's member, a cascade's removal and a group member without a live id.
MARKED: list[dict[str, Any]] = [
    {"kind": "add_member", "key": "a@x.com",
     "after": {"email": "a@x.com", "roles": ["R"], "invitation": True,
               "expiredInvitation": "2026-01-02"}},
    {"kind": "add_owner", "key": "o@x.com", "after": {"email": "o@x.com", "invitation": True}},
    {"kind": "remove_owner", "key": "p@x.com",
     "before": {"id": "i9", "email": "p@x.com", "pending": True, "invitedOn": "2026-01-01",
                "expires": "2026-01-08"}},
    {"kind": "remove_member", "key": "id:m7",
     "before": {"id": "m7", "email": None, "roles": ["R"], "pending": False}},
    {"kind": "cancel_invitation", "key": "c@x.com", "cause": "P/delete_role/R",
     "before": {"id": "i3", "email": "c@x.com", "roles": ["R"], "pending": True}},
    {"kind": "create_group", "key": "G",
     "after": {"name": "G", "description": None, "members": ["b@x.com"], "imsGroups": [],
               "invitesMembers": True}},
    {"kind": "update_group", "key": "G",
     "before": {"id": "g1", "members": ["a@x.com"]},
     "after": {"members": ["a@x.com", "b@x.com", "c@x.com"], "invitesMembers": True,
               "expiredMembers": {"b@x.com": "2026-01-02"}}},
    {"kind": "update_group_member", "key": "G",
     "before": {"id": None, "group": "G", "roles": ["R"]},
     "after": {"group": "G", "roles": ["R", "S"]}},
    {"kind": "create_project", "key": "",
     "after": {"number": "P", "displayName": "P", "parent": "Q", "latitude": 1.5}},
]  # fmt: skip


def _saved(row: dict[str, Any]) -> dict[str, Any]:
    op = Operation(OpKind(row["kind"]), "P", row["key"], row.get("before"), row.get("after"))
    return {**op.to_dict(), "cause": row.get("cause")}


def test_every_kind_has_one_payload_class() -> None:
    assert set(PAYLOADS) == set(OpKind)
    for kind, family in PAYLOADS.items():
        assert kind in family.KINDS


def test_the_saved_format_is_unchanged_and_every_kind_round_trips_through_its_payload() -> None:
    saved = json.loads(SAVED.read_text())
    assert {row["kind"] for row in saved} == {k.value for k in OpKind}
    made = json.loads(json.dumps([op.to_dict() for op in every_kind_plan().operations]))
    assert made == saved  # what this branch saves is what main saved
    for row in [*saved, *map(_saved, MARKED)]:
        op = Operation.from_dict(row)  # what main saved loads
        payload = op.payload
        assert type(payload) is PAYLOADS[op.kind]
        again = Operation.build(op.kind, op.project, op.key, payload, op.source, op.project_id,
                                op.cause)  # fmt: skip
        assert again.to_dict() == {**row, "batch": None}  # the same dict, field for field


def test_typed_payloads_read_what_the_table_says() -> None:
    add = Operation.from_dict(_saved(MARKED[0]))
    member = MemberPayload.of(add)
    assert member.new == GivenRoles("a@x.com", ("R",), member.sending)
    assert (member.sending.invitation, member.sending.expired) == (True, "2026-01-02")
    assert member.old is None
    assert member.email == "a@x.com"
    update = GroupUpdate.of(Operation.from_dict(_saved(MARKED[6])))
    assert update.members == Change(("a@x.com",), ("a@x.com", "b@x.com", "c@x.com"))
    assert update.listed_anew == ("b@x.com", "c@x.com")
    assert update.expired_members == {"b@x.com": "2026-01-02"}
    owner = OwnerPayload.of(Operation.from_dict(_saved(MARKED[2])))
    assert owner.invitation.pending
    assert owner.invitation.expires == "2026-01-08"
    with pytest.raises(PayloadError, match="add_member has no RoleDef payload"):
        RoleDef.of(add)
    with pytest.raises(TypeError, match="add_member carries a MemberPayload"):
        Operation.build(OpKind.ADD_MEMBER, "P", "k", RoleDef("R", None, ()))


@pytest.mark.parametrize(
    ("kind", "before", "after", "error"),
    [
        ("add_member", None, {"email": "a@x.com", "roles": "Admin"},
         "operation P/add_member/k: after.roles: expected a list of strings, got str"),
        ("add_member", None, {"roles": ["Admin"]},
         "operation P/add_member/k: after has no 'email'"),
        ("remove_member", None, None, "operation P/remove_member/k: before has no 'email'"),
        ("update_member", {"id": "m", "email": "a@x.com", "roles": ["R"], "pending": "no"},
         {"email": "a@x.com", "roles": ["S"]}, "before.pending: expected true or false, got str"),
        ("update_group", {"id": "g"}, {"expiredMembers": ["x"]},
         "after.expiredMembers: expected an object of strings, got list"),
        ("create_project", None, {"number": "P", "displayName": {"x": 1}},
         "after.displayName: expected a string, number, boolean or null, got dict"),
    ],
)  # fmt: skip
def test_a_malformed_payload_is_refused_at_load_naming_the_operation_and_field(
    kind: str, before: Any, after: Any, error: str
) -> None:
    row = {"kind": kind, "project": "P", "key": "k", "before": before, "after": after}
    with pytest.raises(PayloadError) as raised:
        Operation.from_dict(row)
    assert error in str(raised.value)
    document = every_kind_plan().to_dict()
    document["operations"].append(row)
    with pytest.raises(PlanError, match=f"saved plan is malformed: .*{re.escape(error)}"):
        Plan.from_dict(document)


def test_only_the_payload_classes_read_or_write_the_raw_dicts() -> None:
    """Issue 14: ``before``/``after`` are the saved form; every other module goes through
    ``reconciler.plan.payloads`` (``Operation`` itself only (de)serializes them)."""
    package = Path(__file__).parents[1] / "reconciler"
    payloads = package / "plan" / "payloads"
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.is_relative_to(payloads) or path == package / "plan" / "operations.py":
            continue
        if "emulator" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            named = (isinstance(node, ast.Attribute) and node.attr in ("before", "after")) or (
                isinstance(node, ast.keyword) and node.arg in ("before", "after")
            )
            if named:
                found.append(f"{path.relative_to(package)}:{getattr(node, 'lineno', '?')}")
    assert found == []


def test_a_built_operation_keeps_the_payload_its_dicts_read_back() -> None:
    """``Operation.build`` and ``carrying`` keep the payload they were given instead of reading
    it again: it must be exactly what reading the dicts they wrote gives."""
    rows = [Operation.from_dict(_saved(row)) for row in MARKED]
    made = [*every_kind_plan().operations, *rows]
    # The marks as the plan sets them (a service application's adds; expired invitations
    # re-sent, or left out of a group update).
    marked = mark_invitations(made, LiveContext(identity="app@x.com", service_app=True))
    found = [
        Sent("P", "member", "a@x.com", "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z"),
        Sent("P", GROUP, "c@x.com", "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "G"),
    ]
    built = [
        *apply_expiry(marked, found, reinvite=True)[0],
        *apply_expiry(marked, found, reinvite=False)[0],
        *(Operation.build(op.kind, op.project, op.key, op.payload) for op in rows),
    ]
    assert {op.kind for op in built} == set(OpKind)
    assert {"invitation", "expiredInvitation", "invitesMembers", "expiredMembers"} <= {
        mark for op in built for mark in (op.after or {})
    }
    kept = [op for op in built if "payload" in op.__dict__]
    # (a batched add is copied with its batch number by plan.build, and read again)
    assert {op.kind for op in kept} | {OpKind.ADD_GROUP_MEMBER} == set(OpKind)
    for op in kept:
        assert read(op) == op.payload, op.id
