"""apply_plan: order, batching, parallel projects, and skipping only what depends on a failure.

The Target here is a recording stand-in for the I/O seam (the thing under test is the
orchestration in apply.py); apply against the real target and the emulator over HTTP is
covered in tests/cli and tests/e2e.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from reconciler.apply import ApplyReport, Outcome, Status, apply_plan, blocked_by, steps
from reconciler.errors import ApiError, NotLive
from reconciler.model import LiveContext, State
from reconciler.plan import payloads
from reconciler.plan.build import Operation, OpKind
from reconciler.plan.kinds import SPECS
from reconciler.plan.payloads import NewProject


class RecordingTarget:
    def __init__(self, fail: dict[str, str] | None = None) -> None:
        self.fail = fail or {}
        self.calls: list[list[str]] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0

    def read(self, numbers: Sequence[str], progress: Any = None) -> tuple[State, LiveContext]:
        raise AssertionError("apply never reads")

    def job_batches(self, operations: Sequence[Operation]) -> dict[str, int]:
        return {}  # a backend without jobs: every operation is its own request or batch

    def execute(self, operations: Sequence[Operation]) -> None:
        with self.lock:
            self.calls.append([op.id for op in operations])
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            threading.Event().wait(0.01)  # let other projects' workers overlap
            for op in operations:
                if op.id in self.fail:
                    raise ApiError("POST", "/x", 403, self.fail[op.id], "no way")
        finally:
            with self.lock:
                self.active -= 1


def op(
    kind: OpKind,
    key: str = "",
    project: str = "P1",
    *,
    roles: Sequence[str] = (),
    before_roles: Sequence[str] = (),
    batch: int | None = None,
) -> Operation:
    """A well-formed ``kind`` operation on ``key`` (roles given and held, for member kinds)."""
    name, given, held = key or project, tuple(roles), tuple(before_roles)
    payload: payloads.Payload
    family = payloads.PAYLOADS[kind]
    if family is payloads.MemberPayload:
        payload = payloads.MemberPayload(
            payloads.HeldRoles(None, name, held) if kind is not OpKind.ADD_MEMBER else None,
            payloads.GivenRoles(name, given) if kind in _GIVES else None,
        )
    elif family is payloads.GroupMemberPayload:
        payload = payloads.GroupMemberPayload(
            payloads.GroupRoles(name, held) if kind is not OpKind.ADD_GROUP_MEMBER else None,
            payloads.GroupRoles(name, given) if kind in _GIVES else None,
        )
    else:
        payload = {
            payloads.NewProject: payloads.NewProject(project),
            payloads.ProjectUpdate: payloads.ProjectUpdate(None, {}),
            payloads.ProjectDeletion: payloads.ProjectDeletion(None, None),
            payloads.Rename: payloads.Rename("id", name, name),
            payloads.RoleDef: payloads.RoleDef(name, None, ()),
            payloads.RoleUpdate: payloads.RoleUpdate(None),
            payloads.GroupDef: payloads.GroupDef(name, None, (), ()),
            payloads.GroupUpdate: payloads.GroupUpdate(None),
            payloads.OwnerPayload: payloads.OwnerPayload(name),
        }[family]
    return replace(Operation.build(kind, project, key, payload), batch=batch)


_GIVES = frozenset(k for k, spec in SPECS.items() if spec.gives_roles)


def statuses(report: ApplyReport) -> dict[str, Status]:
    return {o.operation.id: o.status for o in report.outcomes}


def test_operations_run_in_plan_order_within_a_project() -> None:
    ops = [
        op(OpKind.DELETE_ROLE, "Old"),
        op(OpKind.ADD_MEMBER, "bob@x.com", roles=["Viewer"]),
        op(OpKind.CREATE_ROLE, "Viewer"),
        op(OpKind.REMOVE_OWNER, "eve@x.com"),
        op(OpKind.CREATE_PROJECT),
    ]
    target = RecordingTarget()
    report = apply_plan(ops, target)
    assert [c[0] for c in target.calls] == [
        "P1/create_project/",
        "P1/create_role/Viewer",
        "P1/add_member/bob@x.com",
        "P1/delete_role/Old",
        "P1/remove_owner/eve@x.com",
    ]
    assert report.complete
    assert len(report.applied) == 5


def test_add_operations_of_one_batch_share_one_request() -> None:
    ops = [op(OpKind.ADD_MEMBER, f"u{i}@x.com", roles=["R"], batch=i // 3) for i in range(7)]
    ops.append(op(OpKind.ADD_GROUP_MEMBER, "G", roles=["R"], batch=0))
    target = RecordingTarget()
    apply_plan(ops, target)
    assert sorted(target.calls) == [
        ["P1/add_group_member/G"],
        ["P1/add_member/u0@x.com", "P1/add_member/u1@x.com", "P1/add_member/u2@x.com"],
        ["P1/add_member/u3@x.com", "P1/add_member/u4@x.com", "P1/add_member/u5@x.com"],
        ["P1/add_member/u6@x.com"],
    ]


def test_steps_keep_a_batch_together_even_when_keys_interleave() -> None:
    ops = [
        op(OpKind.ADD_MEMBER, "a@x.com", batch=0),
        op(OpKind.ADD_MEMBER, "b@x.com", batch=1),
        op(OpKind.ADD_MEMBER, "c@x.com", batch=0),
    ]
    assert [[o.key for o in s] for s in steps(ops)] == [["a@x.com", "c@x.com"], ["b@x.com"]]


def test_a_failed_create_project_skips_the_rest_of_that_project_only() -> None:
    ops = [
        op(OpKind.CREATE_PROJECT, project="P1"),
        op(OpKind.CREATE_ROLE, "R", project="P1"),
        op(OpKind.ADD_MEMBER, "a@x.com", project="P1", roles=["R"]),
        op(OpKind.CREATE_ROLE, "R", project="P2"),
        op(OpKind.ADD_MEMBER, "a@x.com", project="P2", roles=["R"]),
    ]
    report = apply_plan(
        ops, RecordingTarget(fail={"P1/create_project/": "InsufficientPermissions"})
    )
    assert statuses(report) == {
        "P1/create_project/": Status.FAILED,
        "P1/create_role/R": Status.SKIPPED,
        "P1/add_member/a@x.com": Status.SKIPPED,
        "P2/create_role/R": Status.APPLIED,
        "P2/add_member/a@x.com": Status.APPLIED,
    }
    failed = report.failed[0]
    assert (failed.code, failed.message, failed.http_status) == (
        "InsufficientPermissions",
        "no way",
        403,
    )
    assert {o.cause for o in report.skipped} == {"P1/create_project/"}
    assert not report.complete


def test_a_failed_create_role_skips_only_what_uses_that_role() -> None:
    ops = [
        op(OpKind.CREATE_ROLE, "Lead"),
        op(OpKind.CREATE_ROLE, "Viewer"),
        op(OpKind.UPDATE_ROLE, "Lead"),
        op(OpKind.ADD_MEMBER, "a@x.com", roles=["Lead", "Viewer"], batch=0),
        op(OpKind.ADD_MEMBER, "b@x.com", roles=["Viewer"], batch=0),
        op(OpKind.UPDATE_GROUP_MEMBER, "G", roles=["Lead"]),
        op(OpKind.REMOVE_MEMBER, "c@x.com", before_roles=["Lead"]),
    ]
    target = RecordingTarget(fail={"P1/create_role/Lead": "InvalidiTwinsRoleRequest"})
    report = apply_plan(ops, target)
    assert statuses(report) == {
        "P1/create_role/Lead": Status.FAILED,
        "P1/create_role/Viewer": Status.APPLIED,
        "P1/update_role/Lead": Status.SKIPPED,
        "P1/add_member/a@x.com": Status.SKIPPED,
        "P1/add_member/b@x.com": Status.APPLIED,
        "P1/update_group_member/G": Status.SKIPPED,
        "P1/remove_member/c@x.com": Status.APPLIED,
    }
    # The batch went out without the skipped member.
    assert ["P1/add_member/b@x.com"] in target.calls


def test_a_failed_create_group_skips_its_update_and_assignment() -> None:
    ops = [
        op(OpKind.CREATE_GROUP, "G"),
        op(OpKind.CREATE_GROUP, "H"),
        op(OpKind.UPDATE_GROUP, "G"),
        op(OpKind.ADD_GROUP_MEMBER, "G", roles=["R"], batch=0),
        op(OpKind.ADD_GROUP_MEMBER, "H", roles=["R"], batch=0),
    ]
    report = apply_plan(
        ops, RecordingTarget(fail={"P1/create_group/G": "InvalidiTwinsGroupRequest"})
    )
    assert statuses(report) == {
        "P1/create_group/G": Status.FAILED,
        "P1/create_group/H": Status.APPLIED,
        "P1/update_group/G": Status.SKIPPED,
        "P1/add_group_member/G": Status.SKIPPED,
        "P1/add_group_member/H": Status.APPLIED,
    }


def test_a_failed_batch_fails_every_operation_it_carried() -> None:
    ops = [op(OpKind.ADD_MEMBER, f"u{i}@x.com", roles=["R"], batch=0) for i in range(3)]
    report = apply_plan(ops, RecordingTarget(fail={"P1/add_member/u1@x.com": "RoleNotFound"}))
    assert [o.status for o in report.outcomes] == [Status.FAILED] * 3


def test_a_name_missing_live_fails_with_its_code_and_no_http_status() -> None:
    class Missing(RecordingTarget):
        def execute(self, operations: Sequence[Operation]) -> None:
            raise NotLive("RoleNotFound", "no role named 'R' in the project")

    (outcome,) = apply_plan([op(OpKind.ADD_MEMBER, "u@x.com", roles=["R"])], Missing()).outcomes
    assert (outcome.status, outcome.code, outcome.http_status) == (
        Status.FAILED,
        "RoleNotFound",
        None,
    )
    assert outcome.message == "no role named 'R' in the project"


def test_removals_that_failed_keep_the_role_group_and_owners_they_guard() -> None:
    ops = [
        op(OpKind.ADD_OWNER, "new@x.com"),
        op(OpKind.REMOVE_MEMBER, "a@x.com", before_roles=["Old"]),
        op(OpKind.REMOVE_GROUP_MEMBER, "G", before_roles=["Other"]),
        op(OpKind.DELETE_ROLE, "Old"),
        op(OpKind.DELETE_ROLE, "Other"),
        op(OpKind.DELETE_GROUP, "G"),
        op(OpKind.REMOVE_OWNER, "old@x.com"),
    ]
    fail = {
        "P1/add_owner/new@x.com": "InsufficientPermissions",
        "P1/remove_member/a@x.com": "InsufficientPermissions",
    }
    report = apply_plan(ops, RecordingTarget(fail=fail))
    assert statuses(report) == {
        "P1/add_owner/new@x.com": Status.FAILED,
        "P1/remove_member/a@x.com": Status.FAILED,
        "P1/remove_group_member/G": Status.APPLIED,
        "P1/delete_role/Old": Status.SKIPPED,
        "P1/delete_role/Other": Status.APPLIED,
        "P1/delete_group/G": Status.APPLIED,
        "P1/remove_owner/old@x.com": Status.SKIPPED,
    }


def test_skips_propagate_and_name_the_root_failure() -> None:
    ops = [
        op(OpKind.CREATE_ROLE, "R"),
        op(OpKind.UPDATE_MEMBER, "a@x.com", roles=["R"], before_roles=["Old"]),
        op(OpKind.DELETE_ROLE, "Old"),
    ]
    report = apply_plan(ops, RecordingTarget(fail={"P1/create_role/R": "X"}))
    skipped = {o.operation.id: o.cause for o in report.skipped}
    assert skipped == {
        "P1/update_member/a@x.com": "P1/create_role/R",
        "P1/delete_role/Old": "P1/create_role/R",
    }


def test_delete_project_never_runs_after_a_failure_in_its_project() -> None:
    failed = op(OpKind.REMOVE_MEMBER, "a@x.com")
    assert blocked_by(op(OpKind.DELETE_PROJECT), failed)
    assert not blocked_by(op(OpKind.DELETE_PROJECT, project="P2"), failed)


def test_requests_of_one_phase_overlap_but_phases_do_not() -> None:
    ops = [op(OpKind.UPDATE_MEMBER, f"u{i}@x.com", roles=["R"]) for i in range(6)]
    ops += [op(OpKind.REMOVE_MEMBER, f"gone{i}@x.com") for i in range(3)]
    target = RecordingTarget()
    apply_plan(ops, target, concurrency=4)
    assert 1 < target.max_active <= 4
    kinds = [c[0].split("/")[1] for c in target.calls]
    assert kinds == ["update_member"] * 6 + ["remove_member"] * 3


def test_projects_run_in_parallel_within_the_bound() -> None:
    ops = [op(OpKind.CREATE_ROLE, "R", project=f"P{i}") for i in range(12)]
    target = RecordingTarget()
    apply_plan(ops, target, concurrency=3)
    assert 1 < target.max_active <= 3
    assert len(target.calls) == 12


def test_callbacks_see_every_outcome_and_progress_once_each() -> None:
    ops = [op(OpKind.CREATE_ROLE, "R", project=f"P{i}") for i in range(5)]
    ops.append(op(OpKind.ADD_MEMBER, "a@x.com", project="P0", roles=["R"]))
    seen: list[Outcome] = []
    progress: list[tuple[int, int]] = []
    report = apply_plan(
        ops,
        RecordingTarget(fail={"P0/create_role/R": "X"}),
        concurrency=4,
        on_outcome=seen.append,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert sorted(o.operation.id for o in seen) == sorted(o.id for o in ops)
    assert progress[0] == (0, 6)
    assert sorted(progress[1:]) == [(i, 6) for i in range(1, 7)]
    line = next(o for o in seen if o.status is Status.FAILED).to_dict()
    assert line == {
        "id": "P0/create_role/R",
        "kind": "create_role",
        "project": "P0",
        "status": "failed",
        "code": "X",
        "httpStatus": 403,
        "message": "no way",
    }
    assert report.to_dict()["skipped"] == 1


def test_an_unexpected_exception_is_not_swallowed() -> None:
    class Broken(RecordingTarget):
        def execute(self, operations: Sequence[Operation]) -> None:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        apply_plan([op(OpKind.CREATE_ROLE, "R")], Broken())


def test_an_empty_plan_does_nothing() -> None:
    target = RecordingTarget()
    report = apply_plan([], target)
    assert report.complete
    assert target.calls == []


def test_a_stop_flag_stops_scheduling_and_records_what_was_in_flight() -> None:
    """SIGTERM, as the CLI maps it: nothing new starts after the flag is set; every request
    already sent finishes and has its outcome recorded; the report says it was interrupted."""
    stop = threading.Event()
    target = RecordingTarget()
    operations = [op(OpKind.CREATE_ROLE, f"R{i}", project=f"P{i}") for i in range(6)]
    seen: list[str] = []

    def on_outcome(outcome: Outcome) -> None:
        seen.append(outcome.operation.id)
        stop.set()  # the signal arrives after the first outcome

    report = apply_plan(operations, target, concurrency=2, on_outcome=on_outcome, stop=stop)
    assert report.interrupted
    started = [i for call in target.calls for i in call]
    assert 2 <= len(started) < 6  # the two in flight, perhaps one more scheduled alongside
    assert sorted(seen) == sorted(started)  # every request sent has its outcome recorded
    assert all(o.status is Status.APPLIED for o in report.outcomes)


def _create(project: str, parent: str | None = None) -> Operation:
    attributes = {"parent": parent} if parent else {}
    return Operation.build(OpKind.CREATE_PROJECT, project, "", NewProject(project, attributes))


def test_a_project_created_under_a_parent_of_the_same_plan_waits_for_it() -> None:
    ops = [
        _create("CHILD-1", "PRG"),
        _create("CHILD-2", "PRG"),
        _create("GRANDCHILD", "CHILD-1"),
        op(OpKind.CREATE_ROLE, "R", project="CHILD-2"),
        _create("PRG"),
        _create("ELSEWHERE", "LIVE-PARENT"),  # a parent not created here: no wait
    ]
    target = RecordingTarget()
    report = apply_plan(ops, target, concurrency=8)
    assert report.complete
    order = [call[0] for call in target.calls]
    assert order.index("PRG/create_project/") < order.index("CHILD-1/create_project/")
    assert order.index("PRG/create_project/") < order.index("CHILD-2/create_project/")
    assert order.index("CHILD-1/create_project/") < order.index("GRANDCHILD/create_project/")


def test_when_a_parent_is_not_created_its_descendants_are_skipped_naming_it() -> None:
    ops = [
        _create("PRG"),
        _create("CHILD", "PRG"),
        op(OpKind.CREATE_ROLE, "R", project="CHILD"),
        _create("GRANDCHILD", "CHILD"),
        _create("OTHER"),
    ]
    report = apply_plan(ops, RecordingTarget(fail={"PRG/create_project/": "Forbidden"}))
    assert statuses(report) == {
        "PRG/create_project/": Status.FAILED,
        "CHILD/create_project/": Status.SKIPPED,
        "CHILD/create_role/R": Status.SKIPPED,
        "GRANDCHILD/create_project/": Status.SKIPPED,
        "OTHER/create_project/": Status.APPLIED,
    }
    assert {o.cause for o in report.skipped} == {"PRG/create_project/"}


def test_a_parent_cycle_in_a_saved_plan_is_skipped_not_left_waiting() -> None:
    ops = [_create("A", "B"), _create("B", "A"), _create("C")]
    report = apply_plan(ops, RecordingTarget())
    assert statuses(report) == {
        "A/create_project/": Status.SKIPPED,
        "B/create_project/": Status.SKIPPED,
        "C/create_project/": Status.APPLIED,
    }
    assert not report.interrupted
