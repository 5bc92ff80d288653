"""Access Control v2 member invitations: list, get, delete, accept, 7-day expiry."""

from __future__ import annotations

from emu_helpers import AC, Emu, error_code, h
from starlette.testclient import TestClient


def _invite(emu: Emu, itwin_id: str, role: str, email: str = "xena@fabrikam.com") -> str:
    r = emu.add_users(itwin_id, [{"email": email, "roleIds": [role]}])
    invitation_id: str = r.json()["invitations"][0]["id"]
    return invitation_id


def test_list_get_delete(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin(displayName="Bridge")
    role = emu.role(itwin["id"])
    inv = _invite(emu, itwin["id"], role)
    base = f"{AC}/{itwin['id']}/members/invitations"
    r = client.get(base, headers=h("alice-token"))
    assert [i["id"] for i in r.json()["invitations"]] == [inv]
    assert "self" in r.json()["_links"]
    r = client.get(f"{base}/{inv}", headers=h("alice-token"))
    one = r.json()["invitation"]
    assert (one["inviterGivenName"], one["inviterSurname"], one["projectDisplayName"]) == (
        "Alice", "Admin", "Bridge")  # fmt: skip
    assert one["inviterOrganization"] == "Contoso"
    assert client.delete(f"{base}/{inv}", headers=h("alice-token")).status_code == 204
    r = client.get(f"{base}/{inv}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "InvitationNotFound")
    r = client.get(f"{AC}/nope/members/invitations", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "ItwinNotFound")


def test_members_see_only_invitations_they_sent(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"], "Inviter", ["administration_invite_member"])
    emu.member(itwin["id"], "bob@contoso.com", [role])
    _invite(emu, itwin["id"], role, "a@example.com")  # sent by alice (owner)
    r = emu.add_users(itwin["id"], [{"email": "b@example.com", "roleIds": [role]}],
                      token="bob-token")  # fmt: skip
    assert r.status_code == 201
    base = f"{AC}/{itwin['id']}/members/invitations"
    assert [i["email"] for i in client.get(base, headers=h("bob-token")).json()["invitations"]] == [
        "b@example.com"
    ]
    everyone = client.get(base, headers=h("alice-token")).json()["invitations"]
    assert [i["email"] for i in everyone] == ["a@example.com", "b@example.com"]
    assert client.get(base, headers=h("xena-token")).status_code == 403


def test_accept_makes_the_invitee_a_member(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"], "Viewer", ["imodels_read"])
    inv = _invite(emu, itwin["id"], role)
    accept = f"{AC}/{itwin['id']}/members/invitations/{inv}/accept"
    r = client.post(accept, headers=h("bob-token"))  # not the invitee
    assert (r.status_code, error_code(r)) == (404, "InvitationNotFound")
    assert client.post(accept, headers=h("xena-token")).status_code == 204
    members = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).json()
    assert [(m["email"], m["organization"]) for m in members["members"]] == [
        ("xena@fabrikam.com", "Fabrikam")
    ]
    assert members["members"][0]["roles"][0]["id"] == role
    # Once a member, accepting any id answers 204 (observed live behaviour).
    assert client.post(f"{AC}/{itwin['id']}/members/invitations/random/accept",
                       headers=h("xena-token")).status_code == 204  # fmt: skip
    r = client.post(f"{AC}/nope/members/invitations/{inv}/accept", headers=h("xena-token"))
    assert (r.status_code, error_code(r)) == (404, "ItwinNotFound")


def test_owner_invitation_accept_makes_an_owner(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    r = client.post(f"{AC}/{itwin['id']}/members/owners", json={"email": "xena@fabrikam.com"},
                    headers=h("alice-token"))  # fmt: skip
    inv = r.json()["invitation"]["id"]
    listed = client.get(f"{AC}/{itwin['id']}/members/invitations", headers=h("alice-token"))
    assert [i["id"] for i in listed.json()["invitations"]] == [inv]
    accept = f"{AC}/{itwin['id']}/members/invitations/{inv}/accept"
    assert client.post(accept, headers=h("xena-token")).status_code == 204
    owners = client.get(f"{AC}/{itwin['id']}/members/owners", headers=h("xena-token")).json()
    assert [o["email"] for o in owners["members"]] == ["alice@contoso.com", "xena@fabrikam.com"]


def test_invitations_expire_after_seven_days(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    inv = _invite(emu, itwin["id"], role)
    base = f"{AC}/{itwin['id']}/members/invitations"
    created = client.get(f"{base}/{inv}", headers=h("alice-token")).json()["invitation"]
    assert created["expirationDate"] > created["createdDate"]
    client.post("/__emulator/clock", json={"advanceSeconds": 7 * 86400 - 60})
    assert len(client.get(base, headers=h("alice-token")).json()["invitations"]) == 1
    client.post("/__emulator/clock", json={"advanceSeconds": 120})
    assert client.get(base, headers=h("alice-token")).json()["invitations"] == []
    r = client.get(f"{base}/{inv}", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "InvitationNotFound")
    assert client.post(f"{base}/{inv}/accept", headers=h("xena-token")).status_code == 404
    # After expiry a new add is a fresh invitation.
    assert _invite(emu, itwin["id"], role) != inv
