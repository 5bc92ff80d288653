"""repair: twin roles and groups a race left are merged by ordinary planned operations
(issue 12 item 3a); the read side is tested against the emulator in tests/cli."""

from __future__ import annotations

from reconciler.model import (
    SECTIONS,
    Duplicate,
    Group,
    GroupMember,
    LiveContext,
    Manage,
    Project,
    Rights,
    Role,
    State,
)
from reconciler.plan.build import OpKind, build_plan
from reconciler.plan.guards import GuardSettings
from reconciler.targets.itwins_wire import project as wire_project

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
ADDITIVE = {"roles": Manage.AUTHORITATIVE, "groups": Manage.AUTHORITATIVE,
            "members": Manage.ADDITIVE}  # fmt: skip
OWNER = LiveContext("me@x.com", rights={"P1": Rights(owner=True)})


def test_a_twin_group_is_read_as_one_holding_both_roles_then_deleted() -> None:
    roles = [{"id": "r1", "displayName": "A"}, {"id": "r2", "displayName": "B"}]
    groups = [
        {"id": "g1", "name": "Team", "members": []},
        {"id": "g2", "name": "Team", "members": []},
    ]
    rows = [
        {"id": "g1", "groupName": "Team", "roles": [{"id": "r1"}]},
        {"id": "g2", "groupName": "Team", "roles": [{"id": "r2"}]},
    ]
    itwin = {"id": "p1", "number": "P1", "displayName": "P1"}
    live = wire_project(itwin, None, roles, [], rows, [], groups, [])
    assert [g.id for g in live.groups] == ["g1"]  # the first, as both hold one role
    assert live.group_members == (GroupMember("Team", frozenset({"A", "B"}), id="g1"),)
    (dup,) = live.duplicates
    assert (dup.kind, dup.id, dup.keep, dup.roles) == ("group", "g2", "g1", frozenset({"B"}))

    desired = Project("P1", manage=ADDITIVE, roles=(Role("A"), Role("B")), groups=(Group("Team"),))
    plan = build_plan(State((desired,)), State((live,)), OWNER, GuardSettings())
    kinds = [(op.kind, op.key) for op in plan.operations]
    assert (OpKind.UPDATE_GROUP_MEMBER, "Team") in kinds  # g1 is given B before g2 goes
    assert (OpKind.DELETE_GROUP, "Team (duplicate g2)") in kinds
    moved = next(op for op in plan.operations if op.kind is OpKind.UPDATE_GROUP_MEMBER)
    assert moved.cause == "P1/delete_group/Team (duplicate g2)"
    assert moved.after == {"group": "Team", "roles": ["A", "B"]}


def test_a_twin_role_deletion_is_guarded_and_moves_only_who_lacks_the_kept_one() -> None:
    live = Project(
        "P1",
        manage=AUTH,
        id="p1",
        roles=(Role("A", id="r1"),),
        duplicates=(Duplicate("role", "A", "r2", "r1", holders=frozenset()),),
    )
    plan = build_plan(State((live.evolve(id=None),)), State((live,)), OWNER, GuardSettings())
    assert [(op.kind, op.key) for op in plan.operations] == [
        (OpKind.DELETE_ROLE, "A (duplicate r2)")
    ]
    assert [v.guard for v in plan.blocked] == ["role-deletions"]
