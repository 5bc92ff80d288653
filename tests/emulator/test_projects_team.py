"""Projects API (deprecated): team members and roles, with their permission rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from projects_fixtures import (
    BOB_ID,
    CAROL_ID,
    FULL,
    MANAGER_PERMS,
    MANAGER_ROLE,
    MISSING_USER,
    SEEDED_ID,
    VIEWER_ROLE,
    auth,
    create,
    detail_of,
    error,
    serve,
)
from starlette.testclient import TestClient

from reconciler.emulator.identity import user_id_for

MEMBERS = f"/projects/{SEEDED_ID}/members"
ROLES = f"/projects/{SEEDED_ID}/roles"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from serve(tmp_path / "emulator.db")


def team_member_id(client: TestClient, project_id: str = SEEDED_ID) -> str:
    roles = client.get(f"/projects/{project_id}/roles", headers=auth("alice")).json()["roles"]
    return str(next(r["id"] for r in roles if r["displayName"] == "Team Member"))


def member(client: TestClient, user_id: str, token: str = "alice", **headers: str) -> Any:
    return client.get(f"{MEMBERS}/{user_id}", headers=auth(token, **headers))


# -- member reads ----------------------------------------------------------------------------
def test_members_list_role_names_by_default(client: TestClient) -> None:
    response = client.get(MEMBERS, headers=auth("carol"))
    assert response.status_code == 200
    assert response.json()["members"] == [
        {"id": BOB_ID, "email": "bob@contoso.com", "givenName": "Bob", "surname": "Builder",
         "organization": "Contoso", "roles": ["Team Member", "Manager"]},
        {"id": CAROL_ID, "email": "carol@contoso.com", "givenName": "Carol",
         "surname": "Carter", "organization": "Contoso", "roles": ["Viewer"]},
        # A "missing user": deleted from the directory, still a member (contract §2.6).
        {"id": MISSING_USER, "email": None, "givenName": None, "surname": None,
         "organization": None, "roles": ["Viewer"]},
    ]  # fmt: skip


def test_members_list_role_objects_with_prefer_representation(client: TestClient) -> None:
    members = client.get(MEMBERS, headers=auth("carol", **FULL)).json()["members"]
    assert members[1]["roles"] == [
        {"id": VIEWER_ROLE, "displayName": "Viewer", "description": "Reads"}
    ]
    single = member(client, BOB_ID, **FULL).json()["member"]
    assert [r["id"] for r in single["roles"]] == [team_member_id(client), MANAGER_ROLE]


def test_members_pages(client: TestClient) -> None:
    first = client.get(f"{MEMBERS}?$top=2", headers=auth("alice")).json()
    assert [m["id"] for m in first["members"]] == [BOB_ID, CAROL_ID]
    nxt = first["_links"]["next"]["href"]
    assert nxt == f"http://testserver{MEMBERS}?$skip=2&$top=2"
    second = client.get(nxt, headers=auth("alice")).json()
    assert [m["id"] for m in second["members"]] == [MISSING_USER]
    assert "next" not in second["_links"]
    assert client.get(f"{MEMBERS}?$top=100", headers=auth("alice")).status_code == 200
    too_many = client.get(f"{MEMBERS}?$top=101", headers=auth("alice"))
    assert (too_many.status_code, detail_of(too_many)) == (422, ("InvalidValue", "$top"))


def test_member_read_errors(client: TestClient) -> None:
    unknown = member(client, "nobody")
    assert (unknown.status_code, error(unknown)["code"]) == (404, "TeamMemberNotFound")
    hidden = client.get(MEMBERS, headers=auth("dana"))
    assert (hidden.status_code, error(hidden)["code"]) == (404, "ProjectNotFound")
    no_project = client.get("/projects/nope/members", headers=auth("alice"))
    assert (no_project.status_code, error(no_project)["code"]) == (404, "ProjectNotFound")


# -- add -------------------------------------------------------------------------------------
def test_add_by_email_and_role_names_always_adds_team_member(client: TestClient) -> None:
    response = client.post(
        MEMBERS, json={"email": "Dana@Contoso.com", "roleNames": ["viewer"]}, headers=auth("bob")
    )
    assert response.status_code == 201
    assert response.json() == {
        "member": {"id": user_id_for("dana@contoso.com"), "email": "dana@contoso.com",
                   "givenName": "Dana", "surname": "Designer", "organization": "Contoso",
                   "roles": ["Team Member", "Viewer"]}
    }  # fmt: skip
    # The new member now sees the project.
    assert client.get(f"/projects/{SEEDED_ID}", headers=auth("dana")).status_code == 200


def test_add_by_user_id_and_role_ids_with_prefer_representation(client: TestClient) -> None:
    eli = user_id_for("eli@contoso.com")
    response = client.post(
        MEMBERS, json={"userId": eli, "roleIds": [MANAGER_ROLE]}, headers=auth("alice", **FULL)
    )
    assert response.status_code == 201
    roles = response.json()["member"]["roles"]
    assert [r["id"] for r in roles] == [team_member_id(client), MANAGER_ROLE]
    assert roles[1] == {
        "id": MANAGER_ROLE,
        "displayName": "Manager",
        "description": "Runs the team",
    }


def test_add_without_roles_gives_team_member_only(client: TestClient) -> None:
    response = client.post(MEMBERS, json={"email": "eli@contoso.com"}, headers=auth("alice"))
    assert response.json()["member"]["roles"] == ["Team Member"]


def test_external_members_need_a_project_that_allows_them(client: TestClient) -> None:
    refused = client.post(MEMBERS, json={"email": "xena@fabrikam.com"}, headers=auth("alice"))
    assert refused.status_code == 422
    assert detail_of(refused) == ("InvalidValue", "email")
    open_project = create(client, projectNumber="OPEN-1", allowExternalTeamMembers=True)
    url = f"/projects/{open_project['id']}/members"
    xena = client.post(url, json={"email": "xena@fabrikam.com"}, headers=auth("alice"))
    assert xena.status_code == 201
    assert xena.json()["member"]["organization"] == "Fabrikam"
    stranger = client.post(url, json={"email": "pat@example.com"}, headers=auth("alice"))
    assert stranger.status_code == 201
    assert stranger.json()["member"] == {
        "id": user_id_for("pat@example.com"), "email": "pat@example.com", "givenName": None,
        "surname": None, "organization": None, "roles": ["Team Member"],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "code", "detail", "target"),
    [
        ({}, 422, "InvalidProjectsRequest", "MissingRequiredProperty", "email"),
        ({"email": "eli@contoso.com", "userId": "x"}, 422, "InvalidProjectsRequest",
         "InvalidValue", "userId"),
        ({"email": "eli@contoso.com", "roleIds": [VIEWER_ROLE]}, 422, "InvalidProjectsRequest",
         "InvalidValue", "roleIds"),
        ({"userId": user_id_for("eli@contoso.com"), "roleNames": ["Viewer"]}, 422,
         "InvalidProjectsRequest", "InvalidValue", "roleNames"),
        ({"email": "not-an-email"}, 422, "InvalidProjectsRequest", "InvalidValue", "email"),
        ({"email": "eli@contoso.com", "roleNames": "Viewer"}, 422, "InvalidProjectsRequest",
         "InvalidValue", "roleNames"),
        ({"email": "eli@contoso.com", "roleNames": ["Viewer"] * 51}, 422,
         "InvalidProjectsRequest", "InvalidProperty", "roleNames"),
        ({"email": "bob@contoso.com"}, 422, "InvalidProjectsRequest", "InvalidValue", "email"),
    ],
)  # fmt: skip
def test_add_member_validation(
    client: TestClient, body: dict[str, Any], status: int, code: str, detail: str, target: str
) -> None:
    response = client.post(MEMBERS, json=body, headers=auth("alice"))
    assert response.status_code == status
    assert error(response)["code"] == code
    assert detail_of(response) == (detail, target)


@pytest.mark.parametrize(
    ("body", "code", "target"),
    [
        ({"email": "eli@contoso.com", "roleNames": ["Viewer", "Ghost"]}, "RoleNotFound",
         "roleNames[1]"),
        ({"userId": user_id_for("eli@contoso.com"), "roleIds": ["nope"]}, "RoleNotFound",
         "roleIds[0]"),
        ({"userId": "00000000-0000-4000-8000-000000000000"}, "TeamMemberNotFound", "userId"),
    ],
)  # fmt: skip
def test_add_member_not_found_errors(
    client: TestClient, body: dict[str, Any], code: str, target: str
) -> None:
    response = client.post(MEMBERS, json=body, headers=auth("alice"))
    assert response.status_code == 404
    assert (error(response)["code"], error(response)["target"]) == (code, target)


def test_adding_needs_administration_invite_member(client: TestClient) -> None:
    viewer = client.post(MEMBERS, json={"email": "eli@contoso.com"}, headers=auth("carol"))
    assert (viewer.status_code, error(viewer)["code"]) == (403, "InsufficientPermissions")
    outsider = client.post(MEMBERS, json={"email": "eli@contoso.com"}, headers=auth("dana"))
    assert (outsider.status_code, error(outsider)["code"]) == (404, "ProjectNotFound")


# -- update / remove -------------------------------------------------------------------------
def test_patch_replaces_the_role_set(client: TestClient) -> None:
    response = client.patch(
        f"{MEMBERS}/{CAROL_ID}", json={"roleIds": [MANAGER_ROLE, VIEWER_ROLE]}, headers=auth("bob")
    )
    assert response.status_code == 200
    assert response.json()["member"]["roles"] == ["Manager", "Viewer"]
    assert member(client, CAROL_ID).json()["member"]["roles"] == ["Manager", "Viewer"]
    # The new role's permissions apply at once: carol may now add members.
    added = client.post(MEMBERS, json={"email": "eli@contoso.com"}, headers=auth("carol"))
    assert added.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "detail", "target"),
    [
        ({}, 422, "MissingRequiredProperty", "roleIds"),
        ({"roleIds": []}, 422, "InvalidRequestBody", "roleIds"),
        ({"roleIds": "x"}, 422, "InvalidValue", "roleIds"),
        ({"roleIds": [VIEWER_ROLE] * 51}, 422, "InvalidProperty", "roleIds"),
    ],
)
def test_patch_validation(
    client: TestClient, body: dict[str, Any], status: int, detail: str, target: str
) -> None:
    response = client.patch(f"{MEMBERS}/{CAROL_ID}", json=body, headers=auth("alice"))
    assert response.status_code == status
    assert detail_of(response) == (detail, target)


def test_patch_not_found_and_permission_errors(client: TestClient) -> None:
    unknown_role = client.patch(
        f"{MEMBERS}/{CAROL_ID}", json={"roleIds": [VIEWER_ROLE, "nope"]}, headers=auth("alice")
    )
    assert (unknown_role.status_code, error(unknown_role)["code"]) == (404, "RoleNotFound")
    assert error(unknown_role)["target"] == "roleIds[1]"
    unknown_member = client.patch(
        f"{MEMBERS}/nobody", json={"roleIds": [VIEWER_ROLE]}, headers=auth("alice")
    )
    assert (unknown_member.status_code, error(unknown_member)["code"]) == (
        404, "TeamMemberNotFound",
    )  # fmt: skip
    denied = client.patch(f"{MEMBERS}/{BOB_ID}", json={"roleIds": [VIEWER_ROLE]},
                          headers=auth("carol"))  # fmt: skip
    assert (denied.status_code, error(denied)["code"]) == (403, "InsufficientPermissions")


def test_remove_member(client: TestClient) -> None:
    denied = client.delete(f"{MEMBERS}/{BOB_ID}", headers=auth("carol"))
    assert (denied.status_code, error(denied)["code"]) == (403, "InsufficientPermissions")
    removed = client.delete(f"{MEMBERS}/{MISSING_USER}", headers=auth("bob"))
    assert (removed.status_code, removed.content) == (204, b"")
    again = client.delete(f"{MEMBERS}/{MISSING_USER}", headers=auth("bob"))
    assert (again.status_code, error(again)["code"]) == (404, "TeamMemberNotFound")
    # A removed member no longer sees the project.
    client.delete(f"{MEMBERS}/{CAROL_ID}", headers=auth("alice"))
    assert client.get(f"/projects/{SEEDED_ID}", headers=auth("carol")).status_code == 404


# -- roles -----------------------------------------------------------------------------------
def test_roles_list_needs_administration_manage_roles(client: TestClient) -> None:
    response = client.get(ROLES, headers=auth("bob"))
    assert response.status_code == 200
    roles = response.json()["roles"]
    assert [r["displayName"] for r in roles] == ["Team Member", "Manager", "Viewer"]
    assert roles[0]["permissions"] == ["storage_read", "storage_write", "forms_read", "forms_write"]
    assert roles[1] == {"id": MANAGER_ROLE, "displayName": "Manager",
                        "description": "Runs the team", "permissions": MANAGER_PERMS}  # fmt: skip
    denied = client.get(ROLES, headers=auth("carol"))
    assert (denied.status_code, error(denied)["code"]) == (403, "InsufficientPermissions")


def test_create_role(client: TestClient) -> None:
    response = client.post(ROLES, json={"displayName": "Modeler"}, headers=auth("alice"))
    assert response.status_code == 201
    role = response.json()["role"]
    assert role == {"id": role["id"], "displayName": "Modeler", "description": "",
                    "permissions": []}  # fmt: skip
    with_perms = client.post(
        ROLES,
        json={"displayName": "Reviewer", "description": "R", "permissions": ["issues_read"]},
        headers=auth("alice"),
    )
    assert with_perms.json()["role"]["permissions"] == ["issues_read"]


@pytest.mark.parametrize(
    ("body", "detail", "target"),
    [
        ({"description": "x"}, "MissingRequiredProperty", "displayName"),
        ({"displayName": ""}, "InvalidValue", "displayName"),
        ({"displayName": "viewer"}, "InvalidValue", "displayName"),
        ({"displayName": "R", "permissions": ["imodels_read", "fly"]}, "InvalidValue",
         "permissions[1]"),
    ],
)  # fmt: skip
def test_create_role_validation(
    client: TestClient, body: dict[str, Any], detail: str, target: str
) -> None:
    response = client.post(ROLES, json=body, headers=auth("alice"))
    assert response.status_code == 422
    assert error(response)["code"] == "InvalidProjectsRequest"
    assert detail_of(response) == (detail, target)


def test_non_admins_grant_only_permissions_they_hold(client: TestClient) -> None:
    held = client.post(
        ROLES, json={"displayName": "Reader", "permissions": ["imodels_read"]}, headers=auth("bob")
    )
    assert held.status_code == 201
    not_held = client.patch(
        f"{ROLES}/{held.json()['role']['id']}",
        json={"permissions": ["webhooks_write"]},
        headers=auth("bob"),
    )
    assert (not_held.status_code, error(not_held)["code"]) == (403, "InsufficientPermissions")
    admin = client.patch(
        f"{ROLES}/{held.json()['role']['id']}",
        json={"permissions": ["webhooks_write"]},
        headers=auth("alice"),
    )
    assert admin.json()["role"]["permissions"] == ["webhooks_write"]


def test_patch_role_like_the_sample_app(client: TestClient) -> None:
    # The sample app PATCHes the whole role object, id included, permissions in any order.
    body = {"id": VIEWER_ROLE, "displayName": "Reader", "description": "Reads models",
            "permissions": ["savedviews_read", "imodels_read", "imodels_read"]}  # fmt: skip
    response = client.patch(f"{ROLES}/{VIEWER_ROLE}", json=body, headers=auth("bob"))
    assert response.status_code == 403  # bob lacks savedviews_read
    response = client.patch(f"{ROLES}/{VIEWER_ROLE}", json=body, headers=auth("alice"))
    assert response.status_code == 200
    assert response.json()["role"] == {
        "id": VIEWER_ROLE, "displayName": "Reader", "description": "Reads models",
        "permissions": ["imodels_read", "savedviews_read"],
    }  # fmt: skip
    assert member(client, CAROL_ID).json()["member"]["roles"] == ["Reader"]
    perms = client.get(f"/projects/{SEEDED_ID}/permissions", headers=auth("carol")).json()
    assert perms == {"permissions": ["imodels_read", "savedviews_read"]}


def test_patch_role_errors(client: TestClient) -> None:
    def patch(role_id: str, body: dict[str, Any], token: str = "alice") -> Any:
        return client.patch(f"{ROLES}/{role_id}", json=body, headers=auth(token))

    empty = patch(VIEWER_ROLE, {"id": VIEWER_ROLE})
    assert (empty.status_code, detail_of(empty)) == (422, ("InvalidRequestBody", None))
    clash = patch(VIEWER_ROLE, {"displayName": "MANAGER"})
    assert (clash.status_code, detail_of(clash)) == (422, ("InvalidValue", "displayName"))
    bad_perm = patch(VIEWER_ROLE, {"permissions": ["fly"]})
    assert (bad_perm.status_code, detail_of(bad_perm)) == (422, ("InvalidValue", "permissions[0]"))
    builtin = patch(team_member_id(client), {"displayName": "Crew"})
    assert (builtin.status_code, detail_of(builtin)) == (422, ("InvalidValue", "displayName"))
    unknown = patch("nope", {"displayName": "X"})
    assert (unknown.status_code, error(unknown)["code"]) == (404, "RoleNotFound")
    denied = patch(VIEWER_ROLE, {"description": "x"}, token="carol")
    assert (denied.status_code, error(denied)["code"]) == (403, "InsufficientPermissions")


def test_delete_role_unassigns_it(client: TestClient) -> None:
    response = client.delete(f"{ROLES}/{VIEWER_ROLE}", headers=auth("bob"))
    assert (response.status_code, response.content) == (204, b"")
    assert member(client, CAROL_ID).json()["member"]["roles"] == []
    names = [r["displayName"] for r in client.get(ROLES, headers=auth("alice")).json()["roles"]]
    assert names == ["Team Member", "Manager"]
    again = client.delete(f"{ROLES}/{VIEWER_ROLE}", headers=auth("alice"))
    assert (again.status_code, error(again)["code"]) == (404, "RoleNotFound")


def test_delete_role_errors(client: TestClient) -> None:
    builtin = client.delete(f"{ROLES}/{team_member_id(client)}", headers=auth("alice"))
    assert (builtin.status_code, detail_of(builtin)) == (422, ("InvalidValue", "roleId"))
    denied = client.delete(f"{ROLES}/{VIEWER_ROLE}", headers=auth("carol"))
    assert (denied.status_code, error(denied)["code"]) == (403, "InsufficientPermissions")
    # A role id of another project is not found in this one.
    other = create(client, projectNumber="O-1")
    foreign = client.delete(f"/projects/{other['id']}/roles/{VIEWER_ROLE}", headers=auth("alice"))
    assert (foreign.status_code, error(foreign)["code"]) == (404, "RoleNotFound")
