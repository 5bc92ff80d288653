"""Access Control permissions and roles: catalogue, my permissions, role CRUD, errors, denials."""

from __future__ import annotations

from pathlib import Path

from emu_helpers import AC, Emu, error_code, error_target, h
from starlette.testclient import TestClient

CATALOGUE = Path(__file__).resolve().parents[1] / "fixtures" / "permissions.txt"


def test_permission_catalogue_is_the_shared_list(client: TestClient) -> None:
    r = client.get(f"{AC}/permissions", headers=h("bob-token", 2))
    assert r.status_code == 200
    perms = r.json()["permissions"]
    assert perms[:2] == ["administration_invite_member", "administration_remove_member"]
    assert perms == CATALOGUE.read_text().split()  # the fixture is the reviewed list
    # v1 answers the same.
    assert client.get(f"{AC}/permissions", headers=h("bob-token", 1)).json()["permissions"] == perms


def test_my_permissions(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    all_perms = client.get(f"{AC}/permissions", headers=h("bob-token")).json()["permissions"]
    r = client.get(f"{AC}/{itwin['id']}/permissions", headers=h("alice-token"))
    assert r.json()["permissions"] == all_perms  # owner (and org admin)
    assert client.get(f"{AC}/{itwin['id']}/permissions", headers=h("bob-token")).json() == {
        "permissions": []
    }
    role = emu.role(itwin["id"], "Viewer", ["imodels_webview", "imodels_read"])
    emu.member(itwin["id"], "bob@contoso.com", [role])
    r = client.get(f"{AC}/{itwin['id']}/permissions", headers=h("bob-token"))
    assert r.json()["permissions"] == ["imodels_read", "imodels_webview"]
    r = client.get(f"{AC}/nope/permissions", headers=h("bob-token"))
    assert (r.status_code, error_code(r)) == (404, "ItwinNotFound")


def test_role_crud(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    base = f"{AC}/{itwin['id']}/roles"
    r = client.post(base, json={"displayName": "Viewer", "description": "Read"},
                    headers=h("alice-token"))  # fmt: skip
    assert r.status_code == 201
    role = r.json()["role"]
    assert (role["permissions"], role["type"]) == ([], "Custom")
    r = client.patch(f"{base}/{role['id']}", json={"permissions": ["imodels_read"],
                                                   "description": "Reads"},
                     headers=h("alice-token"))  # fmt: skip
    assert r.json()["role"]["permissions"] == ["imodels_read"]
    assert r.json()["role"]["displayName"] == "Viewer"
    r = client.get(f"{base}/{role['id']}", headers=h("alice-token"))
    assert r.json()["role"]["description"] == "Reads"
    assert [x["id"] for x in client.get(base, headers=h("alice-token")).json()["roles"]] == [
        role["id"]
    ]
    r = client.patch(f"{base}/{role['id']}", json={"permissions": []}, headers=h("alice-token"))
    assert r.json()["role"]["permissions"] == []
    assert client.delete(f"{base}/{role['id']}", headers=h("alice-token")).status_code == 204
    r = client.get(f"{base}/{role['id']}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "RoleNotFound")


def test_role_errors(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    base = f"{AC}/{itwin['id']}/roles"
    r = client.post(base, json={"displayName": "x"}, headers=h("alice-token"))
    assert (r.status_code, error_code(r), error_target(r)) == (
        422, "InvalidiTwinsRoleRequest", "description")  # fmt: skip
    r = client.post(base, json={"description": "x"}, headers=h("alice-token"))
    assert error_target(r) == "displayName"
    with_perms = {"displayName": "x", "description": "x", "permissions": ["imodels_read"]}
    r = client.post(base, json=with_perms, headers=h("alice-token"))
    assert r.status_code == 422
    ok = client.post(base, json={"displayName": "x", "description": "x", "permissions": []},
                     headers=h("alice-token"))  # fmt: skip
    assert ok.status_code == 201
    role_id = ok.json()["role"]["id"]
    r = client.patch(f"{base}/{role_id}", json={"permissions": ["imodels_read", "bogus"]},
                     headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_code(r), error_target(r)) == (
        404, "PermissionNotFound", "permissions[1]")  # fmt: skip
    for method in ("GET", "PATCH", "DELETE"):
        r = client.request(method, f"{base}/unknown", json={}, headers=h("alice-token"))
        assert (r.status_code, error_code(r)) == (404, "RoleNotFound"), method
    r = client.post(f"{AC}/unknown/roles", json={"displayName": "x", "description": "x"},
                    headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_code(r)) == (404, "ItwinNotFound")


def test_roles_need_manage_roles(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    viewer = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    emu.member(itwin["id"], "bob@contoso.com", [viewer])
    base = f"{AC}/{itwin['id']}/roles"
    for method, url in (("GET", base), ("POST", base), ("PATCH", f"{base}/{viewer}"),
                        ("DELETE", f"{base}/{viewer}")):  # fmt: skip
        r = client.request(method, url, json={"displayName": "y", "description": "y"},
                           headers=h("bob-token"))  # fmt: skip
        assert (r.status_code, error_code(r)) == (403, "InsufficientPermissions"), method
    manager = emu.role(itwin["id"], "Manager", ["administration_manage_roles"])
    client.patch(f"{AC}/{itwin['id']}/members/users/{member_id(client, itwin['id'])}",
                 json={"roleIds": [manager]}, headers=h("alice-token"))  # fmt: skip
    assert client.get(base, headers=h("bob-token")).status_code == 200


def member_id(client: TestClient, itwin_id: str) -> str:
    r = client.get(f"{AC}/{itwin_id}/members/users", headers=h("alice-token"))
    mid: str = r.json()["members"][0]["id"]
    return mid


def test_deleting_an_assigned_role_drops_the_assignment(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    a = emu.role(itwin["id"], "A", ["imodels_read"])
    b = emu.role(itwin["id"], "B", ["imodels_write"])
    emu.member(itwin["id"], "bob@contoso.com", [a, b])
    client.delete(f"{AC}/{itwin['id']}/roles/{a}", headers=h("alice-token"))
    r = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token"))
    assert [x["id"] for x in r.json()["members"][0]["roles"]] == [b]


def test_deleting_the_last_role_removes_members_and_invitations(
    emu: Emu, client: TestClient
) -> None:
    """A member cannot hold zero roles; a role-less member invitation would read as an owner
    invitation (found by tests/e2e/test_convergence_property.py)."""
    itwin = emu.itwin()
    base = f"{AC}/{itwin['id']}"
    a = emu.role(itwin["id"], "A", ["imodels_read"])
    b = emu.role(itwin["id"], "B", ["imodels_write"])
    emu.member(itwin["id"], "bob@contoso.com", [a])
    emu.member(itwin["id"], "carol@contoso.com", [a, b])
    invited = emu.add_users(itwin["id"], [{"email": "x@fabrikam.com", "roleIds": [a]}])
    assert invited.json()["invitations"], invited.text
    group = client.post(f"{base}/groups", json={"name": "G", "description": "g"},
                        headers=h("alice-token", 2)).json()["group"]  # fmt: skip
    added = client.post(f"{base}/members/groups",
                        json={"members": [{"groupId": group["id"], "roleIds": [a]}]},
                        headers=h("alice-token", 2))  # fmt: skip
    assert added.status_code == 201, added.text
    owner = client.post(f"{base}/members/owners", json={"email": "o@fabrikam.com"},
                        headers=h("alice-token", 2))  # fmt: skip
    assert owner.json()["invitation"], owner.text

    assert client.delete(f"{base}/roles/{a}", headers=h("alice-token")).status_code == 204

    users = client.get(f"{base}/members/users", headers=h("alice-token")).json()["members"]
    assert [u["email"] for u in users] == ["carol@contoso.com"]
    groups = client.get(f"{base}/members/groups", headers=h("alice-token")).json()["members"]
    assert groups == []
    invitations = client.get(f"{base}/members/invitations", headers=h("alice-token", 2))
    # Only the owner invitation is left (it never held a role).
    assert [i["email"] for i in invitations.json()["invitations"]] == ["o@fabrikam.com"]
