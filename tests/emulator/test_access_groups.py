"""Access Control v2 groups and group-member invitations."""

from __future__ import annotations

import httpx
from emu_helpers import AC, Emu, error_code, error_target, h
from starlette.testclient import TestClient


def _group(
    client: TestClient, itwin_id: str, name: str = "Team", token: str = "alice-token"
) -> httpx.Response:
    return client.post(f"{AC}/{itwin_id}/groups", json={"name": name, "description": "d"},
                       headers=h(token))  # fmt: skip


def test_group_crud_and_members_as_emails(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    r = _group(client, itwin["id"])
    assert r.status_code == 201
    group = r.json()["group"]
    assert (group["members"], group["imsGroups"]) == ([], [])
    url = f"{AC}/{itwin['id']}/groups/{group['id']}"
    r = client.patch(url, json={"members": ["bob@contoso.com", "carol@contoso.com"],
                                "imsGroups": ["Contoso Engineers"]},
                     headers=h("alice-token"))  # fmt: skip
    assert r.status_code == 200
    members = r.json()["group"]["members"]
    assert [m["email"] for m in members] == ["bob@contoso.com", "carol@contoso.com"]
    assert set(members[0]) == {"userId", "email", "givenName", "surname", "organization"}
    assert r.json()["group"]["imsGroups"] == ["Contoso Engineers"]
    # Full replacement.
    r = client.patch(url, json={"members": ["carol@contoso.com"], "name": "Renamed"},
                     headers=h("alice-token"))  # fmt: skip
    assert [m["email"] for m in r.json()["group"]["members"]] == ["carol@contoso.com"]
    assert r.json()["group"]["name"] == "Renamed"
    r = client.patch(url, json={"members": []}, headers=h("alice-token"))
    assert r.json()["group"]["members"] == []
    r = client.get(f"{AC}/{itwin['id']}/groups", headers=h("alice-token"))
    assert [g["name"] for g in r.json()["groups"]] == ["Renamed"]
    assert "_links" not in r.json()
    r = client.get(f"{AC}/{itwin['id']}/groups?$top=10", headers=h("alice-token"))
    assert "_links" in r.json()
    assert client.delete(url, headers=h("alice-token")).status_code == 204
    r = client.get(url, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "GroupNotFound")


def test_group_errors(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    r = client.post(f"{AC}/{itwin['id']}/groups", json={"name": "", "description": "d"},
                    headers=h("alice-token"))  # fmt: skip
    assert (r.status_code, error_code(r)) == (422, "InvalidiTwinsGroupRequest")
    r = client.post(f"{AC}/{itwin['id']}/groups", json={"name": "x"}, headers=h("alice-token"))
    assert error_target(r) == "description"
    group = _group(client, itwin["id"]).json()["group"]
    assert _group(client, itwin["id"]).status_code == 422  # duplicate name
    url = f"{AC}/{itwin['id']}/groups/{group['id']}"
    r = client.patch(url, json={"members": ["nobody@nowhere.example"]}, headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "TeamMemberNotFound")
    r = client.patch(url, json={"members": [f"u{n}@contoso.com" for n in range(51)]},
                     headers=h("alice-token"))  # fmt: skip
    assert r.status_code == 422
    for method in ("GET", "PATCH", "DELETE"):
        r = client.request(method, f"{AC}/{itwin['id']}/groups/nope", json={},
                           headers=h("alice-token"))  # fmt: skip
        assert (r.status_code, error_code(r)) == (404, "GroupNotFound"), method


def test_groups_need_manage_groups(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    viewer = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    emu.member(itwin["id"], "bob@contoso.com", [viewer])
    assert _group(client, itwin["id"], token="bob-token").status_code == 403
    assert client.get(f"{AC}/{itwin['id']}/groups", headers=h("bob-token")).status_code == 403
    manager = emu.role(itwin["id"], "GroupManager", ["administration_manage_groups"])
    bob = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).json()
    client.patch(f"{AC}/{itwin['id']}/members/users/{bob['members'][0]['id']}",
                 json={"roleIds": [manager]}, headers=h("alice-token"))  # fmt: skip
    group = _group(client, itwin["id"], token="bob-token")
    assert group.status_code == 201
    # Adding members also needs administration_invite_member.
    r = client.patch(f"{AC}/{itwin['id']}/groups/{group.json()['group']['id']}",
                     json={"members": ["carol@contoso.com"]}, headers=h("bob-token"))  # fmt: skip
    assert r.status_code == 403


def test_external_group_members_get_group_invitations(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    group = _group(client, itwin["id"]).json()["group"]
    url = f"{AC}/{itwin['id']}/groups/{group['id']}"
    r = client.patch(url, json={"members": ["bob@contoso.com", "xena@fabrikam.com"]},
                     headers=h("alice-token"))  # fmt: skip
    assert [m["email"] for m in r.json()["group"]["members"]] == ["bob@contoso.com"]
    invitations = client.get(f"{url}/invitations", headers=h("alice-token")).json()["invitations"]
    assert [i["email"] for i in invitations] == ["xena@fabrikam.com"]
    assert "roles" not in invitations[0]
    # xena accepts and becomes a group member.
    accept = f"{AC}/{itwin['id']}/members/invitations/{invitations[0]['id']}/accept"
    assert client.post(accept, headers=h("xena-token")).status_code == 204
    group_now = client.get(url, headers=h("alice-token")).json()["group"]
    assert [m["email"] for m in group_now["members"]] == ["bob@contoso.com", "xena@fabrikam.com"]
    # Cancelling a group invitation.
    client.patch(url, json={"members": ["new@example.com"]}, headers=h("alice-token"))
    r = client.post("/__emulator/users", json={"email": "new@example.com"})
    assert r.status_code == 201
    client.patch(url, json={"members": ["new@example.com"]}, headers=h("alice-token"))
    pending = client.get(f"{url}/invitations", headers=h("alice-token")).json()["invitations"]
    assert [i["email"] for i in pending] == ["new@example.com"]
    r = client.delete(f"{url}/invitations/{pending[0]['id']}", headers=h("alice-token"))
    assert r.status_code == 204
    r = client.delete(f"{url}/invitations/{pending[0]['id']}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "InvitationNotFound")


def test_a_listed_member_who_accepted_a_service_apps_invitation_stays(
    emu: Emu, client: TestClient
) -> None:
    """A service app only invites; listing again someone who accepted keeps them (found by
    tests/e2e/test_convergence_property.py: the full replacement dropped them)."""
    app = emu.app_token()
    itwin = emu.itwin(token=app)
    group = _group(client, itwin["id"], token=app).json()["group"]
    url = f"{AC}/{itwin['id']}/groups/{group['id']}"
    r = client.patch(url, json={"members": ["xena@fabrikam.com"]}, headers=h(app))
    assert r.status_code == 200, r.text
    (invitation,) = client.get(f"{url}/invitations", headers=h(app)).json()["invitations"]
    accept = f"{AC}/{itwin['id']}/members/invitations/{invitation['id']}/accept"
    assert client.post(accept, headers=h("xena-token")).status_code == 204
    r = client.patch(url, json={"members": ["xena@fabrikam.com", "bob@contoso.com"]},
                     headers=h(app))  # fmt: skip
    assert r.status_code == 200, r.text
    assert [m["email"] for m in r.json()["group"]["members"]] == ["xena@fabrikam.com"]
    pending = client.get(f"{url}/invitations", headers=h(app)).json()["invitations"]
    assert [i["email"] for i in pending] == ["bob@contoso.com"]
