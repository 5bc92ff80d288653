"""The seed's ``projects:`` key: loaded in the API's own shapes; bad entries named precisely."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from projects_fixtures import CAROL_ID, MANAGER_ROLE, SEED, SEEDED_ID, auth
from starlette.testclient import TestClient

from reconciler.emulator.app import create_app
from reconciler.emulator.seed import SeedError


def seed_with(project: dict[str, Any]) -> dict[str, Any]:
    seed = copy.deepcopy(SEED)
    seed["projects"].append(project)
    return seed


def test_seeded_project_keeps_its_properties_ids_and_team(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "e.db", seed=SEED)) as client:
        got = client.get(
            f"/projects/{SEEDED_ID}", headers=auth("alice", Prefer="return=representation")
        )
        project = got.json()["project"]
        assert (project["latitude"], project["timeZone"]) == ("40.0", "EST")
        assert project["allowExternalTeamMembers"] is False
        assert project["registeredBy"] is None


def test_team_member_permissions_can_be_seeded(tmp_path: Path) -> None:
    seed = seed_with(
        {"displayName": "T", "projectNumber": "T-1", "id": "t-1",
         "roles": [{"displayName": "Team Member", "permissions": ["imodels_read"]}],
         "members": [{"email": "dana@contoso.com", "roles": ["team member"]}]}
    )  # fmt: skip
    with TestClient(create_app(tmp_path / "e.db", seed=seed)) as client:
        perms = client.get("/projects/t-1/permissions", headers=auth("dana")).json()
        assert perms == {"permissions": ["imodels_read"]}


def test_an_unaffiliated_project_needs_an_owner(tmp_path: Path) -> None:
    seed = seed_with({"displayName": "Solo", "projectNumber": "SO-1", "id": "so-1",
                      "organization": None, "owner": "solo@example.com"})  # fmt: skip
    with TestClient(create_app(tmp_path / "e.db", seed=seed)) as client:
        assert client.get("/projects/so-1", headers=auth("solo")).status_code == 200
        assert client.get("/projects/so-1", headers=auth("alice")).status_code == 404


@pytest.mark.parametrize(
    ("project", "message"),
    [
        ({"displayName": "X"}, "projects[1].projectNumber: Required property is missing."),
        ({"displayName": "X", "projectNumber": "S-1"}, "projects[1].projectNumber: duplicate"),
        ({"displayName": "X", "projectNumber": "N", "organization": "Nowhere"},
         "projects[1].organization: unknown organization 'Nowhere'"),
        ({"displayName": "X", "projectNumber": "N", "organization": None},
         "projects[1]: a project without organization needs owner"),
        ({"displayName": "X", "projectNumber": "N", "members": [{"email": "bob@contoso.com",
          "roles": ["Ghost"]}]}, "projects[1].members[0].roles: unknown role 'Ghost'"),
        ({"displayName": "X", "projectNumber": "N", "roles": [{"displayName": "R",
          "permissions": ["fly"]}]}, "projects[1].roles[0].permissions[0]:"),
        ({"displayName": "X", "projectNumber": "N", "roles": [{"description": "no name"}]},
         "projects[1].roles[0]: needs displayName"),
        ({"displayName": "X", "projectNumber": "N", "members": [{"roles": []}]},
         "projects[1].members[0]: needs email or id"),
        ({"displayName": "X", "projectNumber": "N", "members": [{"email": "bob@contoso.com"},
          {"email": "BOB@contoso.com"}]}, "projects[1].members[1]: duplicate member"),
        ({"displayName": "X", "projectNumber": "N", "latitude": 1.5},
         "projects[1].latitude: Value must be a string"),
    ],
)  # fmt: skip
def test_bad_entries_raise_seed_error_naming_the_entry(
    tmp_path: Path, project: dict[str, Any], message: str
) -> None:
    with pytest.raises(SeedError) as raised:
        create_app(tmp_path / "e.db", seed=seed_with(project))
    assert str(raised.value).startswith(message), str(raised.value)


def test_projects_must_be_a_list(tmp_path: Path) -> None:
    seed = copy.deepcopy(SEED)
    seed["projects"] = {"displayName": "X"}
    with pytest.raises(SeedError, match="projects"):
        create_app(tmp_path / "e.db", seed=seed)


def test_admin_reset_restores_the_seeded_projects(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "e.db", seed=SEED, admin=True)) as client:
        client.delete(f"/projects/{SEEDED_ID}", headers=auth("alice"))
        assert client.post("/__emulator/reset").status_code == 200
        members = client.get(f"/projects/{SEEDED_ID}/members", headers=auth("alice")).json()
        assert [m["email"] for m in members["members"]] == [
            "bob@contoso.com", "carol@contoso.com", None,
        ]  # fmt: skip


def test_seeding_the_same_project_again_is_refused_with_its_entry(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "e.db", seed=SEED, admin=True)) as client:
        again = {"projects": [{"id": SEEDED_ID, "displayName": "X", "projectNumber": "Z-1"}]}
        response = client.post("/__emulator/seed", json=again)
        assert response.status_code == 422
        assert "projects[0].id: a project with id" in response.json()["error"]["message"]
        role = {"id": MANAGER_ROLE, "displayName": "M"}
        role_clash = {"projects": [{"displayName": "X", "projectNumber": "Z-2", "roles": [role]}]}
        response = client.post("/__emulator/seed", json=role_clash)
        assert response.status_code == 422
        assert "projects[0]: a role id is already in use" in response.json()["error"]["message"]
        # Nothing of the refused seeds was kept.
        assert (
            client.get("/projects/?projectNumber=Z-2", headers=auth("alice")).json()["projects"]
            == []
        )


def test_a_user_deleted_from_the_directory_stays_as_a_missing_member(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "e.db", seed=SEED, admin=True)) as client:
        assert client.delete("/__emulator/users/carol@contoso.com").status_code == 204
        got = client.get(f"/projects/{SEEDED_ID}/members/{CAROL_ID}", headers=auth("alice"))
        assert got.json()["member"] == {
            "id": CAROL_ID, "email": None, "givenName": None, "surname": None,
            "organization": None, "roles": ["Viewer"],
        }  # fmt: skip
        removed = client.delete(f"/projects/{SEEDED_ID}/members/{CAROL_ID}", headers=auth("alice"))
        assert removed.status_code == 204
