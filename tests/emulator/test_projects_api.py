"""Projects API (deprecated): projects CRUD, lists and paging, favorites, recents, permissions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from projects_fixtures import (
    FULL,
    MANAGER_PERMS,
    SEED,
    SEEDED_ID,
    auth,
    create,
    detail_of,
    error,
    serve,
)
from starlette.testclient import TestClient

from reconciler.emulator.app import create_app
from reconciler.emulator.identity import user_id_for
from reconciler.emulator.limits import Faults
from reconciler.emulator.policy import ALL_PERMISSIONS

FULL_KEYS = {
    "id", "displayName", "projectNumber", "registrationDateTime", "registeredBy",
    "geographicLocation", "latitude", "longitude", "timeZone", "dataCenterLocation",
    "billingCountry", "status", "allowExternalTeamMembers", "_links",
}  # fmt: skip


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from serve(tmp_path / "emulator.db")


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["projects"]]


# -- create ----------------------------------------------------------------------------------
def test_create_answers_201_with_the_full_representation_and_documented_names(
    client: TestClient,
) -> None:
    body = {
        "displayName": "Vilnius Tower", "projectNumber": "VT-1",
        "geographicLocation": "Vilnius, Lithuania", "latitude": "54.687157",
        "longitude": "25.279652", "timeZone": "EEST", "billingCountry": "lt",
        "allowExternalTeamMembers": True, "id": "ignored", "registeredBy": "ignored",
    }  # fmt: skip
    response = client.post("/projects/", json=body, headers=auth("alice"))
    assert response.status_code == 201
    project = response.json()["project"]
    assert set(project) == FULL_KEYS
    assert project["id"] != "ignored"
    assert project["displayName"] == "Vilnius Tower"
    assert project["projectNumber"] == "VT-1"
    assert (project["latitude"], project["longitude"]) == ("54.687157", "25.279652")
    assert project["timeZone"] == "EEST"
    assert project["billingCountry"] == "LT"
    assert project["dataCenterLocation"] == "East US"
    assert project["status"] == "active"
    assert project["allowExternalTeamMembers"] is True
    assert project["registeredBy"] == user_id_for("alice@contoso.com")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", project["registrationDateTime"])
    assert project["_links"]["imodels"]["href"].endswith(f"/imodels/?projectId={project['id']}")


def test_get_is_minimal_by_default_and_full_with_prefer_representation(
    client: TestClient,
) -> None:
    created = create(client, projectNumber="G-1", timeZone="UTC")
    minimal = client.get(f"/projects/{created['id']}", headers=auth("alice"))
    assert minimal.json() == {
        "project": {"id": created["id"], "displayName": "Project G-1", "projectNumber": "G-1"}
    }
    full = client.get(f"/projects/{created['id']}", headers=auth("alice", **FULL))
    assert full.json()["project"] == created


@pytest.mark.parametrize(
    ("body", "detail", "target"),
    [
        ({"projectNumber": "N"}, "MissingRequiredProperty", "displayName"),
        ({"displayName": "D"}, "MissingRequiredProperty", "projectNumber"),
        ({"displayName": " ", "projectNumber": "N"}, "InvalidValue", "displayName"),
        ({"displayName": "D", "projectNumber": "N", "latitude": 54.1}, "InvalidValue", "latitude"),
        ({"displayName": "D", "projectNumber": "N", "latitude": "91"}, "InvalidValue", "latitude"),
        ({"displayName": "D", "projectNumber": "N", "longitude": "x"}, "InvalidValue", "longitude"),
        ({"displayName": "D", "projectNumber": "N", "status": "closed"}, "InvalidValue", "status"),
        ({"displayName": "D", "projectNumber": "N", "dataCenterLocation": "Mars"},
         "InvalidValue", "dataCenterLocation"),
        ({"displayName": "D", "projectNumber": "N", "billingCountry": "LTU"},
         "InvalidValue", "billingCountry"),
        ({"displayName": "D", "projectNumber": "N", "allowExternalTeamMembers": "yes"},
         "InvalidValue", "allowExternalTeamMembers"),
    ],
)  # fmt: skip
def test_create_rejects_invalid_bodies_with_422_invalid_projects_request(
    client: TestClient, body: dict[str, Any], detail: str, target: str
) -> None:
    response = client.post("/projects/", json=body, headers=auth("alice"))
    assert response.status_code == 422
    assert error(response)["code"] == "InvalidProjectsRequest"
    assert detail_of(response) == (detail, target)


@pytest.mark.parametrize("content", [b"[1, 2]", b"{not json"])
def test_create_rejects_a_body_that_is_not_a_json_object(
    client: TestClient, content: bytes
) -> None:
    response = client.post(
        "/projects/", content=content, headers=auth("alice", **{"Content-Type": "application/json"})
    )
    assert response.status_code == 422
    assert detail_of(response) == ("InvalidRequestBody", None)


def test_duplicate_project_number_in_the_same_organization_is_409_project_exists(
    client: TestClient,
) -> None:
    response = client.post(
        "/projects/", json={"displayName": "Again", "projectNumber": "s-1"}, headers=auth("alice")
    )
    assert response.status_code == 409
    assert error(response)["code"] == "ProjectExists"
    assert detail_of(response) == ("InvalidValue", "projectNumber")
    # Numbers are unique per organization: Fabrikam may reuse Contoso's.
    assert create(client, "yuri", projectNumber="S-1")["projectNumber"] == "S-1"


def test_only_org_admins_of_an_organization_create_projects(client: TestClient) -> None:
    response = client.post(
        "/projects/", json={"displayName": "D", "projectNumber": "B-1"}, headers=auth("bob")
    )
    assert response.status_code == 403
    assert error(response)["code"] == "InsufficientPermissions"


def test_an_unaffiliated_user_creates_and_alone_controls_their_project(
    client: TestClient,
) -> None:
    project = create(client, "solo", projectNumber="SOLO-1")
    assert ids(client.get("/projects/", headers=auth("solo"))) == [project["id"]]
    assert client.get(f"/projects/{project['id']}", headers=auth("alice")).status_code == 404
    patched = client.patch(
        f"/projects/{project['id']}", json={"displayName": "Mine"}, headers=auth("solo")
    )
    assert patched.status_code == 200
    assert client.delete(f"/projects/{project['id']}", headers=auth("solo")).status_code == 204


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "HeaderNotFound"),
        ({"Authorization": "Bearer nope"}, 401, "Unauthorized"),
        (
            {"Authorization": "Bearer alice",
             "Accept": "application/vnd.bentley.itwin-platform.v2+json"},
            404,
            "ResourceNotFound",
        ),
    ],
)  # fmt: skip
def test_auth_and_version_errors(
    client: TestClient, headers: dict[str, str], status: int, code: str
) -> None:
    response = client.get("/projects/", headers=headers)
    assert response.status_code == status
    assert error(response)["code"] == code


def test_accept_v1_is_served(client: TestClient) -> None:
    headers = auth("alice", Accept="application/vnd.bentley.itwin-platform.v1+json")
    assert ids(client.get("/projects/", headers=headers)) == [SEEDED_ID]


# -- update / delete -------------------------------------------------------------------------
def test_patch_changes_only_the_given_properties_and_answers_the_full_project(
    client: TestClient,
) -> None:
    # The sample app sends its PATCH body as application/json-patch+json.
    response = client.patch(
        f"/projects/{SEEDED_ID}",
        content=b'{"displayName": "Renamed", "status": "Inactive", "latitude": null}',
        headers=auth("alice", **{"Content-Type": "application/json-patch+json"}),
    )
    assert response.status_code == 200
    project = response.json()["project"]
    assert set(project) == FULL_KEYS
    assert (project["displayName"], project["status"], project["latitude"]) == (
        "Renamed", "inactive", None,
    )  # fmt: skip
    assert (project["projectNumber"], project["longitude"], project["timeZone"]) == (
        "S-1", "-75.5", "EST",
    )  # fmt: skip


def test_patch_errors(client: TestClient) -> None:
    other = create(client, projectNumber="P-2")
    taken = client.patch(
        f"/projects/{other['id']}", json={"projectNumber": "S-1"}, headers=auth("alice")
    )
    assert (taken.status_code, error(taken)["code"]) == (409, "ProjectExists")
    moved = client.patch(
        f"/projects/{other['id']}", json={"dataCenterLocation": "UK South"}, headers=auth("alice")
    )
    assert (moved.status_code, detail_of(moved)) == (422, ("InvalidValue", "dataCenterLocation"))
    unknown = client.patch("/projects/nope", json={"displayName": "X"}, headers=auth("alice"))
    assert (unknown.status_code, error(unknown)["code"]) == (404, "ProjectNotFound")


def test_members_cannot_update_or_delete_and_non_members_do_not_see_the_project(
    client: TestClient,
) -> None:
    # bob is a member holding every administration_* permission: still not an org admin.
    for method in ("PATCH", "DELETE"):
        response = client.request(
            method, f"/projects/{SEEDED_ID}", json={"displayName": "X"}, headers=auth("bob")
        )
        assert (response.status_code, error(response)["code"]) == (403, "InsufficientPermissions")
        hidden = client.request(
            method, f"/projects/{SEEDED_ID}", json={"displayName": "X"}, headers=auth("dana")
        )
        assert (hidden.status_code, error(hidden)["code"]) == (404, "ProjectNotFound")


def test_delete_answers_204_without_body_and_removes_everything(client: TestClient) -> None:
    client.post(f"/projects/favorites/{SEEDED_ID}", headers=auth("bob"))
    response = client.delete(f"/projects/{SEEDED_ID}", headers=auth("alice"))
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers
    gone = client.get(f"/projects/{SEEDED_ID}", headers=auth("alice"))
    assert (gone.status_code, error(gone)["code"]) == (404, "ProjectNotFound")
    assert ids(client.get("/projects/favorites", headers=auth("bob"))) == []
    assert client.delete(f"/projects/{SEEDED_ID}", headers=auth("alice")).status_code == 404


# -- lists -----------------------------------------------------------------------------------
def test_lists_show_members_their_projects_and_org_admins_all_of_their_organization(
    client: TestClient,
) -> None:
    second = create(client, projectNumber="P-2")
    fabrikam = create(client, "yuri", projectNumber="F-1")
    assert ids(client.get("/projects/", headers=auth("alice"))) == [SEEDED_ID, second["id"]]
    assert ids(client.get("/projects/", headers=auth("bob"))) == [SEEDED_ID]
    assert ids(client.get("/projects/", headers=auth("dana"))) == []
    assert ids(client.get("/projects/", headers=auth("yuri"))) == [fabrikam["id"]]


def test_list_filters(client: TestClient) -> None:
    tower = create(client, projectNumber="TW-9", displayName="Harbour Tower")
    create(client, projectNumber="RD-1", displayName="Ring Road")
    get = client.get
    assert ids(get("/projects/?projectNumber=tw-9", headers=auth("alice"))) == [tower["id"]]
    assert ids(get("/projects/?displayName=harbour tower", headers=auth("alice"))) == [tower["id"]]
    assert ids(get("/projects/?displayName=Harbour", headers=auth("alice"))) == []
    assert ids(get("/projects/?$search=OUR", headers=auth("alice"))) == [tower["id"]]
    assert ids(get("/projects/?$search=s-", headers=auth("alice"))) == [SEEDED_ID]


def test_list_pages_follow_absolute_links_until_no_next(client: TestClient) -> None:
    created = [SEEDED_ID] + [create(client, projectNumber=f"PG-{i}")["id"] for i in range(4)]
    seen: list[str] = []
    url: str | None = "/projects/?$top=2"
    pages = 0
    while url is not None:
        response = client.get(url, headers=auth("alice", **FULL))
        body = response.json()
        assert all(set(p) == FULL_KEYS for p in body["projects"])
        seen += [p["id"] for p in body["projects"]]
        links = body["_links"]
        assert links["self"]["href"].startswith("http://testserver/projects?")
        url = links.get("next", {}).get("href")
        pages += 1
    assert seen == created
    assert pages == 3
    last = client.get("/projects/?$skip=4&$top=2", headers=auth("alice")).json()["_links"]
    assert last["prev"]["href"] == "http://testserver/projects?$skip=2&$top=2"
    assert "next" not in last


@pytest.mark.parametrize("query", ["$top=0", "$top=1001", "$top=abc", "$skip=-1"])
def test_out_of_range_paging_is_422_invalid_value(client: TestClient, query: str) -> None:
    response = client.get(f"/projects/?{query}", headers=auth("alice"))
    assert response.status_code == 422
    assert error(response)["code"] == "InvalidProjectsRequest"
    assert detail_of(response) == ("InvalidValue", query.split("=")[0])


def test_a_query_string_starting_with_ampersand_is_tolerated(client: TestClient) -> None:
    assert ids(client.get("/projects/?&$top=1", headers=auth("alice"))) == [SEEDED_ID]


# -- favorites and recents -------------------------------------------------------------------
def test_favorites_add_answers_200_list_and_remove(client: TestClient) -> None:
    added = client.post(f"/projects/favorites/{SEEDED_ID}", headers=auth("bob"))
    assert added.status_code == 200
    assert added.json()["project"]["id"] == SEEDED_ID
    again = client.post(f"/projects/favorites/{SEEDED_ID}", headers=auth("bob"))
    assert again.status_code == 200
    assert ids(client.get("/projects/favorites/", headers=auth("bob"))) == [SEEDED_ID]
    assert ids(client.get("/projects/favorites/", headers=auth("carol"))) == []
    full = client.get("/projects/favorites", headers=auth("bob", **FULL)).json()["projects"]
    assert set(full[0]) == FULL_KEYS
    removed = client.delete(f"/projects/favorites/{SEEDED_ID}", headers=auth("bob"))
    assert (removed.status_code, removed.content) == (204, b"")
    assert ids(client.get("/projects/favorites", headers=auth("bob"))) == []
    assert client.delete(f"/projects/favorites/{SEEDED_ID}", headers=auth("bob")).status_code == 204


def test_favorites_of_unknown_or_hidden_projects_are_404(client: TestClient) -> None:
    hidden = client.post(f"/projects/favorites/{SEEDED_ID}", headers=auth("dana"))
    assert (hidden.status_code, error(hidden)["code"]) == (404, "ProjectNotFound")
    unknown = client.delete("/projects/favorites/nope", headers=auth("bob"))
    assert (unknown.status_code, error(unknown)["code"]) == (404, "ProjectNotFound")
    recent = client.post("/projects/recents/nope", headers=auth("bob"))
    assert (recent.status_code, error(recent)["code"]) == (404, "ProjectNotFound")


def test_recents_are_most_recent_first_and_capped_at_25(client: TestClient) -> None:
    made = [create(client, projectNumber=f"R-{i}")["id"] for i in range(26)]
    for pid in made:
        assert client.post(f"/projects/recents/{pid}", headers=auth("alice")).status_code == 200
    recents = ids(client.get("/projects/recents", headers=auth("alice")))
    assert recents == list(reversed(made))[:25]
    client.post(f"/projects/recents/{made[5]}", headers=auth("alice"))
    again = ids(client.get("/projects/recents?$top=3", headers=auth("alice")))
    assert again == [made[5], made[25], made[24]]


# -- permissions -----------------------------------------------------------------------------
def test_permissions_of_the_caller(client: TestClient) -> None:
    def perms(token: str) -> Any:
        return client.get(f"/projects/{SEEDED_ID}/permissions", headers=auth(token))

    assert perms("alice").json() == {"permissions": list(ALL_PERMISSIONS)}
    team_member = ["storage_read", "storage_write", "forms_read", "forms_write"]
    expected_bob = [p for p in ALL_PERMISSIONS if p in set(MANAGER_PERMS) | set(team_member)]
    assert perms("bob").json() == {"permissions": expected_bob}
    assert perms("carol").json() == {"permissions": ["imodels_read"]}
    assert (perms("dana").status_code, error(perms("dana"))["code"]) == (404, "ProjectNotFound")


def test_projects_survive_a_restart_of_the_same_database(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    with TestClient(create_app(db, seed=None)) as first:
        project = create(first, "alice-token", projectNumber="KEEP-1")
    with TestClient(create_app(db, seed=None)) as second:
        got = second.get(f"/projects/{project['id']}", headers=auth("alice-token"))
        assert got.json()["project"]["projectNumber"] == "KEEP-1"
        assert got.json()["project"]["id"] == project["id"]


def test_rate_limited_projects_requests_answer_429_too_many_requests(tmp_path: Path) -> None:
    # The Projects pages document the older 429 code, TooManyRequests (contract §2.3).
    app = create_app(tmp_path / "emulator.db", seed=SEED, faults=Faults(rate_limit=2))
    with TestClient(app) as limited:
        statuses = [limited.get("/projects/", headers=auth("alice")).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        response = limited.get("/projects/", headers=auth("alice"))
        assert error(response)["code"] == "TooManyRequests"
        assert int(response.headers["Retry-After"]) >= 1
