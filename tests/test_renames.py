"""renamedFrom: a role or group renamed in a manifest is one rename operation that keeps every
assignment (diff, guards, apply's dependencies, words), never a delete and a create."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import blocked_by
from reconciler.diff import diff
from reconciler.effective import after_project
from reconciler.errors import ManifestError, PlanError
from reconciler.manifest import load_state
from reconciler.model import (
    Group,
    GroupMember,
    LiveContext,
    Manage,
    Project,
    Rights,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.build import GuardSettings, Operation, OpKind, build_plan
from reconciler.plan.operations import Rename
from reconciler.render.describe import describe

ALL = dict.fromkeys(("roles", "groups", "members"), Manage.AUTHORITATIVE)
ME = "me@x.com"
# Any removal at all trips the member-removal guard.
STRICT = GuardSettings(
    member_removal_percent=0.0, member_removal_min_members=1, max_member_removals=0
)


def live() -> Project:
    return Project(
        "P1",
        id="itwin-1",
        roles=(
            Role("Viewer", "Read", frozenset({"imodels_read"}), id="r1"),
            Role("Editor", "Write", frozenset({"imodels_write"}), id="r2"),
        ),
        groups=(Group("Team", "The team", frozenset({"dana@x.com"}), id="g1"),),
        members=(
            UserMember("bob@x.com", frozenset({"Viewer"}), id="m1"),
            UserMember("carol@x.com", frozenset({"Viewer", "Editor"}), id="m2"),
            UserMember("xena@y.com", frozenset({"Viewer"}), pending=True, id="i1"),
        ),
        group_members=(GroupMember("Team", frozenset({"Viewer"}), id="g1"),),
    )


def renamed(**changes: Any) -> Project:
    """The live project as a manifest declares it once Viewer -> Reader and Team -> Crew."""
    at = Source("p.yaml", 7, 9)
    project = Project(
        "P1",
        manage=ALL,
        roles=(
            Role("Reader", "Read", frozenset({"imodels_read"}), source=at, renamed_from="Viewer"),
            Role("Editor", "Write", frozenset({"imodels_write"})),
        ),
        groups=(Group("Crew", "The team", frozenset({"dana@x.com"}), renamed_from="Team"),),
        members=(
            UserMember("bob@x.com", frozenset({"Reader"})),
            UserMember("carol@x.com", frozenset({"Reader", "Editor"})),
            UserMember("xena@y.com", frozenset({"Reader"})),
        ),
        group_members=(GroupMember("Crew", frozenset({"Reader"})),),
    )
    return project.evolve(**changes)


def plan(desired: Project, actual: Project) -> Any:
    context = LiveContext(identity=ME, rights={"P1": Rights(owner=True)})
    return build_plan(State((desired,)), State((actual,)), context, STRICT)


def test_a_rename_is_one_operation_per_object_keeping_every_assignment() -> None:
    ops = diff(State((renamed(),)), State((live(),)))
    assert [(op.kind, op.key, op.before, op.after) for op in ops] == [
        (
            OpKind.RENAME_ROLE,
            "Reader",
            {"id": "r1", "displayName": "Viewer"},
            {"displayName": "Reader"},
        ),
        (OpKind.RENAME_GROUP, "Crew", {"id": "g1", "name": "Team"}, {"name": "Crew"}),
    ]
    assert ops[0].source == "p.yaml:7:9"
    assert Rename.of(ops[0]) == Rename("r1", "Viewer", "Reader")


def test_without_renamed_from_the_same_manifest_drops_and_re_adds_every_member() -> None:
    """The behaviour renamedFrom replaces (what this feature saves)."""
    plain = renamed(
        roles=tuple(Role(r.display_name, r.description, r.permissions) for r in renamed().roles),
        groups=(Group("Crew", "The team", frozenset({"dana@x.com"})),),
    )
    kinds = {op.kind for op in diff(State((plain,)), State((live(),)))}
    assert {OpKind.DELETE_ROLE, OpKind.CREATE_ROLE, OpKind.DELETE_GROUP} <= kinds


def test_a_rename_with_other_changes_renames_then_updates_by_the_new_name() -> None:
    desired = renamed(
        roles=(
            Role("Reader", "Reads", frozenset({"imodels_read"}), renamed_from="Viewer"),
            Role("Editor", "Write", frozenset({"imodels_write"})),
        ),
        members=(
            UserMember("bob@x.com", frozenset({"Reader", "Editor"})),
            UserMember("carol@x.com", frozenset({"Reader", "Editor"})),
            UserMember("xena@y.com", frozenset({"Reader"})),
        ),
    )
    ops = diff(State((desired,)), State((live(),)))
    assert [(op.kind, op.key) for op in ops] == [
        (OpKind.RENAME_ROLE, "Reader"),
        (OpKind.UPDATE_ROLE, "Reader"),
        (OpKind.RENAME_GROUP, "Crew"),
        (OpKind.UPDATE_MEMBER, "bob@x.com"),
    ]
    assert ops[1].before == {"id": "r1", "description": "Read"}
    assert (ops[3].before or {})["roles"] == ["Reader"]


def test_a_rename_counts_as_no_role_deletion_and_no_member_removal() -> None:
    result = plan(renamed(), live())
    assert [op.kind for op in result.operations] == [OpKind.RENAME_ROLE, OpKind.RENAME_GROUP]
    assert result.guards == ()
    assert result.errors == ()
    # The same renames without renamedFrom trip both guards.
    plain = renamed(
        roles=tuple(Role(r.display_name, r.description, r.permissions) for r in renamed().roles)
    )
    guards = {v.guard for v in plan(plain, live()).guards}
    assert {"role-deletions", "member-removals"} <= guards


def test_an_old_name_no_longer_live_means_done_already_or_a_create() -> None:
    done = live().evolve(
        roles=(Role("Reader", "Read", frozenset({"imodels_read"}), id="r1"), live().role("Editor")),
        groups=(Group("Crew", "The team", frozenset({"dana@x.com"}), id="g1"),),
        members=(
            UserMember("bob@x.com", frozenset({"Reader"}), id="m1"),
            UserMember("carol@x.com", frozenset({"Reader", "Editor"}), id="m2"),
            UserMember("xena@y.com", frozenset({"Reader"}), pending=True, id="i1"),
        ),
        group_members=(GroupMember("Crew", frozenset({"Reader"}), id="g1"),),
    )
    assert diff(State((renamed(),)), State((done,))) == []
    fresh = Project("P1", id="itwin-1")
    kinds = {op.kind for op in diff(State((renamed(),)), State((fresh,)))}
    assert OpKind.CREATE_ROLE in kinds
    assert OpKind.RENAME_ROLE not in kinds


def test_both_names_live_is_an_error_naming_the_declaration() -> None:
    both = live().evolve(roles=(*live().roles, Role("Reader", "Other", id="r9")))
    with pytest.raises(PlanError, match=r"^p\.yaml:7:9: role 'Reader' is renamedFrom 'Viewer'"):
        diff(State((renamed(),)), State((both,)))
    with pytest.raises(PlanError, match="has both live; delete or rename one of them by hand"):
        diff(State((renamed(),)), State((both,)))


def test_renaming_from_a_name_the_project_still_declares_is_an_error() -> None:
    desired = renamed(groups=(*renamed().groups, Group("Team", "The team")))
    with pytest.raises(PlanError, match="group 'Crew' is renamedFrom 'Team', which project P1"):
        diff(State((desired,)), State((live(),)))


def test_renames_in_unmanaged_sections_are_ignored() -> None:
    desired = renamed(manage={"members": Manage.ADDITIVE})
    assert not [
        op for op in diff(State((desired,)), State((live(),))) if op.kind.startswith("rename")
    ]


def test_a_failed_rename_holds_back_what_uses_the_new_name() -> None:
    rename = Operation(OpKind.RENAME_ROLE, "P1", "Reader", {"id": "r1", "displayName": "Viewer"})
    update = Operation(OpKind.UPDATE_ROLE, "P1", "Reader", {"id": "r1"}, {"description": "x"})
    give = Operation(
        OpKind.ADD_MEMBER, "P1", "eve@x.com", None, {"email": "e", "roles": ["Reader"]}
    )
    other = Operation(
        OpKind.ADD_MEMBER, "P1", "fay@x.com", None, {"email": "f", "roles": ["Editor"]}
    )
    assert blocked_by(update, rename)
    assert blocked_by(give, rename)
    assert not blocked_by(other, rename)
    group = Operation(OpKind.RENAME_GROUP, "P1", "Crew", {"id": "g1", "name": "Team"})
    assign = Operation(OpKind.ADD_GROUP_MEMBER, "P1", "Crew", None, {"group": "Crew", "roles": []})
    assert blocked_by(assign, group)


def test_plans_say_rename_with_the_old_and_new_name() -> None:
    role, group = diff(State((renamed(),)), State((live(),)))
    said = describe(role)
    assert (said.symbol, said.headline, said.details) == (
        "~",
        "rename role 'Reader'",
        ("displayName: 'Viewer' -> 'Reader'",),
    )
    assert describe(group).details == ("name: 'Team' -> 'Crew'",)


def test_the_project_after_the_plan_holds_the_same_access_under_the_new_names() -> None:
    ops = diff(State((renamed(),)), State((live(),)))
    after = after_project(live(), "P1", ops)
    assert after is not None
    assert {r.display_name for r in after.roles} == {"Reader", "Editor"}
    assert {m.key: m.roles for m in after.members}["carol@x.com"] == {"Reader", "Editor"}
    assert [(g.group, g.roles) for g in after.group_members] == [("Crew", frozenset({"Reader"}))]
    assert [g.name for g in after.groups] == ["Crew"]


def test_the_applying_identity_keeps_permissions_held_through_a_renamed_role() -> None:
    """self-protection follows the rename: the identity's role is renamed, not lost, even when
    its own roles change in the same plan."""
    admin = frozenset(
        {
            "administration_manage_roles",
            "administration_manage_groups",
            "administration_invite_member",
        }
    )
    me = live().evolve(
        roles=(*live().roles, Role("Admin", "a", admin, id="r3")),
        members=(*live().members, UserMember(ME, frozenset({"Admin"}), id="m9")),
    )
    desired = renamed(
        roles=(*renamed().roles, Role("Boss", "a", admin, renamed_from="Admin")),
        members=(*renamed().members, UserMember(ME, frozenset({"Boss", "Editor"}))),
    )
    context = LiveContext(identity=ME, rights={"P1": Rights(permissions=admin)})
    result = build_plan(State((desired,)), State((me,)), context, STRICT)
    assert {(op.kind, op.key) for op in result.operations} >= {
        (OpKind.RENAME_ROLE, "Boss"),
        (OpKind.UPDATE_MEMBER, ME),
    }
    assert [v.message for v in result.guards] == []


def test_renamed_from_is_read_from_manifests(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "projects:\n"
        "  - number: P1\n"
        "    roles:\n"
        "      - displayName: Reader\n"
        "        renamedFrom: Viewer\n"
        "        permissions: [imodels_read]\n"
        "    groups:\n"
        "      - name: Crew\n"
        "        renamedFrom: Team\n",
        encoding="utf-8",
    )
    project = load_state([path]).projects[0]
    assert project.roles[0].renamed_from == "Viewer"
    assert project.groups[0].renamed_from == "Team"


def test_validate_refuses_renaming_from_a_name_the_project_still_declares(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "projects:\n"
        "  - number: P1\n"
        "    roles:\n"
        "      - displayName: Viewer\n"
        "      - displayName: Reader\n"
        "        renamedFrom: Viewer\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as caught:
        load_state([path])
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 5)
    assert "role 'Reader' is renamedFrom 'Viewer', which this project also declares" in str(problem)
