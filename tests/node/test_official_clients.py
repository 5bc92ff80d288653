"""Bentley's official npm clients against the emulator over real HTTP (uvicorn on 127.0.0.1).

drive_clients.js runs @itwin/itwins-client 1.6.1 and @itwin/projects-client 0.7.0 once (see
conftest.py); each test checks one behaviour in what the clients returned. The iTwins client
surfaces ``{status, data, error}`` (data = the named property of the body, absent on errors and
204s; any status >= 500 or transport failure becomes 500 InternalServerError); the Projects client
returns ``{id, name, code}`` objects and throws on any non-2xx answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator.identity import user_id_for

pytestmark = pytest.mark.node

MINIMAL_ITWIN = {"id", "class", "subClass", "type", "number", "displayName", "iTwinAccountId"}
ALICE_ID = user_id_for("alice@contoso.com")


def ids(call: dict[str, Any]) -> list[str]:
    assert call["status"] == 200, call
    return [item["id"] for item in call["data"]]


def project_ids(call: dict[str, Any]) -> list[str]:
    assert call["ok"], call
    return [item["id"] for item in call["value"]]


@pytest.fixture(scope="module")
def itwins(client_results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = client_results["itwins"]
    return out


@pytest.fixture(scope="module")
def projects(client_results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = client_results["projects"]
    return out


# -- @itwin/itwins-client ----------------------------------------------------------------------
def test_itwins_create_returns_201_and_the_full_itwin(itwins: dict[str, Any]) -> None:
    created = itwins["create"]
    assert created["status"] == 201
    assert "error" not in created
    itwin = created["data"]
    assert (itwin["class"], itwin["subClass"], itwin["number"]) == (
        "Endeavor",
        "Project",
        "NODE-001",
    )
    assert itwin["displayName"] == "Node Client Bridge"
    assert itwin["ianaTimeZone"] == "America/New_York"
    assert itwin["status"] == "Active"
    assert itwin["createdBy"] == ALICE_ID
    assert itwins["createAsset"]["status"] == 201


def test_itwins_create_errors_surface_status_and_error_code(itwins: dict[str, Any]) -> None:
    duplicate = itwins["createDuplicate"]
    assert duplicate["status"] == 409
    assert "data" not in duplicate
    assert duplicate["error"]["code"] == "iTwinExists"
    assert duplicate["error"]["details"][0]["target"] == "number"
    missing = itwins["createMissingClass"]
    assert (missing["status"], missing["error"]["code"]) == (422, "InvalidiTwinsRequest")
    assert missing["error"]["details"][0] == {
        "code": "MissingRequiredProperty", "message": "Required property is missing.",
        "target": "class",
    }  # fmt: skip


def test_itwins_get_is_minimal_unless_representation_is_asked(itwins: dict[str, Any]) -> None:
    minimal = itwins["getMinimal"]
    assert minimal["status"] == 200
    assert set(minimal["data"]) == MINIMAL_ITWIN
    full = itwins["getRepresentation"]["data"]
    assert full == itwins["create"]["data"]


def test_itwins_list_by_subclass_including_the_deprecated_argument(itwins: dict[str, Any]) -> None:
    bridge = itwins["create"]["data"]["id"]
    asset = itwins["createAsset"]["data"]["id"]
    assert ids(itwins["listProjects"]) == [bridge]
    assert ids(itwins["listDeprecatedSubClassArg"]) == [asset]
    assert ids(itwins["listAll"]) == [bridge, asset]
    assert all(set(i) == MINIMAL_ITWIN for i in itwins["listAll"]["data"])
    assert all("createdDateTime" in i for i in itwins["listRepresentation"]["data"])


def test_itwins_list_paging_with_a_query_string_starting_with_ampersand(
    itwins: dict[str, Any],
) -> None:
    # Without subClass the client sends "?&$top=1": the emulator must tolerate it.
    bridge = itwins["create"]["data"]["id"]
    asset = itwins["createAsset"]["data"]["id"]
    assert ids(itwins["listTop1"]) == [bridge]
    assert ids(itwins["listTop1Skip1"]) == [asset]


def test_itwins_search_and_number_filters(itwins: dict[str, Any]) -> None:
    assert ids(itwins["listSearch"]) == [itwins["create"]["data"]["id"]]
    assert ids(itwins["listNumber"]) == [itwins["createAsset"]["data"]["id"]]


def test_itwins_list_shows_only_the_callers_itwins(itwins: dict[str, Any]) -> None:
    assert ids(itwins["listOtherUserBefore"]) == []
    hidden = itwins["getOtherUserBefore"]
    assert (hidden["status"], hidden["error"]["code"]) == (404, "iTwinNotFound")
    assert itwins["rawAddMember"]["status"] == 201
    assert ids(itwins["listOtherUser"]) == [itwins["create"]["data"]["id"]]


def test_itwins_update_returns_the_updated_itwin_and_403_without_permission(
    itwins: dict[str, Any],
) -> None:
    updated = itwins["update"]
    assert updated["status"] == 200
    assert updated["data"]["displayName"] == "Node Client Bridge v2"
    assert updated["data"]["geographicLocation"] == "Paris, France"
    assert updated["data"]["number"] == "NODE-001"
    denied = itwins["updateForbidden"]
    assert (denied["status"], denied["error"]["code"]) == (403, "InsufficientPermissions")


def test_itwins_favorites(itwins: dict[str, Any]) -> None:
    bridge = itwins["create"]["data"]["id"]
    for raw in ("rawFavoriteAdd", "rawFavoriteRemove"):
        assert itwins[raw] == {"status": 204, "contentType": None, "bodyLength": 0, "data": None}
    assert ids(itwins["favorites"]) == [bridge]
    assert ids(itwins["favoritesProjects"]) == [bridge]
    assert ids(itwins["favoritesAfterRemove"]) == []


def test_itwins_recents_most_recent_first(itwins: dict[str, Any]) -> None:
    assert itwins["rawRecentAddBridge"]["status"] == 204
    assert ids(itwins["recents"]) == [
        itwins["createAsset"]["data"]["id"],
        itwins["create"]["data"]["id"],
    ]


def test_itwins_accounts(itwins: dict[str, Any]) -> None:
    primary = itwins["primaryAccount"]
    assert primary["status"] == 200
    assert (primary["data"]["class"], primary["data"]["displayName"]) == ("Account", "Contoso")
    assert itwins["account"]["data"] == primary["data"]
    assert itwins["create"]["data"]["iTwinAccountId"] == primary["data"]["id"]


def test_itwins_auth_and_not_found_errors(itwins: dict[str, Any]) -> None:
    expected = {
        "getUnknown": (404, "iTwinNotFound"),
        "getNoToken": (401, "HeaderNotFound"),
        "getBadToken": (401, "Unauthorized"),
    }
    for key, (status, code) in expected.items():
        assert (itwins[key]["status"], itwins[key]["error"]["code"]) == (status, code), key


def test_itwins_delete_is_204_and_only_for_org_admins(itwins: dict[str, Any]) -> None:
    denied = itwins["deleteForbidden"]
    assert (denied["status"], denied["error"]["code"]) == (403, "InsufficientPermissions")
    # 204: no body, so the client reports no data and no error.
    assert itwins["delete"] == {"status": 204}
    gone = itwins["getAfterDelete"]
    assert (gone["status"], gone["error"]["code"]) == (404, "iTwinNotFound")
    assert itwins["deleteAsset"] == {"status": 204}


# -- @itwin/projects-client --------------------------------------------------------------------
def test_projects_created_raw_are_listed_by_the_client(projects: dict[str, Any]) -> None:
    alpha = projects["rawCreateAlpha"]
    assert alpha["status"] == 201
    created = alpha["data"]["project"]
    assert (created["latitude"], created["longitude"]) == ("54.687157", "25.279652")
    assert (created["timeZone"], created["billingCountry"]) == ("EEST", "LT")
    beta = projects["rawCreateBeta"]["data"]["project"]
    assert projects["getAll"]["value"] == [
        {"id": created["id"], "name": "Node Project Alpha", "code": "NP-ALPHA"},
        {"id": beta["id"], "name": "Node Project Beta", "code": "NP-BETA"},
    ]
    duplicate = projects["rawCreateDuplicate"]
    assert (duplicate["status"], duplicate["data"]["error"]["code"]) == (409, "ProjectExists")


def test_projects_visible_to_members_only(projects: dict[str, Any]) -> None:
    alpha = projects["rawCreateAlpha"]["data"]["project"]["id"]
    added = projects["rawAddMember"]
    assert added["status"] == 201
    assert added["data"]["member"]["roles"] == ["Team Member"]
    assert project_ids(projects["getAllOtherUser"]) == [alpha]
    hidden = projects["getByIdOtherUserBeta"]
    assert (hidden["ok"], hidden["status"]) == (False, 404)


def test_projects_search_exact_and_substring(projects: dict[str, Any]) -> None:
    alpha = projects["rawCreateAlpha"]["data"]["project"]["id"]
    beta = projects["rawCreateBeta"]["data"]["project"]["id"]
    assert project_ids(projects["exactName"]) == [beta]
    assert project_ids(projects["substring"]) == [alpha]


def test_projects_paging_through_links(projects: dict[str, Any]) -> None:
    alpha = projects["rawCreateAlpha"]["data"]["project"]["id"]
    beta = projects["rawCreateBeta"]["data"]["project"]["id"]
    assert [p["id"] for p in projects["page1"]["projects"]] == [alpha]
    assert projects["page1"]["links"] == ["next", "previous", "self"]
    assert [p["id"] for p in projects["page2"]["projects"]] == [beta]
    assert projects["page2"]["links"] == ["previous", "self"]
    assert [p["id"] for p in projects["page2Previous"]["projects"]] == [alpha]
    assert project_ids(projects["skip1"]) == [beta]


def test_projects_favorites_and_recents(projects: dict[str, Any]) -> None:
    alpha = projects["rawCreateAlpha"]["data"]["project"]["id"]
    beta = projects["rawCreateBeta"]["data"]["project"]["id"]
    # The Projects API answers 200 to favorite/recent POSTs (the sample app checks for 200).
    for raw in ("rawFavoriteAdd", "rawRecentAddAlpha", "rawRecentAddBeta"):
        assert projects[raw]["status"] == 200, raw
    assert projects["rawFavoriteRemove"]["status"] == 204
    assert project_ids(projects["favorites"]) == [beta]
    assert project_ids(projects["favoritesAfterRemove"]) == []
    assert project_ids(projects["recents"]) == [beta, alpha]
    assert project_ids(projects["recentsTop1"]) == [beta]


def test_projects_get_by_id_and_errors(projects: dict[str, Any]) -> None:
    alpha = projects["rawCreateAlpha"]["data"]["project"]["id"]
    assert projects["getById"]["value"] == {
        "id": alpha, "name": "Node Project Alpha", "code": "NP-ALPHA",
    }  # fmt: skip
    for key, status in (("getByIdUnknown", 404), ("getAllBadToken", 401)):
        assert (projects[key]["ok"], projects[key]["status"]) == (False, status), key
    full = projects["rawGetRepresentation"]["data"]["project"]
    assert full["allowExternalTeamMembers"] is True
    assert full["registeredBy"] == ALICE_ID


def test_projects_delete(projects: dict[str, Any]) -> None:
    denied = projects["rawDeleteForbidden"]
    assert (denied["status"], denied["data"]["error"]["code"]) == (403, "InsufficientPermissions")
    for key in ("rawDeleteAlpha", "rawDeleteBeta"):
        assert projects[key] == {"status": 204, "contentType": None, "bodyLength": 0, "data": None}
    assert (projects["getByIdAfterDelete"]["ok"], projects["getByIdAfterDelete"]["status"]) == (
        False, 404,
    )  # fmt: skip
