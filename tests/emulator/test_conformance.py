"""Fact-by-fact conformance with the wire contract (shared/docs/itwin-api.md): the cross-cutting
rules of §2 (messages of the §2.3 table, 401/429 codes and headers, paging per API, `_links`,
X-Max-Return, missing users), the §3.1 model, and the §4 limits and shapes not covered by the
per-module tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
import pytest
from emu_helpers import AC, Emu, error_code, error_target, h
from starlette.testclient import TestClient

from reconciler.emulator import Faults, create_app

MESSAGES = {
    "HeaderNotFound": "Header Authorization was not found in the request. Access denied.",
    "Unauthorized": "Access denied due to invalid access_token. "
    "Make sure to provide a valid token for this API endpoint.",
    "InsufficientPermissions": "The user has insufficient permissions for the requested operation.",
    "iTwinNotFound": "Requested iTwin is not available.",
    "ItwinNotFound": "Requested iTwin is not available.",
    "TeamMemberNotFound": "Requested team member is not available.",
    "RoleNotFound": "Requested Role is not available.",
    "GroupNotFound": "Requested group is not available.",
    "PermissionNotFound": "Requested permission is not available.",
    "InvitationNotFound": "Requested invitation is not available.",
    "ResourceNotFound": "The requested resource was not found. "
    "Verify the API URL and the Accept header.",
    "OwnerAlreadyExists": "Requested user is already an iTwin Owner.",
}


def _error(r: httpx.Response) -> tuple[int, str, str, str | None]:
    """(status, code, message, target of the first detail or of the error)."""
    body = r.json()["error"]
    return r.status_code, body["code"], body["message"], error_target(r)


def test_every_documented_error_answers_its_code_message_and_target(
    emu: Emu, client: TestClient
) -> None:
    itwin = emu.itwin()
    iid = itwin["id"]
    role = emu.role(iid)
    group = client.post(
        f"{AC}/{iid}/groups", json={"name": "T", "description": "d"}, headers=h("alice-token")
    ).json()["group"]
    cases = [
        (client.get("/itwins"), "HeaderNotFound", None),
        (client.get("/itwins", headers=h("forged")), "Unauthorized", None),
        (client.get(f"{AC}/{iid}/roles", headers=h("bob-token")), "InsufficientPermissions", None),
        (client.get("/itwins/nope", headers=h("alice-token")), "iTwinNotFound", None),
        (client.get(f"{AC}/nope/roles", headers=h("alice-token")), "ItwinNotFound", None),
        (
            client.get(f"{AC}/{iid}/members/users/nope", headers=h("alice-token")),
            "TeamMemberNotFound",
            None,
        ),
        (client.get(f"{AC}/{iid}/roles/nope", headers=h("alice-token")), "RoleNotFound", None),
        (
            emu.add_users(iid, [{"email": "bob@contoso.com", "roleIds": ["nope"]}]),
            "RoleNotFound",
            "members[0].roleIds[0]",
        ),
        (client.get(f"{AC}/{iid}/groups/nope", headers=h("alice-token")), "GroupNotFound", None),
        (
            client.patch(
                f"{AC}/{iid}/roles/{role}", json={"permissions": ["nope"]}, headers=h("alice-token")
            ),
            "PermissionNotFound",
            "permissions[0]",
        ),
        (
            client.get(f"{AC}/{iid}/members/invitations/nope", headers=h("alice-token")),
            "InvitationNotFound",
            None,
        ),
        (client.get(f"/itwins/{iid}", headers=h("alice-token", 2)), "ResourceNotFound", None),
        (
            client.post(
                f"{AC}/{iid}/members/owners",
                json={"email": "alice@contoso.com"},
                headers=h("alice-token"),
            ),
            "OwnerAlreadyExists",
            "email",
        ),
    ]
    for response, code, target in cases:
        status, got_code, message, got_target = _error(response)
        assert (got_code, message, got_target) == (code, MESSAGES[code], target)
        statuses = {
            "HeaderNotFound": 401,
            "Unauthorized": 401,
            "InsufficientPermissions": 403,
            "OwnerAlreadyExists": 409,
        }
        assert status == statuses.get(code, 404)
    assert group["id"]


def test_conflicts_and_validation_codes_per_api(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin(number="N-1")
    iid = itwin["id"]
    role = emu.role(iid)
    body = {"class": "Endeavor", "subClass": "Project", "displayName": "x", "number": "N-1"}
    r = client.post("/itwins", json=body, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (409, "iTwinExists")
    assert r.json()["error"]["details"] == [
        {"code": "InvalidValue", "message": "Number must be unique.", "target": "number"}
    ]
    member = emu.member(iid, "bob@contoso.com", [role])
    r = emu.add_users(iid, [{"email": "bob@contoso.com", "roleIds": [role]}])
    assert _error(r)[:3] == (
        409,
        "iTwinMemberAlreadyExists",
        f"Member '{member['id']}' already exists in iTwin '{iid}'.",
    )
    # 422 codes and messages: roles and groups name the operation, members and invitations
    # say "Request body or query is invalid." (§2.3).
    roles = f"{AC}/{iid}/roles"
    r = client.post(roles, json={"displayName": "x"}, headers=h("alice-token"))
    assert _error(r) == (422, "InvalidiTwinsRoleRequest", "Cannot create Role.", "description")
    r = client.patch(f"{roles}/{role}", json={"displayName": ""}, headers=h("alice-token"))
    assert _error(r) == (422, "InvalidiTwinsRoleRequest", "Cannot update Role.", "displayName")
    groups = f"{AC}/{iid}/groups"
    r = client.post(groups, json={"name": ""}, headers=h("alice-token"))
    assert _error(r) == (422, "InvalidiTwinsGroupRequest", "Cannot create group.", "name")
    gid = client.post(
        groups, json={"name": "G", "description": ""}, headers=h("alice-token")
    ).json()["group"]["id"]
    r = client.patch(f"{groups}/{gid}", json={"imsGroups": "x"}, headers=h("alice-token"))
    assert _error(r) == (422, "InvalidiTwinsGroupRequest", "Cannot update group.", "imsGroups")
    r = emu.add_users(iid, [{"email": "carol@contoso.com"}])
    assert _error(r) == (
        422,
        "InvalidiTwinsMemberRequest",
        "Request body or query is invalid.",
        "members[0].roleIds",
    )
    r = client.get(f"{AC}/{iid}/members/invitations?$top=x", headers=h("alice-token"))
    assert _error(r) == (
        422,
        "InvalidiTwinsMemberInvitationsRequest",
        "Request body or query is invalid.",
        "$top",
    )
    r = client.post(
        "/itwins", json={**body, "number": "N-2", "subClass": "Asset"}, headers=h("alice-token")
    )
    assert _error(r)[1::2] == ("InvalidiTwinsRequest", "subClass")


@pytest.mark.parametrize(
    "body",
    [
        {"class": ["Endeavor"], "subClass": "Project", "displayName": "x"},
        {"class": {"a": 1}, "subClass": "Project", "displayName": "x"},
        {"class": "Endeavor", "subClass": ["Project"], "displayName": "x"},
    ],
)
def test_malformed_class_is_a_422_not_a_500(
    emu: Emu, client: TestClient, body: dict[str, object]
) -> None:
    r = client.post("/itwins", json=body, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (422, "InvalidiTwinsRequest")
    itwin = emu.itwin()
    bad = {k: v for k, v in body.items() if not isinstance(v, str)}
    r = client.patch(f"/itwins/{itwin['id']}", json=bad, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (422, "InvalidiTwinsRequest")


def test_job_remove_members_ignores_stray_role_ids(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    emu.member(itwin["id"], "bob@contoso.com", [role])
    actions = {"removeMembers": [{"email": "bob@contoso.com", "roleIds": 5}]}
    r = client.post(f"{AC}/{itwin['id']}/jobs", json={"actions": actions}, headers=h("alice-token"))
    assert (r.status_code, r.json()["status"]) == (201, "Completed")
    r = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token"))
    assert r.json()["members"] == []
    too_many = {"removeMembers": [{"email": f"u{i}@contoso.com"} for i in range(101)]}
    r = client.post(
        f"{AC}/{itwin['id']}/jobs", json={"actions": too_many}, headers=h("alice-token")
    )
    assert (r.status_code, error_target(r)) == (422, "actions.removeMembers")


def test_429_codes_and_headers_per_api(tmp_path: Path) -> None:
    app = create_app(tmp_path / "rl.db", faults=Faults(rate_limit=1))
    with TestClient(app) as c:
        cases = [
            ("alice-token", "/itwins", None, "RateLimitExceeded", "itwins"),
            ("bob-token", f"{AC}/permissions", 2, "RateLimitExceeded", "access-control"),
            ("xena-token", f"{AC}/permissions", 1, "TooManyRequests", "access-control"),
        ]
        for token, path, version, code, api in cases:
            assert c.get(path, headers=h(token, version)).status_code == 200
            r = c.get(path, headers=h(token, version))
            assert (r.status_code, error_code(r)) == (429, code)
            assert int(r.headers["Retry-After"]) >= 1
            assert r.headers["ITwinPlatform-RateLimited-API"] == api
            assert r.headers["ITwinPlatform-RateLimited-Tier"]
            assert r.headers["ITwinPlatform-RateLimited-Operation"] == f"GET {path}"
            assert "ITwinPlatform-RateLimited-Application" in r.headers
            assert not any(k.lower().startswith("x-rate-limit") for k in r.headers)
    app.state.emu.store.close()


def test_projects_429_uses_the_older_code(tmp_path: Path) -> None:
    app = create_app(tmp_path / "rl.db", faults=Faults(rate_limit=1))
    with TestClient(app) as c:
        c.get("/projects/", headers=h("alice-token"))
        r = c.get("/projects/", headers=h("alice-token"))
        assert (r.status_code, error_code(r)) == (429, "TooManyRequests")
        assert r.json()["error"]["message"] == (
            "More requests were received than the subscription rate-limit allows."
        )
    app.state.emu.store.close()


def test_top_maxima_per_api(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    iid = itwin["id"]
    lists = {
        "/itwins": 1000,
        "/itwins/favorites": 1000,
        "/itwins/recents": 1000,
        f"{AC}/{iid}/members/users": 1000,
        f"{AC}/{iid}/members/groups": 1000,
        f"{AC}/{iid}/members/owners": 1000,
        f"{AC}/{iid}/groups": 1000,
        f"{AC}/{iid}/members/invitations": 1000,
        "/projects/": 1000,
    }
    for path, top in lists.items():
        assert client.get(f"{path}?$top={top}", headers=h("alice-token")).status_code == 200, path
        for bad in (top + 1, 0, -1, "x"):
            r = client.get(f"{path}?$top={bad}", headers=h("alice-token"))
            assert (r.status_code, error_target(r)) == (422, "$top"), (path, bad)
            assert r.json()["error"]["details"][0]["code"] == "InvalidValue"
        r = client.get(f"{path}?$skip=-1", headers=h("alice-token"))
        assert (r.status_code, error_target(r)) == (422, "$skip"), path


def test_default_page_is_100_with_absolute_links(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    for path in ("/itwins", f"{AC}/{itwin['id']}/members/owners", "/projects/"):
        links = client.get(path, headers=h("alice-token")).json()["_links"]
        assert links["self"]["href"] == f"http://emu.test{path.rstrip('/')}?$skip=0&$top=100"
        assert links["prev"] == links["self"]
        assert "next" not in links


def test_x_max_return_is_echoed_even_by_default(emu: Emu, client: TestClient) -> None:
    emu.itwin()
    r = client.get("/itwins", headers=h("alice-token"))
    assert r.headers["X-Max-Return"] == "1000"
    r = client.get("/itwins", headers={**h("alice-token"), "X-Max-Return": "10001"})
    assert (r.status_code, error_target(r)) == (422, "X-Max-Return")


def test_missing_users_are_null_as_owners_and_group_users(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    iid = itwin["id"]
    client.post(
        f"{AC}/{iid}/members/owners", json={"email": "carol@contoso.com"}, headers=h("alice-token")
    )
    gid = client.post(
        f"{AC}/{iid}/groups",
        json={"name": "G", "description": "d", "members": ["carol@contoso.com"]},
        headers=h("alice-token"),
    ).json()["group"]["id"]
    assert client.delete("/__emulator/users/carol@contoso.com").status_code == 204
    owners = client.get(f"{AC}/{iid}/members/owners", headers=h("alice-token")).json()["members"]
    nulls = {"email": None, "givenName": None, "surname": None, "organization": None}
    assert {k: owners[1][k] for k in nulls} == nulls
    assert owners[1]["id"]
    group = client.get(f"{AC}/{iid}/groups/{gid}", headers=h("alice-token")).json()["group"]
    assert group["members"] == [{"userId": owners[1]["id"], **nulls}]
    url = f"{AC}/{iid}/members/owners/{owners[1]['id']}"
    assert client.delete(url, headers=h("alice-token")).status_code == 204


def test_itwin_model_field_names_defaults_and_nulls(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    minimal = client.get(f"/itwins/{itwin['id']}", headers=h("alice-token")).json()["iTwin"]
    assert list(minimal) == [
        "id",
        "class",
        "subClass",
        "type",
        "number",
        "displayName",
        "iTwinAccountId",
    ]
    full = client.get(
        f"/itwins/{itwin['id']}", headers=h("alice-token", Prefer="return=representation")
    ).json()["iTwin"]
    assert set(full) == set(minimal) | {
        "geographicLocation",
        "latitude",
        "longitude",
        "ianaTimeZone",
        "dataCenterLocation",
        "status",
        "parentId",
        "imageName",
        "image",
        "createdDateTime",
        "createdBy",
        "lastModifiedDateTime",
        "lastModifiedBy",
    }
    assert (full["status"], full["dataCenterLocation"]) == ("Active", "East US")
    for name in ("type", "imageName", "image", "geographicLocation", "ianaTimeZone"):
        assert full[name] is None, name
    assert full["parentId"] == full["iTwinAccountId"]  # C10: the Account iTwin, not null
    assert full["number"] == full["id"]
    stamp = full["createdDateTime"]
    assert stamp.endswith("Z")
    assert len(stamp.split(".")[1]) == len("0000000Z")  # 7 fractional digits, as the docs
    account = client.get(f"/itwins/{itwin['id']}/account", headers=h("alice-token")).json()
    assert list(account["iTwin"]) == ["id", "class", "subClass", "type", "number", "displayName"]


def test_access_control_shapes(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    iid = itwin["id"]
    r = client.post(
        f"{AC}/{iid}/roles",
        json={"displayName": "R", "description": "d", "permissions": []},
        headers=h("alice-token"),
    )
    assert r.status_code == 201
    assert r.json()["role"] == {
        "id": r.json()["role"]["id"],
        "displayName": "R",
        "description": "d",
        "permissions": [],
        "type": "Custom",
    }
    role = r.json()["role"]["id"]
    # 201 always carries both collections, empty or not.
    r = emu.add_users(iid, [{"email": "bob@contoso.com", "roleIds": [role]}])
    assert (r.status_code, set(r.json()), r.json()["invitations"]) == (
        201,
        {"members", "invitations"},
        [],
    )
    r = emu.add_users(iid, [{"email": "xena@fabrikam.com", "roleIds": [role]}])
    assert (r.json()["members"], len(r.json()["invitations"])) == ([], 1)
    invitation = r.json()["invitations"][0]
    assert set(invitation) == {
        "id",
        "email",
        "invitedByEmail",
        "status",
        "createdDate",
        "expirationDate",
        "roles",
    }
    assert invitation["roles"] == [{"id": role, "displayName": "R"}]
    assert invitation["status"] == "Pending"
    created, expires = (
        datetime.fromisoformat(invitation[k][:26]) for k in ("createdDate", "expirationDate")
    )
    # Both stamps come from one float; their microseconds may round apart by one.
    assert abs((expires - created).total_seconds() - 7 * 24 * 3600) < 0.001


def test_role_id_limits_on_patch_and_group_collection_limits(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    iid = itwin["id"]
    roles = [emu.role(iid, f"R{i}") for i in range(51)]
    bob = emu.member(iid, "bob@contoso.com", [roles[0]])
    url = f"{AC}/{iid}/members/users/{bob['id']}"
    assert client.patch(url, json={"roleIds": roles[:50]}, headers=h("alice-token")).is_success
    r = client.patch(url, json={"roleIds": roles}, headers=h("alice-token"))
    assert _error(r)[3] == "roleIds"
    assert r.json()["error"]["details"][0]["code"] == "InvalidProperty"
    r = client.patch(url, json={"roleIds": []}, headers=h("alice-token"))
    assert r.json()["error"]["details"][0]["code"] == "InvalidRequestBody"
    r = client.patch(url, json={}, headers=h("alice-token"))
    assert r.json()["error"]["details"][0] == {
        "code": "MissingRequiredProperty",
        "message": "Required property is missing.",
        "target": "roleIds",
    }
    gid = client.post(
        f"{AC}/{iid}/groups", json={"name": "G", "description": "d"}, headers=h("alice-token")
    ).json()["group"]["id"]
    for key in ("members", "imsGroups"):
        items = [f"u{i}@contoso.com" for i in range(51)]
        r = client.patch(f"{AC}/{iid}/groups/{gid}", json={key: items}, headers=h("alice-token"))
        assert (r.status_code, error_target(r)) == (422, key)
        assert r.json()["error"]["details"][0]["code"] == "InvalidProperty"


def test_v1_add_takes_a_single_role_id(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    r = client.post(
        f"{AC}/{itwin['id']}/members",
        json={"members": [{"email": "bob@contoso.com", "roleIds": [role]}]},
        headers=h("alice-token", 1),
    )
    assert (r.status_code, error_target(r)) == (422, "members[0].roleId")
    r = client.post(
        f"{AC}/{itwin['id']}/members",
        json={"members": [{"email": "bob@contoso.com", "roleId": role}]},
        headers=h("alice-token", 1),
    )
    assert (r.status_code, list(r.json())) == (201, ["members"])


def test_ims_groups_changes_need_invite_and_remove_permissions(
    emu: Emu, client: TestClient
) -> None:
    itwin = emu.itwin()
    iid = itwin["id"]
    manager = emu.role(iid, "GroupManager", ["administration_manage_groups"])
    bob = emu.member(iid, "bob@contoso.com", [manager])
    gid = client.post(
        f"{AC}/{iid}/groups", json={"name": "G", "description": "d"}, headers=h("bob-token")
    ).json()["group"]["id"]
    url = f"{AC}/{iid}/groups/{gid}"
    r = client.patch(url, json={"imsGroups": ["Engineers"], "name": "New"}, headers=h("bob-token"))
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")
    group = client.get(url, headers=h("bob-token")).json()["group"]
    assert (group["name"], group["imsGroups"]) == ("G", [])  # nothing of the refused PATCH
    inviter = emu.role(
        iid, "Inviter", ["administration_manage_groups", "administration_invite_member"]
    )
    member_url = f"{AC}/{iid}/members/users/{bob['id']}"
    client.patch(member_url, json={"roleIds": [inviter]}, headers=h("alice-token"))
    r = client.patch(url, json={"imsGroups": ["Engineers"]}, headers=h("bob-token"))
    assert (r.status_code, r.json()["group"]["imsGroups"]) == (200, ["Engineers"])
    assert client.patch(url, json={"imsGroups": ["Engineers"]}, headers=h("bob-token")).is_success
    r = client.patch(url, json={"imsGroups": []}, headers=h("bob-token"))
    assert r.status_code == 403  # removing needs administration_remove_member
    remover = emu.role(iid, "Remover", ["administration_remove_member"])
    client.patch(member_url, json={"roleIds": [inviter, remover]}, headers=h("alice-token"))
    r = client.patch(url, json={"imsGroups": []}, headers=h("bob-token"))
    assert (r.status_code, r.json()["group"]["imsGroups"]) == (200, [])


def test_emails_match_case_insensitively(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    iid = itwin["id"]
    role = emu.role(iid)
    bob = emu.member(iid, "Bob@Contoso.COM", [role])
    assert bob["email"] == "bob@contoso.com"  # the directory's spelling
    r = emu.add_users(iid, [{"email": "BOB@contoso.com", "roleIds": [role]}])
    assert (r.status_code, error_code(r)) == (409, "iTwinMemberAlreadyExists")
    r = client.post(
        f"{AC}/{iid}/members/owners", json={"email": "ALICE@CONTOSO.COM"}, headers=h("alice-token")
    )
    assert (r.status_code, error_code(r)) == (409, "OwnerAlreadyExists")
    r = emu.add_users(iid, [{"email": "Xena@Fabrikam.com", "roleIds": [role]}])
    invitation = r.json()["invitations"][0]["id"]
    accept = f"{AC}/{iid}/members/invitations/{invitation}/accept"
    assert client.post(accept, headers=h("xena-token")).status_code == 204


PERMISSIONS = (
    "itwins_modify",
    "administration_manage_roles",
    "administration_invite_member",
    "administration_remove_member",
    "administration_manage_groups",
    "imodels_read",
)
# §6: the one permission each action needs (None: no role grants it; "member": any member).
ACTIONS = {
    "update iTwin": "itwins_modify",
    "delete iTwin": None,
    "list roles": "administration_manage_roles",
    "create role": "administration_manage_roles",
    "add user member": "administration_invite_member",
    "update user member": "administration_invite_member",
    "remove user member": "administration_remove_member",
    "add group member": "administration_invite_member",
    "remove group member": "administration_remove_member",
    "create group": "administration_manage_groups",
    "add owner": None,
    "list members": "member",
    "list owners": "member",
    "list invitations": "member",
    "my permissions": "member",
}


def _act(
    client: TestClient, action: str, iid: str, role: str, carol: str, group: str
) -> httpx.Response:
    bob = h("bob-token")
    users, groups = f"{AC}/{iid}/members/users", f"{AC}/{iid}/members/groups"
    assign = {"members": [{"groupId": group, "roleIds": [role]}]}
    if action == "remove group member":
        assert client.post(groups, json=assign, headers=h("alice-token")).status_code == 201
    method, url, body = {
        "update iTwin": ("PATCH", f"/itwins/{iid}", {"type": "x"}),
        "delete iTwin": ("DELETE", f"/itwins/{iid}", None),
        "list roles": ("GET", f"{AC}/{iid}/roles", None),
        "create role": ("POST", f"{AC}/{iid}/roles", {"displayName": "R", "description": ""}),
        "add user member": (
            "POST",
            users,
            {"members": [{"email": "dana@contoso.com", "roleIds": [role]}]},
        ),
        "update user member": ("PATCH", f"{users}/{carol}", {"roleIds": [role]}),
        "remove user member": ("DELETE", f"{users}/{carol}", None),
        "add group member": ("POST", groups, assign),
        "remove group member": ("DELETE", f"{groups}/{group}", None),
        "create group": ("POST", f"{AC}/{iid}/groups", {"name": "H", "description": ""}),
        "add owner": ("POST", f"{AC}/{iid}/members/owners", {"email": "eli@contoso.com"}),
        "list members": ("GET", users, None),
        "list owners": ("GET", f"{AC}/{iid}/members/owners", None),
        "list invitations": ("GET", f"{AC}/{iid}/members/invitations", None),
        "my permissions": ("GET", f"{AC}/{iid}/permissions", None),
    }[action]
    response: httpx.Response = client.request(method, url, json=body, headers=bob)
    return response


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_authorization_table(emu: Emu, client: TestClient, permission: str) -> None:
    """Bob holds one permission through one role; each action of §6 is allowed exactly when
    that permission is the one it needs (owners and org admins aside)."""
    for action, needed in ACTIONS.items():
        iid = emu.itwin()["id"]
        role = emu.role(iid, "Only", [permission])
        emu.member(iid, "bob@contoso.com", [role])
        carol = emu.member(iid, "carol@contoso.com", [role])["id"]
        group = client.post(
            f"{AC}/{iid}/groups", json={"name": "G", "description": "d"}, headers=h("alice-token")
        ).json()["group"]["id"]
        r = _act(client, action, iid, role, carol, group)
        if needed in ("member", permission):
            assert r.is_success, (action, permission, r.text)
        else:
            assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions"), (
                action,
                permission,
            )


def test_numbers_are_unique_per_organization_and_subclass(emu: Emu, client: TestClient) -> None:
    project = emu.itwin(number="N-7")
    program = emu.itwin(number="n-7", subClass="Program")  # another subClass: allowed
    asset = emu.itwin(number="N-7", **{"class": "Thing", "subClass": "Asset"})
    assert {project["number"].upper(), program["number"].upper(), asset["number"]} == {"N-7"}
    body = {"class": "Endeavor", "subClass": "Project", "displayName": "x", "number": "n-7"}
    r = client.post("/itwins", json=body, headers=h("alice-token"))
    assert (r.status_code, error_code(r), error_target(r)) == (409, "iTwinExists", "number")
    r = client.patch(
        f"/itwins/{program['id']}", json={"subClass": "Project"}, headers=h("alice-token")
    )
    assert (r.status_code, error_code(r)) == (409, "iTwinExists")
    r = client.patch(
        f"/itwins/{program['id']}", json={"subClass": "WorkPackage"}, headers=h("alice-token")
    )
    assert r.json()["iTwin"]["subClass"] == "WorkPackage"
    r = client.get("/itwins?number=N-7", headers=h("alice-token"))
    assert [i["id"] for i in r.json()["iTwins"]] == [project["id"], asset["id"]]


@pytest.mark.parametrize("odata", ["$filter=number eq 'x'", "$select=id", "$orderby=number"])
def test_odata_queries_are_refused_not_ignored(client: TestClient, odata: str) -> None:
    for path in ("/itwins", "/itwins/favorites", "/itwins/recents"):
        r = client.get(f"{path}?{odata}", headers=h("alice-token"))
        assert (r.status_code, error_code(r)) == (422, "InvalidiTwinsRequest")
        assert error_target(r) == odata.split("=")[0]


def test_account_roles_and_groups_are_assignable_on_every_itwin(
    emu: Emu, client: TestClient
) -> None:
    account = client.get("/itwins/myprimaryaccount", headers=h("alice-token")).json()["iTwin"]
    org_role = emu.role(account["id"], "OrgViewer", ["imodels_read"])
    groups = f"{AC}/{account['id']}/groups"
    r = client.post(
        groups,
        json={"name": "Everyone", "description": "d", "members": ["carol@contoso.com"]},
        headers=h("alice-token"),
    )
    assert r.status_code == 201
    everyone = r.json()["group"]["id"]
    # Account-iTwin groups are for org admins only, whatever else the caller holds.
    managers = emu.role(account["id"], "GroupManagers", ["administration_manage_groups"])
    emu.member(account["id"], "bob@contoso.com", [managers])
    r = client.post(groups, json={"name": "Mine", "description": ""}, headers=h("bob-token"))
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")
    itwin = emu.itwin()
    bob = emu.member(itwin["id"], "bob@contoso.com", [org_role])
    assert bob["roles"] == [
        {"id": org_role, "displayName": "OrgViewer", "description": "OrgViewer"}
    ]
    r = client.post(
        f"{AC}/{itwin['id']}/members/groups",
        json={"members": [{"groupId": everyone, "roleIds": [org_role]}]},
        headers=h("alice-token"),
    )
    assert (r.status_code, r.json()["members"][0]["groupName"]) == (201, "Everyone")
    client.post("/__emulator/seed", content="tokens: {carol-token: carol@contoso.com}")
    for token in ("bob-token", "carol-token"):
        r = client.get(f"{AC}/{itwin['id']}/permissions", headers=h(token))
        assert r.json()["permissions"] == ["imodels_read"], token
    # The Account iTwin's roles are listed on it, not on the iTwins that use them.
    r = client.get(f"{AC}/{itwin['id']}/roles", headers=h("alice-token"))
    assert r.json()["roles"] == []
