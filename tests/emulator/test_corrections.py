"""The contract's corrections table (itwin-api.md C1-C15), one or more tests per row, over HTTP
against the emulator (demo seed: alice is an org admin of Contoso, bob a plain Contoso user,
the service app ``itwin-access-demo`` an org admin)."""

from __future__ import annotations

import base64
from typing import Any

from emu_helpers import AC, Emu, error_code, h
from starlette.testclient import TestClient


def _owners(client: TestClient, itwin_id: str, token: str = "alice-token") -> list[str]:
    r = client.get(f"{AC}/{itwin_id}/members/owners", headers=h(token))
    assert r.status_code == 200, r.text
    return [o["email"] for o in r.json()["members"]]


def test_c1_org_admin_who_is_no_owner_adds_and_removes_owners(emu: Emu, client: TestClient) -> None:
    """An organization administrator adds and removes owners of an iTwin it does not own."""
    itwin = emu.itwin(token="alice-token")
    base = f"{AC}/{itwin['id']}/members/owners"
    r = client.post(base, json={"email": "bob@contoso.com"}, headers=h("alice-token"))
    assert r.status_code == 201, r.text
    alice_id = client.get(base, headers=h("alice-token")).json()["members"][0]["id"]
    # Alice gives up her own ownership: she stays organization administrator.
    assert client.delete(f"{base}/{alice_id}", headers=h("alice-token")).status_code == 204
    assert _owners(client, itwin["id"]) == ["bob@contoso.com"]
    r = client.post(base, json={"email": "carol@contoso.com"}, headers=h("alice-token"))
    assert r.status_code == 201, r.text
    bob_id = client.get(base, headers=h("alice-token")).json()["members"][0]["id"]
    assert client.delete(f"{base}/{bob_id}", headers=h("alice-token")).status_code == 204
    assert _owners(client, itwin["id"]) == ["carol@contoso.com"]


def test_c1_owner_who_is_no_org_admin_adds_and_removes_owners(emu: Emu, client: TestClient) -> None:
    """An owner without organization administration adds and removes owners."""
    itwin = emu.itwin(token="alice-token")
    base = f"{AC}/{itwin['id']}/members/owners"
    assert client.post(base, json={"email": "bob@contoso.com"}, headers=h("alice-token")).is_success
    r = client.post(base, json={"email": "carol@contoso.com"}, headers=h("bob-token"))
    assert r.status_code == 201, r.text
    carol_id = r.json()["member"]["id"]
    assert client.delete(f"{base}/{carol_id}", headers=h("bob-token")).status_code == 204
    assert _owners(client, itwin["id"]) == ["alice@contoso.com", "bob@contoso.com"]


def test_c1_org_admin_of_another_organization_may_not(emu: Emu, client: TestClient) -> None:
    """Organization administration counts only in the iTwin's own organization."""
    itwin = emu.itwin(token="alice-token")
    base = f"{AC}/{itwin['id']}/members/owners"
    # xena (Fabrikam) is invited with the invite/remove permissions; she is no owner.
    role = emu.role(itwin["id"], "All", ["administration_invite_member",
                    "administration_remove_member"])  # fmt: skip
    emu.add_users(itwin["id"], [{"email": "xena@fabrikam.com", "roleIds": [role]}])
    r = client.post(base, json={"email": "dana@contoso.com"}, headers=h("xena-token"))
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")


