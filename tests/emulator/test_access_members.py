"""Access Control v2 user members, group members and owners."""

from __future__ import annotations

from emu_helpers import AC, Emu, error_code, error_target, h
from starlette.testclient import TestClient

from reconciler.emulator.identity import user_id_for


def test_add_same_org_user_is_a_member_with_role_objects(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    r = emu.add_users(itwin["id"], [{"email": "Bob@Contoso.com", "roleIds": [role]}])
    assert r.status_code == 201
    body = r.json()
    assert body["invitations"] == []
    member = body["members"][0]
    assert member == {
        "id": user_id_for("bob@contoso.com"),
        "email": "bob@contoso.com",
        "givenName": "Bob",
        "surname": "Builder",
        "organization": "Contoso",
        "roles": [{"id": role, "displayName": "Viewer", "description": "Viewer"}],
    }
    r = client.get(f"{AC}/{itwin['id']}/members/users/{member['id']}", headers=h("bob-token"))
    assert r.json()["member"]["email"] == "bob@contoso.com"


def test_external_and_unknown_emails_become_invitations(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    r = emu.add_users(itwin["id"], [{"email": "xena@fabrikam.com", "roleIds": [role]},
                                    {"email": "new@example.com", "roleIds": [role]}])  # fmt: skip
    assert r.status_code == 201
    assert r.json()["members"] == []
    invitations = r.json()["invitations"]
    assert [i["email"] for i in invitations] == ["xena@fabrikam.com", "new@example.com"]
    assert invitations[0]["status"] == "Pending"
    assert invitations[0]["invitedByEmail"] == "alice@contoso.com"
    assert invitations[0]["roles"] == [{"id": role, "displayName": "Viewer"}]


def test_every_add_by_a_service_app_is_an_invitation(emu: Emu) -> None:
    app = emu.app_token()
    itwin = emu.itwin(token=app)
    role = emu.role(itwin["id"], token=app)
    r = emu.add_users(itwin["id"], [{"email": "bob@contoso.com", "roleIds": [role]}], token=app)
    assert r.status_code == 201
    assert r.json()["members"] == []
    assert r.json()["invitations"][0]["email"] == "bob@contoso.com"


def test_reinviting_renews_the_pending_invitation(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    a, b = emu.role(itwin["id"], "A"), emu.role(itwin["id"], "B")
    first = emu.add_users(itwin["id"], [{"email": "new@example.com", "roleIds": [a]}]).json()
    second = emu.add_users(itwin["id"], [{"email": "new@example.com", "roleIds": [b]}]).json()
    assert first["invitations"][0]["id"] == second["invitations"][0]["id"]
    r = client.get(f"{AC}/{itwin['id']}/members/invitations", headers=h("alice-token"))
    assert [[x["id"] for x in i["roles"]] for i in r.json()["invitations"]] == [[b]]


def test_add_user_validation(emu: Emu) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    cases = [
        ({"members": []}, 422, "members"),
        ({}, 422, "members"),
        ({"members": [{"roleIds": [role]}]}, 422, "members[0].email"),
        ({"members": [{"email": "bob@contoso.com"}]}, 422, "members[0].roleIds"),
        ({"members": [{"email": "bob@contoso.com", "roleIds": []}]}, 422, "members[0].roleIds"),
        ({"members": [{"email": "bob@contoso.com", "roleIds": ["x"]}]}, 404,
         "members[0].roleIds[0]"),
    ]  # fmt: skip
    for body, status, target in cases:
        r = emu.c.post(f"{AC}/{itwin['id']}/members/users", json=body, headers=h("alice-token"))
        assert (r.status_code, error_target(r)) == (status, target), body
        expected = "RoleNotFound" if status == 404 else "InvalidiTwinsMemberRequest"
        assert error_code(r) == expected


def test_fifty_role_assignments_per_request(emu: Emu) -> None:
    itwin = emu.itwin()
    roles = [emu.role(itwin["id"], f"R{n}") for n in range(26)]
    emails = ["bob@contoso.com", "carol@contoso.com"]
    too_many = [{"email": e, "roleIds": roles} for e in emails]  # 52 assignments
    r = emu.add_users(itwin["id"], too_many)
    assert (r.status_code, error_code(r)) == (422, "InvalidiTwinsMemberRequest")
    assert r.json()["error"]["details"][0]["code"] == "InvalidProperty"
    ok = [{"email": e, "roleIds": roles[:25]} for e in emails]  # exactly 50
    assert emu.add_users(itwin["id"], ok).status_code == 201


def test_readding_an_existing_member_is_409(emu: Emu) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    emu.member(itwin["id"], "bob@contoso.com", [role])
    r = emu.add_users(itwin["id"], [{"email": "carol@contoso.com", "roleIds": [role]},
                                    {"email": "bob@contoso.com", "roleIds": [role]}])  # fmt: skip
    assert (r.status_code, error_code(r)) == (409, "iTwinMemberAlreadyExists")
    # All or nothing: carol was not added either.
    r = emu.c.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token"))
    assert [m["email"] for m in r.json()["members"]] == ["bob@contoso.com"]


def test_update_and_remove_user_member(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    a, b = emu.role(itwin["id"], "A"), emu.role(itwin["id"], "B")
    member = emu.member(itwin["id"], "bob@contoso.com", [a])
    url = f"{AC}/{itwin['id']}/members/users/{member['id']}"
    r = client.patch(url, json={"roleIds": [b, a]}, headers=h("alice-token"))
    assert [x["id"] for x in r.json()["member"]["roles"]] == [b, a]
    assert r.json()["member"]["email"] == "bob@contoso.com"
    r = client.patch(url, json={"roleIds": []}, headers=h("alice-token"))
    assert (r.status_code, error_target(r)) == (422, "roleIds")
    assert r.json()["error"]["details"][0]["code"] == "InvalidRequestBody"
    r = client.patch(url, json={}, headers=h("alice-token"))
    assert r.json()["error"]["details"][0]["code"] == "MissingRequiredProperty"
    r = client.patch(url, json={"roleIds": ["nope"]}, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "RoleNotFound")
    assert client.delete(url, headers=h("alice-token")).status_code == 204
    for method in ("GET", "PATCH", "DELETE"):
        r = client.request(method, url, json={"roleIds": [a]}, headers=h("alice-token"))
        assert (r.status_code, error_code(r)) == (404, "TeamMemberNotFound"), method


def test_member_permission_denials(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    viewer = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    inviter = emu.role(itwin["id"], "Inviter", ["administration_invite_member"])
    bob = emu.member(itwin["id"], "bob@contoso.com", [viewer])
    # A member may read members; a non-member may not.
    assert client.get(f"{AC}/{itwin['id']}/members/users", headers=h("bob-token")).is_success
    r = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("xena-token"))
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")
    r = emu.add_users(itwin["id"], [{"email": "carol@contoso.com", "roleIds": [viewer]}],
                      token="bob-token")  # fmt: skip
    assert r.status_code == 403
    r = client.delete(f"{AC}/{itwin['id']}/members/users/{bob['id']}", headers=h("bob-token"))
    assert r.status_code == 403
    client.patch(f"{AC}/{itwin['id']}/members/users/{bob['id']}", json={"roleIds": [inviter]},
                 headers=h("alice-token"))  # fmt: skip
    r = emu.add_users(itwin["id"], [{"email": "carol@contoso.com", "roleIds": [viewer]}],
                      token="bob-token")  # fmt: skip
    assert r.status_code == 201
    r = client.delete(f"{AC}/{itwin['id']}/members/users/{bob['id']}", headers=h("bob-token"))
    assert r.status_code == 403  # invite is not remove


def test_user_member_paging_across_pages(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    emails = [f"{n}@contoso.com" for n in ("bob", "carol", "dana", "eli", "frank")]
    emu.add_users(itwin["id"], [{"email": e, "roleIds": [role]} for e in emails])
    seen, url = [], f"{AC}/{itwin['id']}/members/users?$top=2"
    while url:
        body = client.get(url, headers=h("alice-token")).json()
        seen += [m["email"] for m in body["members"]]
        url = body["_links"].get("next", {}).get("href", "")
    assert seen == emails
    r = client.get(f"{AC}/{itwin['id']}/members/users?$top=0", headers=h("alice-token"))
    assert (r.status_code, error_target(r)) == (422, "$top")


def test_missing_user_keeps_id_with_null_profile(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    bob = emu.member(itwin["id"], "bob@contoso.com", [role])
    assert client.delete("/__emulator/users/bob@contoso.com").status_code == 204
    r = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token"))
    member = r.json()["members"][0]
    assert member["id"] == bob["id"]
    assert (member["email"], member["givenName"], member["surname"], member["organization"]) == (
        None, None, None, None)  # fmt: skip
    # The deleted user's token no longer works; the row can be removed by id.
    assert client.get("/itwins", headers=h("bob-token")).status_code == 401
    url = f"{AC}/{itwin['id']}/members/users/{bob['id']}"
    assert client.delete(url, headers=h("alice-token")).status_code == 204


def test_group_members(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    group = client.post(f"{AC}/{itwin['id']}/groups", json={"name": "Team", "description": "T"},
                        headers=h("alice-token")).json()["group"]  # fmt: skip
    base = f"{AC}/{itwin['id']}/members/groups"
    r = client.post(base, json={"members": [{"groupId": group["id"], "roleIds": [role]}]},
                    headers=h("alice-token"))  # fmt: skip
    assert r.status_code == 201
    assert r.json()["members"][0] == {"id": group["id"], "groupName": "Team",
                                      "groupDescription": "T",
                                      "roles": [{"id": role, "displayName": "Viewer",
                                                 "description": "Viewer"}]}  # fmt: skip
    r = client.post(base, json={"members": [{"groupId": group["id"], "roleIds": [role]}]},
                    headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_code(r)) == (409, "iTwinMemberAlreadyExists")
    r = client.post(base, json={"members": [{"groupId": "nope", "roleIds": [role]}]},
                    headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_code(r)) == (404, "TeamMemberNotFound")
    assert len(client.get(base, headers=h("alice-token")).json()["members"]) == 1
    r = client.patch(f"{base}/{group['id']}", json={"roleIds": []}, headers=h("alice-token"))
    assert r.status_code == 422
    # Group membership grants the role's permissions to the group's users.
    client.patch(f"{AC}/{itwin['id']}/groups/{group['id']}", json={"members": ["dana@contoso.com"]},
                 headers=h("alice-token"))  # fmt: skip
    r = client.get(f"{AC}/{itwin['id']}/permissions", headers=h("alice-token"))
    dana = client.post("/__emulator/seed", content="tokens: {dana-token: dana@contoso.com}")
    assert dana.status_code == 200
    r = client.get(f"{AC}/{itwin['id']}/permissions", headers=h("dana-token"))
    assert r.json()["permissions"] == ["imodels_read"]
    assert client.get(f"/itwins/{itwin['id']}", headers=h("dana-token")).status_code == 200
    assert client.get(f"{base}/{group['id']}", headers=h("alice-token")).is_success
    assert client.delete(f"{base}/{group['id']}", headers=h("alice-token")).status_code == 204
    r = client.get(f"{base}/{group['id']}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "TeamMemberNotFound")


def test_owners(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    base = f"{AC}/{itwin['id']}/members/owners"
    r = client.post(base, json={"email": "bob@contoso.com"}, headers=h("alice-token"))
    assert r.status_code == 201
    assert r.json()["invitation"] is None
    assert r.json()["member"]["email"] == "bob@contoso.com"
    assert "roles" not in r.json()["member"]
    r = client.post(base, json={"email": "bob@contoso.com"}, headers=h("alice-token"))
    assert (r.status_code, error_code(r), error_target(r)) == (409, "OwnerAlreadyExists", "email")
    r = client.post(base, json={"email": "xena@fabrikam.com"}, headers=h("alice-token"))
    assert r.json()["member"] is None
    assert r.json()["invitation"]["email"] == "xena@fabrikam.com"
    r = client.post(base, json={}, headers=h("alice-token"))
    assert (r.status_code, error_target(r)) == (422, "email")
    owners = client.get(base, headers=h("bob-token")).json()["members"]
    assert [o["email"] for o in owners] == ["alice@contoso.com", "bob@contoso.com"]
    assert client.delete(f"{base}/{owners[1]['id']}", headers=h("alice-token")).status_code == 204
    r = client.delete(f"{base}/{owners[1]['id']}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "TeamMemberNotFound")


def test_owners_are_added_by_owners_or_org_admins_only(emu: Emu, client: TestClient) -> None:
    app = emu.app_token()
    itwin = emu.itwin(token=app)  # the service app owns it; alice is org admin, not owner
    base = f"{AC}/{itwin['id']}/members/owners"
    # The owning service app's adds are invitations.
    r = client.post(base, json={"email": "bob@contoso.com"}, headers=h(app))
    assert r.json()["member"] is None
    assert r.json()["invitation"]["email"] == "bob@contoso.com"
    # Bob holds every invite/remove permission through a role, yet is no owner: refused (C1).
    role = emu.role(itwin["id"], "Admin", ["administration_invite_member",
                    "administration_remove_member"], token=app)  # fmt: skip
    client.post(f"{AC}/{itwin['id']}/members/users",
                json={"members": [{"email": "bob@contoso.com", "roleIds": [role]}]},
                headers=h("alice-token"))  # fmt: skip
    r = client.post(base, json={"email": "carol@contoso.com"}, headers=h("bob-token"))
    assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions")
    owner_id = client.get(base, headers=h(app)).json()["members"][0]["id"]
    assert client.delete(f"{base}/{owner_id}", headers=h("bob-token")).status_code == 403
