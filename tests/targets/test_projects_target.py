"""The Projects API backend, over HTTP against the emulator (in-process TestClient).

Read maps the Projects API's own field names to manifest terms and hides the "Team Member"
role; the same plan and apply as the iTwins backend drive it, member adds go one per request,
and a second plan after apply is empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from reconciler.apply import apply_plan
from reconciler.emulator.app import create_app
from reconciler.emulator.seed import demo_seed
from reconciler.errors import ItwinAccessError
from reconciler.model import Manage, Project, Role, State, UserMember
from reconciler.plan.build import GuardSettings, Operation, OpKind, build_plan
from reconciler.targets.projects import ProjectsTarget

AUTH = Manage.AUTHORITATIVE
VIEWER = {"displayName": "Viewer", "description": "Read only", "permissions": ["imodels_read"]}


def _seed() -> dict[str, Any]:
    seed = demo_seed()
    seed["projects"] = [
        {
            "displayName": "Bridge A",
            "projectNumber": "P-100",
            "timeZone": "Europe/Vilnius",
            "latitude": "54.687157",
            "longitude": "25.279652",
            "geographicLocation": "Vilnius",
            "roles": [VIEWER],
            "members": [
                {"email": "bob@contoso.com", "roles": ["Team Member", "Viewer"]},
                {"email": "carol@contoso.com", "roles": ["Team Member"]},
            ],
        }
    ]
    return seed


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "emulator.db", seed=_seed())) as client:
        yield client


@pytest.fixture
def target(http: TestClient) -> ProjectsTarget:
    return ProjectsTarget.connect(http, token="alice-token", identity="alice@contoso.com")


def _plan(target: ProjectsTarget, desired: State) -> list[Operation]:
    actual, context = target.read(desired.numbers())
    plan = build_plan(
        desired, actual, context, GuardSettings(), members_per_batch=target.members_per_request
    )
    return list(plan.operations)


def _apply(target: ProjectsTarget, desired: State) -> None:
    report = apply_plan(_plan(target, desired), target)
    assert report.complete, [o.to_dict() for o in report.failed]


def test_read_maps_projects_api_fields_to_manifest_terms(target: ProjectsTarget) -> None:
    state, context = target.read(["P-100", "P-404"])
    assert state.numbers() == ("P-100",)
    project = state.projects[0]
    assert dict(project.attributes) == {
        "class": "Endeavor",
        "subClass": "Project",
        "displayName": "Bridge A",
        "status": "Active",  # "active" on the wire
        "dataCenterLocation": "East US",
        "geographicLocation": "Vilnius",
        "ianaTimeZone": "Europe/Vilnius",  # timeZone on the wire
        "latitude": 54.687157,  # a string on the wire
        "longitude": 25.279652,
    }
    # Only what this backend can express: no groups, no owners.
    assert dict(project.manage) == {"roles": AUTH, "members": AUTH}
    assert context.identity == "alice@contoso.com"
    assert "administration_manage_roles" in context.rights["P-100"].permissions


def test_team_member_role_is_hidden_everywhere(target: ProjectsTarget) -> None:
    project = target.read(["P-100"])[0].projects[0]
    assert [r.display_name for r in project.roles] == ["Viewer"]
    # bob's "Team Member" is hidden; carol, a basic team member (Team Member only), is not read.
    assert [(m.email, sorted(m.roles)) for m in project.members] == [
        ("bob@contoso.com", ["Viewer"])
    ]


def test_apply_creates_a_project_with_roles_and_members_then_plans_nothing(
    target: ProjectsTarget, http: TestClient
) -> None:
    lead = Role("Lead", "Leads", frozenset({"imodels_read", "administration_invite_member"}))
    desired = State(
        (
            Project(
                "P-200",
                attributes={"displayName": "Tunnel", "ianaTimeZone": "UTC", "latitude": 10.5},
                manage={"roles": AUTH, "members": AUTH},
                roles=(Role("Viewer", "Read only", frozenset({"imodels_read"})), lead),
                members=(
                    UserMember("bob@contoso.com", frozenset({"Viewer"})),
                    UserMember("dana@contoso.com", frozenset({"Viewer", "Lead"})),
                ),
            ),
        )
    )
    ops = _plan(target, desired)
    adds = [op for op in ops if op.kind is OpKind.ADD_MEMBER]
    assert [op.batch for op in adds] == [0, 1]  # one member per request
    _apply(target, desired)
    assert _plan(target, desired) == []
    # On the wire: each member also holds the API's own "Team Member" role.
    number = http.get(
        "/projects/",
        params={"projectNumber": "P-200"},
        headers={"Authorization": "Bearer alice-token"},
    ).json()["projects"][0]
    members = http.get(
        f"/projects/{number['id']}/members", headers={"Authorization": "Bearer alice-token"}
    ).json()["members"]
    assert all("Team Member" in m["roles"] for m in members)
    assert sorted(m["email"] for m in members) == ["bob@contoso.com", "dana@contoso.com"]


def test_role_and_member_changes_keep_team_member_and_converge(
    target: ProjectsTarget, http: TestClient
) -> None:
    editor = Role("Editor", "Edits", frozenset({"imodels_write"}))
    desired = State(
        (
            Project(
                "P-100",
                attributes={"displayName": "Bridge A (renamed)", "status": "Inactive"},
                manage={"roles": AUTH, "members": AUTH},
                roles=(
                    Role("Viewer", "Read only", frozenset({"imodels_read", "imodels_webview"})),
                    editor,
                ),
                members=(
                    UserMember("bob@contoso.com", frozenset({"Editor"})),  # role change
                    UserMember("carol@contoso.com", frozenset({"Viewer"})),  # basic member: adopt
                ),
            ),
        )
    )
    kinds = sorted(op.kind.value for op in _plan(target, desired))
    assert kinds == [
        "add_member",
        "create_role",
        "update_member",
        "update_project",
        "update_role",
    ]
    _apply(target, desired)
    assert _plan(target, desired) == []
    project = target.read(["P-100"])[0].projects[0]
    assert project.attributes["status"] == "Inactive"
    headers = {"Authorization": "Bearer alice-token", "Prefer": "return=representation"}
    members = http.get(f"/projects/{project.id}/members", headers=headers).json()["members"]
    names = {m["email"]: sorted(r["displayName"] for r in m["roles"]) for m in members}
    assert names == {
        "bob@contoso.com": ["Editor", "Team Member"],
        "carol@contoso.com": ["Team Member", "Viewer"],
    }


def test_authoritative_sections_remove_what_is_undeclared(target: ProjectsTarget) -> None:
    desired = State(
        (Project("P-100", manage={"roles": AUTH, "members": AUTH}, roles=(), members=()),)
    )
    kinds = sorted(op.kind.value for op in _plan(target, desired))
    assert kinds == ["delete_role", "remove_member"]  # never "Team Member", never carol
    _apply(target, desired)
    assert _plan(target, desired) == []


def test_an_org_admin_may_delete_a_project(target: ProjectsTarget, http: TestClient) -> None:
    from reconciler.model import ProjectState

    desired = State((Project("P-100", state=ProjectState.ABSENT),))
    actual, context = target.read(["P-100"])
    assert context.org_admin  # alice administers Contoso: preflight lets the deletion through
    plan = build_plan(desired, actual, context, GuardSettings(), allow=["project-deletions"])
    assert plan.errors == ()
    assert [op.kind for op in plan.operations] == [OpKind.DELETE_PROJECT]
    report = apply_plan(plan.operations, target)
    assert report.complete
    assert target.read(["P-100"])[0].projects == ()
    assert ProjectsTarget.connect(http, token="bob-token").org_admin() is False


def test_groups_and_owners_are_refused_naming_the_backend(target: ProjectsTarget) -> None:
    op = Operation(OpKind.ADD_OWNER, "P-100", "x@contoso.com", None, {"email": "x@contoso.com"})
    with pytest.raises(ItwinAccessError, match="projects backend"):
        target.execute([op])


def test_export_all_lists_every_visible_project(target: ProjectsTarget) -> None:
    assert target.all_numbers() == ["P-100"]


def test_manifests_with_groups_or_owners_are_invalid_for_this_backend(tmp_path: Path) -> None:
    from reconciler.manifest import load_manifests

    manifest = tmp_path / "p.yaml"
    manifest.write_text(
        "projects:\n"
        "  - number: P-1\n"
        "    groups: [{name: Team}]\n"
        "    owners: [alice@contoso.com]\n"
        "    members: [{group: Team, roles: [Viewer]}]\n"
    )
    errors = [str(p) for p in load_manifests([manifest], backend="projects").errors]
    assert len(errors) == 3
    assert all("backend 'projects'" in e for e in errors)
    assert load_manifests([manifest], backend="itwins").errors == []


def test_declaring_the_team_member_role_is_refused_with_a_reason(target: ProjectsTarget) -> None:
    desired = State(
        (
            Project(
                "P-100",
                manage={"roles": AUTH},
                roles=(
                    Role("Viewer", "Read only", frozenset({"imodels_read"})),
                    Role("Team Member"),
                ),
            ),
        )
    )
    ops = _plan(target, desired)
    assert [(op.kind, op.key) for op in ops] == [(OpKind.CREATE_ROLE, "Team Member")]
    with pytest.raises(ItwinAccessError, match="Projects API's own role"):
        target.execute(ops)