def test_c2_owner_deletes_the_itwin(emu: Emu, client: TestClient) -> None:
    """An owner who is no organization administrator deletes the iTwin."""
    itwin = emu.itwin(token="alice-token")
    base = f"{AC}/{itwin['id']}/members/owners"
    assert client.post(base, json={"email": "bob@contoso.com"}, headers=h("alice-token")).is_success
    assert client.delete(f"/itwins/{itwin['id']}", headers=h("bob-token")).status_code == 204
    r = client.get(f"/itwins/{itwin['id']}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "iTwinNotFound")


def test_c2_org_admin_who_is_no_owner_deletes_the_itwin(emu: Emu, client: TestClient) -> None:
    """An organization administrator deletes an iTwin a service app created and owns."""
    itwin = emu.itwin(token=emu.app_token())
    assert "alice@contoso.com" not in _owners(client, itwin["id"])
    assert client.delete(f"/itwins/{itwin['id']}", headers=h("alice-token")).status_code == 204


def test_c12_users_me_for_a_user(client: TestClient) -> None:
    """GET /users/me answers the caller's own user, with the Users API's field names."""
    r = client.get("/users/me", headers=h("alice-token", 1))
    assert r.status_code == 200, r.text
    user = r.json()["user"]
    assert set(user) == {"id", "displayName", "givenName", "surname", "email", "alternateEmail",
                         "phone", "organizationName", "city", "country", "language",
                         "createdDateTime"}  # fmt: skip
    assert (user["email"], user["organizationName"]) == ("alice@contoso.com", "Contoso")
    owner = client.post("/itwins/", json={"class": "Endeavor", "subClass": "Project",
                        "displayName": "X"}, headers=h("alice-token"))  # fmt: skip
    owners = client.get(f"{AC}/{owner.json()['iTwin']['id']}/members/owners",
                        headers=h("alice-token")).json()["members"]  # fmt: skip
    assert owners[0]["id"] == user["id"]  # the same id Access Control shows


def test_c12_users_me_for_a_service_application(emu: Emu, client: TestClient) -> None:
    """A service application's token answers its own user account and email."""
    r = client.get("/users/me", headers=h(emu.app_token()))
    assert r.status_code == 200, r.text
    assert r.json()["user"]["email"] == "itwin-access-demo@apps.contoso.com"


def test_c12_users_me_needs_a_token(client: TestClient) -> None:
    r = client.get("/users/me")
    assert (r.status_code, error_code(r)) == (401, "HeaderNotFound")
    r = client.get("/users/me", headers=h("alice-token", 2))
    assert (r.status_code, error_code(r)) == (404, "ResourceNotFound")


def test_c13_openid_discovery_then_a_basic_auth_token(client: TestClient) -> None:
    """Discovery names the token endpoint; a client-credentials grant with HTTP Basic works
    there, as Bentley's CLI signs in."""
    r = client.get("/.well-known/openid-configuration")
    assert r.status_code == 200, r.text
    doc = r.json()
    for key in ("issuer", "authorization_endpoint", "jwks_uri", "token_endpoint",
                "response_types_supported", "subject_types_supported",
                "id_token_signing_alg_values_supported"):  # fmt: skip
        assert doc[key], key
    assert doc["issuer"] == "http://emu.test"
    assert client.get(doc["jwks_uri"]).json() == {"keys": []}
    basic = base64.b64encode(b"itwin-access-demo:demo-secret").decode()
    form = {"grant_type": "client_credentials", "scope": "itwin-platform"}
    r = client.post(doc["token_endpoint"], data=form, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = client.get("/users/me", headers=h(token)).json()["user"]
    assert me["email"] == "itwin-access-demo@apps.contoso.com"
    wrong = base64.b64encode(b"itwin-access-demo:nope").decode()
    r = client.post(doc["token_endpoint"], data={"grant_type": "client_credentials"},
                    headers={"Authorization": f"Basic {wrong}"})  # fmt: skip
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")


FULL = {"Prefer": "return=representation"}


def test_c9_account_endpoints_honour_prefer(emu: Emu, client: TestClient) -> None:
    """The account reads answer the full iTwin with Prefer: return=representation."""
    itwin = emu.itwin()
    for path in ("/itwins/myprimaryaccount", f"/itwins/{itwin['id']}/account"):
        minimal = client.get(path, headers=h("alice-token")).json()["iTwin"]
        assert "status" not in minimal, path
        assert "createdDateTime" not in minimal, path
        full = client.get(path, headers=h("alice-token", **FULL)).json()["iTwin"]
        assert full["class"] == "Account", path
        assert {"status", "createdDateTime", "parentId", "iTwinAccountId"} <= set(full), path
        assert full["id"] == minimal["id"] == itwin["iTwinAccountId"], path


def test_c10_an_itwin_created_without_a_parent_reads_back_its_account_as_parent(
    emu: Emu, client: TestClient
) -> None:
    """parentId is the Account iTwin's id (a string), on create, get and list."""
    itwin = emu.itwin()
    account = client.get("/itwins/myprimaryaccount", headers=h("alice-token")).json()["iTwin"]
    assert itwin["parentId"] == account["id"] == itwin["iTwinAccountId"]
    got = client.get(f"/itwins/{itwin['id']}", headers=h("alice-token", **FULL)).json()["iTwin"]
    assert got["parentId"] == account["id"]
    listed = client.get("/itwins", params={"parentId": account["id"]},
                        headers=h("alice-token")).json()["iTwins"]  # fmt: skip
    assert [i["id"] for i in listed] == [itwin["id"]]
    child = emu.itwin(parentId=itwin["id"], number="CHILD")
    assert child["parentId"] == itwin["id"]  # an explicit parent stays as given


def big_group_seed(members: int = 60, ims: int = 55) -> dict[str, Any]:
    """Contoso with ``members`` extra users, all in one group of iTwin BIG-1 (a seed may build
    a group larger than one PATCH could)."""
    emails = [f"user{i:02d}@contoso.com" for i in range(members)]
    return {
        "organizations": [{"name": "Contoso", "users": [
            {"email": "alice@contoso.com", "orgAdmin": True}, *({"email": e} for e in emails)]}],
        "tokens": {"alice-token": "alice@contoso.com"},
        "itwins": [{"class": "Endeavor", "subClass": "Project", "number": "BIG-1",
                    "displayName": "Big", "owners": ["alice@contoso.com"],
                    "groups": [{"name": "All", "description": "everyone", "members": emails,
                                "imsGroups": [f"IMS-{i}" for i in range(ims)]}]}],
    }  # fmt: skip


def test_c5_group_lists_cap_members_and_ims_groups_unless_paged(client: TestClient) -> None:
    """members/imsGroups: 50 in an unpaged list and in a single GET; whole with $top/$skip."""
    assert client.post("/__emulator/seed?replace=true", json=big_group_seed()).is_success
    itwin_id = client.get("/itwins", params={"number": "BIG-1"},
                          headers=h("alice-token")).json()["iTwins"][0]["id"]  # fmt: skip
    base = f"{AC}/{itwin_id}/groups"
    unpaged = client.get(base, headers=h("alice-token")).json()
    assert "_links" not in unpaged
    group = unpaged["groups"][0]
    assert (len(group["members"]), len(group["imsGroups"])) == (50, 50)
    paged = client.get(base, params={"$top": 10, "$skip": 0}, headers=h("alice-token")).json()
    assert "_links" in paged
    whole = paged["groups"][0]
    assert (len(whole["members"]), len(whole["imsGroups"])) == (60, 55)
    single = client.get(f"{base}/{group['id']}", headers=h("alice-token")).json()["group"]
    assert (len(single["members"]), len(single["imsGroups"])) == (50, 50)


def test_c5_patch_refuses_more_than_50_members_or_ims_groups(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    r = client.post(f"{AC}/{itwin['id']}/groups", json={"name": "G", "description": "d"},
                    headers=h("alice-token"))  # fmt: skip
    url = f"{AC}/{itwin['id']}/groups/{r.json()['group']['id']}"
    for key, values in (("members", [f"u{i}@contoso.com" for i in range(51)]),
                        ("imsGroups", [f"IMS-{i}" for i in range(51)])):  # fmt: skip
        r = client.patch(url, json={key: values}, headers=h("alice-token"))
        assert r.status_code == 422, key
        error = r.json()["error"]
        assert error["code"] == "InvalidiTwinsGroupRequest"
        assert error["details"][0]["code"] == "InvalidProperty"
        assert error["details"][0]["target"] == key
        assert error["details"][0]["message"] == "Collection size exceeds maximum size."


def test_c6_created_roles_are_custom_and_seeded_default_roles_are_default(
    emu: Emu, client: TestClient
) -> None:
    """Roles callers create are "Custom"; the seed's defaultRoles come with every new iTwin
    as "Default" roles, which cannot be updated or deleted."""
    itwin = emu.itwin()
    role_id = emu.role(itwin["id"], "Mine")
    r = client.get(f"{AC}/{itwin['id']}/roles/{role_id}", headers=h("alice-token"))
    assert r.json()["role"]["type"] == "Custom"
    seed = {
        "organizations": [{"name": "Contoso", "users": [
            {"email": "alice@contoso.com", "orgAdmin": True}]}],
        "tokens": {"alice-token": "alice@contoso.com"},
        "defaultRoles": [{"displayName": "Reader", "description": "Platform reader",
                          "permissions": ["imodels_read"]}],
        "itwins": [{"class": "Endeavor", "subClass": "Project", "number": "S-1",
                    "displayName": "Seeded", "owners": ["alice@contoso.com"],
                    "roles": [{"displayName": "Old", "description": "d", "type": "Default"}]}],
    }  # fmt: skip
    assert client.post("/__emulator/seed?replace=true", json=seed).is_success
    new = emu.itwin(number="NEW-1")
    roles = client.get(f"{AC}/{new['id']}/roles", headers=h("alice-token")).json()["roles"]
    assert [(r["displayName"], r["type"], r["permissions"]) for r in roles] == [
        ("Reader", "Default", ["imodels_read"])
    ]
    seeded = client.get("/itwins", params={"number": "S-1"},
                        headers=h("alice-token")).json()["iTwins"][0]  # fmt: skip
    old = client.get(f"{AC}/{seeded['id']}/roles", headers=h("alice-token")).json()["roles"]
    assert [(r["displayName"], r["type"]) for r in old] == [("Old", "Default")]
    url = f"{AC}/{new['id']}/roles/{roles[0]['id']}"
    r = client.patch(url, json={"description": "mine now"}, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (422, "InvalidiTwinsRoleRequest")
    assert r.json()["error"]["message"] == "Cannot update Role."
    r = client.delete(url, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (422, "InvalidiTwinsRoleRequest")
    r = client.get(url, headers=h("alice-token"))
    assert r.json()["role"]["description"] == "Platform reader"


def test_c14_max_return_caps_the_pageable_set_and_scope_all_is_for_org_admins(
    emu: Emu, client: TestClient
) -> None:
    """X-Max-Return caps the whole set (paging past it gives nothing); an org admin sees
    iTwins it is no member of only with X-iTwin-Query-Scope: all."""
    app = emu.app_token()
    ids = [emu.itwin(token=app, number=f"C14-{i}")["id"] for i in range(5)]
    mine = client.get("/itwins", headers=h("alice-token")).json()["iTwins"]
    assert not {i["id"] for i in mine} & set(ids)
    every = h("alice-token", **{"X-iTwin-Query-Scope": "all", "X-Max-Return": "3"})
    first = client.get("/itwins", params={"$top": 2}, headers=every)
    assert first.headers["X-Max-Return"] == "3"
    assert [i["id"] for i in first.json()["iTwins"]] == ids[:2]
    second = client.get("/itwins", params={"$top": 2, "$skip": 2}, headers=every).json()
    assert [i["id"] for i in second["iTwins"]] == ids[2:3]
    assert "next" not in second["_links"]
    past = client.get("/itwins", params={"$top": 2, "$skip": 4}, headers=every).json()
    assert past["iTwins"] == []
    bob = client.get("/itwins", headers=h("bob-token", **{"X-iTwin-Query-Scope": "all"}))
    assert bob.json()["iTwins"] == []  # not an org admin: served as memberOfItwin


def test_c7_invitation_visibility_and_single_get(emu: Emu, client: TestClient) -> None:
    """Lists: the sender sees its own, owners and org admins all. Single GET: an org admin, or a
    member who is the invitee or the inviter; nobody else."""
    itwin = emu.itwin()  # alice owns it
    viewer = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    inviter = emu.role(itwin["id"], "Inviter", ["administration_invite_member"])
    emu.member(itwin["id"], "bob@contoso.com", [inviter])
    emu.member(itwin["id"], "carol@contoso.com", [viewer])
    bobs = emu.add_users(itwin["id"], [{"email": "xena@fabrikam.com", "roleIds": [viewer]}],
                         token="bob-token").json()["invitations"][0]  # fmt: skip
    alices = emu.add_users(itwin["id"], [{"email": "zed@example.com", "roleIds": [viewer]}])
    alices_id = alices.json()["invitations"][0]["id"]
    base = f"{AC}/{itwin['id']}/members/invitations"

    def listed(token: str) -> set[str]:
        return {i["id"] for i in client.get(base, headers=h(token)).json()["invitations"]}

    assert listed("bob-token") == {bobs["id"]}  # the sender: its own
    assert listed("alice-token") == {bobs["id"], alices_id}  # an owner: all
    assert client.get(f"{base}/{bobs['id']}", headers=h("bob-token")).status_code == 200
    r = client.get(f"{base}/{alices_id}", headers=h("bob-token"))  # neither invitee nor inviter
    assert (r.status_code, error_code(r)) == (404, "InvitationNotFound")
    assert client.get(f"{base}/{bobs['id']}", headers=h("alice-token")).status_code == 200


def test_c7_accepting_merges_roles_and_accepting_as_a_member_succeeds(
    emu: Emu, client: TestClient
) -> None:
    """Only the invitee accepts; it becomes a member with the invited roles merged into any it
    holds, the invitation consumed; accepting again, as a member, is a success."""
    itwin = emu.itwin()
    viewer = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    editor = emu.role(itwin["id"], "Editor", ["imodels_write"])
    inv = emu.add_users(itwin["id"], [{"email": "xena@fabrikam.com", "roleIds": [viewer]}])
    inv_id = inv.json()["invitations"][0]["id"]
    accept = f"{AC}/{itwin['id']}/members/invitations/{inv_id}/accept"
    r = client.post(accept, headers=h("bob-token"))  # not the invitee, not a member
    assert (r.status_code, error_code(r)) == (404, "InvitationNotFound")
    assert client.post(accept, headers=h("xena-token")).status_code == 204
    again = emu.add_users(itwin["id"], [{"email": "xena@fabrikam.com", "roleIds": [editor]}])
    assert again.status_code == 409  # a member now: change roles with PATCH, or invite anew
    members = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).json()
    xena = next(m for m in members["members"] if m["email"] == "xena@fabrikam.com")
    assert [r["displayName"] for r in xena["roles"]] == ["Viewer"]
    assert client.post(accept, headers=h("xena-token")).status_code == 204  # consumed: still 204
    random_id = "00000000-0000-0000-0000-000000000000"
    r = client.post(f"{AC}/{itwin['id']}/members/invitations/{random_id}/accept",
                    headers=h("xena-token"))  # fmt: skip
    assert r.status_code == 204
    assert client.get(f"{AC}/{itwin['id']}/members/invitations",
                      headers=h("alice-token")).json()["invitations"] == []  # fmt: skip


def test_c7_accepting_as_a_member_adds_the_invited_roles(emu: Emu, client: TestClient) -> None:
    """Bob, invited by the service app as Editor, was since added directly as Viewer: his
    accept merges the roles and consumes the invitation."""
    app = emu.app_token()
    itwin = emu.itwin(token=app)
    viewer = emu.role(itwin["id"], "Viewer", ["imodels_read"], token=app)
    editor = emu.role(itwin["id"], "Editor", ["imodels_write"], token=app)
    inv = emu.add_users(itwin["id"], [{"email": "bob@contoso.com", "roleIds": [editor]}],
                        token=app).json()["invitations"][0]  # fmt: skip
    emu.add_users(itwin["id"], [{"email": "bob@contoso.com", "roleIds": [viewer]}])  # alice
    accept = f"{AC}/{itwin['id']}/members/invitations/{inv['id']}/accept"
    assert client.post(accept, headers=h("bob-token")).status_code == 204
    members = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).json()
    bob = next(m for m in members["members"] if m["email"] == "bob@contoso.com")
    assert sorted(r["displayName"] for r in bob["roles"]) == ["Editor", "Viewer"]
    left = client.get(f"{AC}/{itwin['id']}/members/invitations", headers=h("alice-token"))
    assert left.json()["invitations"] == []


def test_c3_c4_a_service_app_owns_what_it_creates_and_invites_whom_it_adds(
    emu: Emu, client: TestClient
) -> None:
    """The creating service app is the owner (C3); its member and owner adds are invitations,
    even for users of its own organization (C4); removing the last owner is allowed."""
    app = emu.app_token()
    itwin = emu.itwin(token=app)
    assert _owners(client, itwin["id"], app) == ["itwin-access-demo@apps.contoso.com"]
    role = emu.role(itwin["id"], "Viewer", token=app)
    added = emu.add_users(itwin["id"], [{"email": "bob@contoso.com", "roleIds": [role]}],
                          token=app).json()  # fmt: skip
    assert added["members"] == []
    assert [i["email"] for i in added["invitations"]] == ["bob@contoso.com"]
    owner = client.post(f"{AC}/{itwin['id']}/members/owners", json={"email": "carol@contoso.com"},
                        headers=h(app)).json()  # fmt: skip
    assert owner["member"] is None
    assert owner["invitation"]["email"] == "carol@contoso.com"
    me = client.get(f"{AC}/{itwin['id']}/members/owners", headers=h(app)).json()["members"][0]
    r = client.delete(f"{AC}/{itwin['id']}/members/owners/{me['id']}", headers=h(app))
    assert r.status_code == 204  # [I] the last owner may go: org admins keep control
