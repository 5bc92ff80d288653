"""The operation-kind registry (reconciler.plan.kinds): complete, consistent with the plan schema,
and matched by each target's handler map (a kind a backend supports always has a handler)."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from reconciler.plan import kinds as k
from reconciler.plan.kinds import SPECS, Action, Drift, OpKind
from reconciler.plan.operations import (
    ADDS,
    CHANGES,
    MEMBER_REMOVALS,
    PHASE,
    REMOVES,
    Operation,
    Rename,
)
from reconciler.targets import projects
from reconciler.targets.itwins_write import Writer


def test_every_kind_has_exactly_one_spec() -> None:
    assert list(SPECS) == list(OpKind)
    assert all(spec.kind is kind for kind, spec in SPECS.items())


def test_every_kind_counts_in_one_bucket_and_has_a_phase() -> None:
    assert set(OpKind) == ADDS | CHANGES | REMOVES
    assert len(ADDS) + len(CHANGES) + len(REMOVES) == len(OpKind)
    assert set(PHASE) == set(OpKind)
    assert all(1 <= phase <= 9 for phase in PHASE.values())


def test_the_itwins_writer_handles_every_kind_of_its_backend() -> None:
    assert set(Writer._HANDLERS) == k.kinds(backend=k.ITWINS)


def test_the_projects_target_handles_every_kind_of_its_backend() -> None:
    assert projects.BACKEND == k.PROJECTS
    assert set(projects.HANDLERS) == k.kinds(backend=k.PROJECTS)


def test_the_plan_schema_lists_the_registry_kinds_in_order() -> None:
    schema = json.loads(
        resources.files("reconciler").joinpath("_schemas/plan.schema.json").read_text("utf-8")
    )
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            kind = node.get("properties", {}).get("kind") if "properties" in node else None
            if isinstance(kind, dict) and "enum" in kind:
                found.append(kind["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert [kind.value for kind in OpKind] in found


def test_guard_counts_come_from_the_registry() -> None:
    assert {
        OpKind.REMOVE_MEMBER,
        OpKind.REMOVE_GROUP_MEMBER,
        OpKind.CANCEL_INVITATION,
    } == MEMBER_REMOVALS
    assert k.kinds(guard=k.ROLE_DELETIONS) == {OpKind.DELETE_ROLE}
    assert k.kinds(guard=k.PROJECT_DELETIONS) == {OpKind.DELETE_PROJECT}
    # renames count toward no guard: nothing is deleted or removed
    assert not SPECS[OpKind.RENAME_ROLE].guards
    assert not SPECS[OpKind.RENAME_GROUP].guards


def test_drift_extras_are_removals_of_a_declarable_section() -> None:
    extras = {kind for kind, spec in SPECS.items() if spec.drift is Drift.EXTRA}
    assert extras <= k.kinds(action=Action.REMOVE)
    assert OpKind.DELETE_PROJECT not in extras  # a project is declared by number: never extra


def test_rename_payloads_are_typed_and_name_the_registry_field() -> None:
    role = Operation.build(OpKind.RENAME_ROLE, "P1", "New", Rename("r1", "Old", "New"))
    assert role.before == {"id": "r1", "displayName": "Old"}
    assert role.after == {"displayName": "New"}
    assert Rename.of(role) == Rename("r1", "Old", "New")
    group = Operation(
        OpKind.RENAME_GROUP, "P1", "New", {"id": "g1", "name": "Old"}, {"name": "New"}
    )
    assert Rename.of(group) == Rename("g1", "Old", "New")
    with pytest.raises(ValueError, match="update_role has no Rename payload"):
        Rename.of(Operation(OpKind.UPDATE_ROLE, "P1", "New", {"id": "r1"}))
