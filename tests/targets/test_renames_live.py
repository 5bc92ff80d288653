"""renamedFrom against the emulator, on both backends: the role (and group) keeps its id and
every assignment, invitations included; the next plan is empty, with or without renamedFrom."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from reconciler.apply import apply_plan
from reconciler.emulator.app import create_app
from reconciler.emulator.seed import demo_seed
from reconciler.model import Group, GroupMember, Manage, Project, Role, State, UserMember
from reconciler.plan.build import GuardSettings, OpKind, Plan, build_plan
from reconciler.targets.projects import ProjectsTarget

AUTH = Manage.AUTHORITATIVE
# Any removal at all would trip the member-removal guard.
STRICT = GuardSettings(
    member_removal_percent=0.0, member_removal_min_members=1, max_member_removals=0
)


def plan(target: Any, desired: State) -> Plan:
    actual, context = target.read(desired.numbers())
    return build_plan(desired, actual, context, STRICT)


def test_itwins_renames_keep_ids_and_assignments(emulator, make_target, itwin) -> None:
    target = make_target(
        emulator(
            itwin(
                "P-1",
                roles=[
                    {
                        "displayName": "Viewer",
                        "description": "Read",
                        "permissions": ["imodels_read"],
                    }
                ],
                members=[{"email": "bob@contoso.com", "roles": ["Viewer"]}],
                groups=[
                    {"name": "Team", "description": "The team", "members": ["dana@contoso.com"]}
                ],
                groupMembers=[{"group": "Team", "roles": ["Viewer"]}],
                invitations=[{"email": "xena@fabrikam.com", "roles": ["Viewer"]}],
            )
        )
    )
    before = target.read(["P-1"])[0].projects[0]
    desired = State(
        (
            Project(
                "P-1",
                manage={"roles": AUTH, "groups": AUTH, "members": AUTH},
                roles=(Role("Reader", "Read", frozenset({"imodels_read"}), renamed_from="Viewer"),),
                groups=(
                    Group("Crew", "The team", frozenset({"dana@contoso.com"}), renamed_from="Team"),
                ),
                members=(
                    UserMember("bob@contoso.com", frozenset({"Reader"})),
                    UserMember("xena@fabrikam.com", frozenset({"Reader"})),
                ),
                group_members=(GroupMember("Crew", frozenset({"Reader"})),),
            ),
        )
    )
    first = plan(target, desired)
    assert [op.kind for op in first.operations] == [OpKind.RENAME_ROLE, OpKind.RENAME_GROUP]
    assert first.guards == ()
    assert apply_plan(first.operations, target).complete
    after = target.read(["P-1"])[0].projects[0]
    assert [(r.display_name, r.id) for r in after.roles] == [("Reader", before.roles[0].id)]
    assert [(g.name, g.id) for g in after.groups] == [("Crew", before.groups[0].id)]
    assert {(m.key, m.roles, m.pending, m.id) for m in after.members} == {
        (m.key, frozenset({"Reader"}), m.pending, m.id) for m in before.members
    }
    assert [(g.group, g.roles) for g in after.group_members] == [("Crew", frozenset({"Reader"}))]
    assert plan(target, desired).operations == ()  # renamedFrom left in place: nothing to do


@pytest.fixture
def projects_http(tmp_path: Path) -> Iterator[TestClient]:
    seed = demo_seed()
    seed["projects"] = [
        {
            "displayName": "Bridge A",
            "projectNumber": "P-100",
            "roles": [
                {
                    "displayName": "Viewer",
                    "description": "Read only",
                    "permissions": ["imodels_read"],
                }
            ],
            "members": [{"email": "bob@contoso.com", "roles": ["Team Member", "Viewer"]}],
        }
    ]
    with TestClient(create_app(tmp_path / "emulator.db", seed=seed)) as client:
        yield client


def test_projects_api_role_renames_keep_members(projects_http: TestClient) -> None:
    target = ProjectsTarget.connect(
        projects_http, token="alice-token", identity="alice@contoso.com"
    )
    role_id = target.read(["P-100"])[0].projects[0].roles[0].id
    desired = State(
        (
            Project(
                "P-100",
                manage={"roles": AUTH, "members": AUTH},
                roles=(
                    Role("Reader", "Read only", frozenset({"imodels_read"}), renamed_from="Viewer"),
                ),
                members=(UserMember("bob@contoso.com", frozenset({"Reader"})),),
            ),
        )
    )
    first = plan(target, desired)
    assert [op.kind for op in first.operations] == [OpKind.RENAME_ROLE]
    assert first.guards == ()
    assert apply_plan(first.operations, target).complete
    project = target.read(["P-100"])[0].projects[0]
    assert [(r.display_name, r.id) for r in project.roles] == [("Reader", role_id)]
    headers = {"Authorization": "Bearer alice-token", "Prefer": "return=representation"}
    members = projects_http.get(f"/projects/{project.id}/members", headers=headers).json()
    assert {
        m["email"]: sorted(r["displayName"] for r in m["roles"]) for m in members["members"]
    } == {"bob@contoso.com": ["Reader", "Team Member"]}
    assert plan(target, desired).operations == ()
