"""iTwins API: list (filters, scope, paging), get, create, update, delete, favorites, recents,
accounts - happy paths, documented errors and permission denials."""

from __future__ import annotations

from emu_helpers import AC, Emu, error_code, error_target, h
from starlette.testclient import TestClient

REPR = {"Prefer": "return=representation"}


def test_create_returns_full_itwin_and_makes_creator_owner(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin(number="BR-1", ianaTimeZone="America/New_York", latitude=40.0)
    assert itwin["class"] == "Endeavor"
    assert itwin["status"] == "Active"
    assert itwin["dataCenterLocation"] == "East US"
    assert itwin["ianaTimeZone"] == "America/New_York"
    assert itwin["createdDateTime"].endswith("Z")
    assert itwin["iTwinAccountId"]
    owners = client.get(f"{AC}/{itwin['id']}/members/owners", headers=h("alice-token"))
    assert [o["email"] for o in owners.json()["members"]] == ["alice@contoso.com"]


def test_number_defaults_to_id(emu: Emu) -> None:
    itwin = emu.itwin()
    assert itwin["number"] == itwin["id"]


def test_create_errors(emu: Emu, client: TestClient) -> None:
    emu.itwin(number="DUP")
    r = client.post("/itwins", json={"class": "Endeavor", "subClass": "Project",
                                     "displayName": "x", "number": "DUP"},
                    headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_code(r), error_target(r)) == (409, "iTwinExists", "number")
    r = client.post("/itwins", json={"subClass": "Project", "displayName": "x"},
                    headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_code(r), error_target(r)) == (422, "InvalidiTwinsRequest", "class")
    assert r.json()["error"]["details"][0]["code"] == "MissingRequiredProperty"
    r = client.post("/itwins", json={"class": "Account", "subClass": "Account",
                                     "displayName": "x"}, headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_target(r)) == (422, "class")
    r = client.post("/itwins", json={"class": "Thing", "subClass": "Project",
                                     "displayName": "x"}, headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_target(r)) == (422, "subClass")
    r = client.post("/itwins", json={"class": "Endeavor", "subClass": "Project",
                                     "displayName": "x", "status": "Gone"},
                    headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_target(r)) == (422, "status")


def test_plain_user_cannot_create_without_itwins_create(client: TestClient) -> None:
    r = client.post("/itwins", json={"class": "Endeavor", "subClass": "Project",
                                     "displayName": "x"}, headers=h("bob-token"))  # fmt: skip
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")


def test_itwins_create_on_parent_allows_child_creation(emu: Emu, client: TestClient) -> None:
    parent = emu.itwin(subClass="Program", number="PRG")
    role = emu.role(parent["id"], "Creator", ["itwins_create"])
    emu.member(parent["id"], "bob@contoso.com", [role])
    r = client.post("/itwins", json={"class": "Endeavor", "subClass": "Project",
                                     "displayName": "child", "parentId": parent["id"]},
                    headers=h("bob-token"))  # fmt: skip
    assert r.status_code == 201
    assert r.json()["iTwin"]["parentId"] == parent["id"]


def test_get_minimal_by_default_and_full_on_request(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin(number="G-1")
    r = client.get(f"/itwins/{itwin['id']}", headers=h("alice-token"))
    assert set(r.json()["iTwin"]) == {"id", "class", "subClass", "type", "number", "displayName",
                                      "iTwinAccountId"}  # fmt: skip
    r = client.get(f"/itwins/{itwin['id']}", headers=h("alice-token", **REPR))
    assert r.json()["iTwin"]["status"] == "Active"
    assert "createdBy" in r.json()["iTwin"]


def test_get_unknown_or_invisible_is_404_itwin_not_found(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    for token, itwin_id in (("alice-token", "nope"), ("bob-token", itwin["id"])):
        r = client.get(f"/itwins/{itwin_id}", headers=h(token))
        assert (r.status_code, error_code(r)) == (404, "iTwinNotFound")


def test_list_only_member_itwins_unless_org_admin_scope_all(emu: Emu, client: TestClient) -> None:
    a = emu.itwin(number="L-1")
    emu.itwin(number="L-2")
    role = emu.role(a["id"])
    emu.member(a["id"], "bob@contoso.com", [role])
    r = client.get("/itwins", headers=h("bob-token"))
    assert [i["number"] for i in r.json()["iTwins"]] == ["L-1"]
    # bob asking for "all" is not an org admin: still only his iTwins.
    r = client.get("/itwins", headers=h("bob-token", **{"X-iTwin-Query-Scope": "all"}))
    assert [i["number"] for i in r.json()["iTwins"]] == ["L-1"]
    app = emu.app_token()
    assert client.get("/itwins", headers=h(app)).json()["iTwins"] == []
    r = client.get("/itwins", headers=h(app, **{"X-iTwin-Query-Scope": "all"}))
    assert [i["number"] for i in r.json()["iTwins"]] == ["L-1", "L-2"]


def test_list_filters(emu: Emu, client: TestClient) -> None:
    emu.itwin(number="F-1", displayName="Alpha Bridge", type="Bridge")
    emu.itwin(number="F-2", displayName="Beta Road", subClass="Program")
    emu.itwin(number="F-3", displayName="Gamma", status="Inactive")

    def numbers(query: str) -> list[str]:
        r = client.get(f"/itwins?{query}", headers=h("alice-token"))
        assert r.status_code == 200, r.text
        return [i["number"] for i in r.json()["iTwins"]]

    assert numbers("") == ["F-1", "F-2"]
    assert numbers("includeInactive=true") == ["F-1", "F-2", "F-3"]
    assert numbers("status=Inactive") == ["F-3"]
    assert numbers("subClass=Program") == ["F-2"]
    assert numbers("subClass=Project,Program") == ["F-1", "F-2"]
    assert numbers("number=F-1") == ["F-1"]
    assert numbers("displayName=Beta%20Road") == ["F-2"]
    assert numbers("$search=bridge") == ["F-1"]
    assert numbers("type=Bridge") == ["F-1"]
    r = client.get("/itwins?subClass=Nope", headers=h("alice-token"))
    assert (r.status_code, error_code(r), error_target(r)) == (
        422, "InvalidiTwinsRequest", "subClass")  # fmt: skip
    r = client.get("/itwins?status=Active&includeInactive=true", headers=h("alice-token"))
    assert r.status_code == 422
    r = client.get("/itwins?$search=x&number=F-1", headers=h("alice-token"))
    assert r.status_code == 422


def test_list_pages_with_absolute_links(emu: Emu, client: TestClient) -> None:
    for n in range(5):
        emu.itwin(number=f"P-{n}")
    seen: list[str] = []
    url = "/itwins?subClass=Project&$top=2"
    pages = 0
    while url:
        r = client.get(url, headers=h("alice-token"))
        body = r.json()
        seen += [i["number"] for i in body["iTwins"]]
        links = body["_links"]
        assert links["self"]["href"].startswith("http://emu.test/itwins?subClass=Project&$skip=")
        assert "prev" in links
        url = links["next"]["href"] if "next" in links else ""
        pages += 1
    assert seen == [f"P-{n}" for n in range(5)]
    assert pages == 3
    for bad in ("$top=0", "$top=1001", "$top=x", "$skip=-1"):
        r = client.get(f"/itwins?{bad}", headers=h("alice-token"))
        assert r.status_code == 422, bad
        assert r.json()["error"]["details"][0]["code"] == "InvalidValue"


def test_x_max_return_caps_the_result_set(emu: Emu, client: TestClient) -> None:
    for n in range(3):
        emu.itwin(number=f"M-{n}")
    r = client.get("/itwins?$top=10", headers=h("alice-token", **{"X-Max-Return": "2"}))
    assert len(r.json()["iTwins"]) == 2
    assert r.headers["X-Max-Return"] == "2"
    r = client.get("/itwins?$skip=2", headers=h("alice-token", **{"X-Max-Return": "2"}))
    assert r.json()["iTwins"] == []


def test_update(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin(number="U-1")
    emu.itwin(number="U-2")
    r = client.patch(f"/itwins/{itwin['id']}", json={"displayName": "Renamed", "status": "Trial"},
                     headers=h("alice-token"))  # fmt: skip
    assert r.status_code == 200
    assert (r.json()["iTwin"]["displayName"], r.json()["iTwin"]["status"]) == ("Renamed", "Trial")
    r = client.patch(f"/itwins/{itwin['id']}", json={"number": "U-2"}, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (409, "iTwinExists")
    r = client.patch(f"/itwins/{itwin['id']}", json={"id": "x"}, headers=h("alice-token"))
    assert (r.status_code, error_target(r)) == (422, "id")


def test_update_needs_itwins_modify(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    viewer = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    emu.member(itwin["id"], "bob@contoso.com", [viewer])
    r = client.patch(f"/itwins/{itwin['id']}", json={"displayName": "x"}, headers=h("bob-token"))
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")
    editor = emu.role(itwin["id"], "Editor", ["itwins_modify"])
    client.patch(f"{AC}/{itwin['id']}/members/users/{emu_user_id(client, itwin['id'])}",
                 json={"roleIds": [editor]}, headers=h("alice-token"))  # fmt: skip
    r = client.patch(f"/itwins/{itwin['id']}", json={"displayName": "x"}, headers=h("bob-token"))
    assert r.status_code == 200


def emu_user_id(client: TestClient, itwin_id: str) -> str:
    r = client.get(f"{AC}/{itwin_id}/members/users", headers=h("alice-token"))
    user_id: str = r.json()["members"][0]["id"]
    return user_id


def test_delete_is_for_owners_and_org_admins_only(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"], "All", ["itwins_delete", "itwins_modify"])
    emu.member(itwin["id"], "bob@contoso.com", [role])
    r = client.delete(f"/itwins/{itwin['id']}", headers=h("bob-token"))
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")
    assert client.delete(f"/itwins/{itwin['id']}", headers=h("alice-token")).status_code == 204
    r = client.get(f"/itwins/{itwin['id']}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "iTwinNotFound")
    r = client.get(f"{AC}/{itwin['id']}/roles", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "ItwinNotFound")


def test_favorites(emu: Emu, client: TestClient) -> None:
    a = emu.itwin(number="FA")
    emu.itwin(number="FB")
    assert client.post(f"/itwins/favorites/{a['id']}", headers=h("alice-token")).status_code == 204
    r = client.get("/itwins/favorites", headers=h("alice-token"))
    assert [i["number"] for i in r.json()["iTwins"]] == ["FA"]
    assert (
        client.delete(f"/itwins/favorites/{a['id']}", headers=h("alice-token")).status_code == 204
    )
    assert client.get("/itwins/favorites", headers=h("alice-token")).json()["iTwins"] == []
    r = client.post("/itwins/favorites/unknown", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "iTwinNotFound")
    r = client.post(f"/itwins/favorites/{a['id']}", headers=h("bob-token"))  # not a member
    assert (r.status_code, error_code(r)) == (404, "iTwinNotFound")


def test_recents_most_recent_first_and_capped_at_25(emu: Emu, client: TestClient) -> None:
    ids = [emu.itwin(number=f"R-{n}")["id"] for n in range(27)]
    for itwin_id in ids:
        assert (
            client.post(f"/itwins/recents/{itwin_id}", headers=h("alice-token")).status_code == 204
        )
    client.post(f"/itwins/recents/{ids[5]}", headers=h("alice-token"))
    r = client.get("/itwins/recents?$top=100", headers=h("alice-token"))
    numbers = [i["number"] for i in r.json()["iTwins"]]
    assert len(numbers) == 25
    assert numbers[0] == "R-5"
    assert numbers[1] == "R-26"
    assert "R-0" not in numbers


def test_primary_account_and_itwin_account(emu: Emu, client: TestClient) -> None:
    r = client.get("/itwins/myprimaryaccount", headers=h("bob-token"))
    account = r.json()["iTwin"]
    assert (account["class"], account["subClass"], account["displayName"]) == (
        "Account", "Account", "Contoso")  # fmt: skip
    itwin = emu.itwin()
    r = client.get(f"/itwins/{itwin['id']}/account", headers=h("alice-token"))
    assert r.json()["iTwin"]["id"] == account["id"] == itwin["iTwinAccountId"]
