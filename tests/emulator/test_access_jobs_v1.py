"""Access Control v2 jobs and the v1 /members shape."""

from __future__ import annotations

from emu_helpers import AC, Emu, error_code, error_target, h
from starlette.testclient import TestClient


def test_job_assigns_unassigns_and_removes(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    a, b = emu.role(itwin["id"], "A"), emu.role(itwin["id"], "B")
    emu.member(itwin["id"], "carol@contoso.com", [a])
    actions = {
        "assignRoles": [{"email": "bob@contoso.com", "roleIds": [a, b]}],
        "unassignRoles": [{"email": "bob@contoso.com", "roleIds": [b]}],
        "removeMembers": [{"email": "carol@contoso.com"}, {"email": "nobody@contoso.com"}],
    }
    r = client.post(f"{AC}/{itwin['id']}/jobs", json={"actions": actions}, headers=h("alice-token"))
    assert r.status_code == 201
    job = r.json()["job"]
    assert (job["itwinId"], job["status"]) == (itwin["id"], "PartialCompleted")
    r = client.get(f"{AC}/{itwin['id']}/jobs/{job['id']}",
                   headers=h("alice-token", Prefer="return=representation"))  # fmt: skip
    assert r.json()["job"]["error"][0]["code"] == "TeamMemberNotFound"
    r = client.get(f"{AC}/{itwin['id']}/jobs/{job['id']}/actions", headers=h("alice-token"))
    assert [x["status"] for x in r.json()["actions"]["removeMembers"]] == ["Completed", "Failed"]
    members = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).json()
    assert [(m["email"], [x["id"] for x in m["roles"]]) for m in members["members"]] == [
        ("bob@contoso.com", [a])
    ]
    r = client.post(f"{AC}/{itwin['id']}/jobs", json={"actions": {}}, headers=h("alice-token"))
    assert r.status_code == 422
    r = client.get(f"{AC}/{itwin['id']}/jobs/nope", headers=h("alice-token"))
    assert r.status_code == 404
    r = client.post(f"{AC}/{itwin['id']}/jobs", json={"actions": actions}, headers=h("bob-token"))
    assert r.status_code == 403


def test_v1_members_shape(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    role = emu.role(itwin["id"])
    base = f"{AC}/{itwin['id']}/members"
    r = client.post(base, json={"members": [{"email": "bob@contoso.com", "roleId": role},
                                            {"email": "xena@fabrikam.com", "roleid": role}]},
                    headers=h("alice-token", 1))  # fmt: skip
    assert r.status_code == 201
    assert [m["email"] for m in r.json()["members"]] == ["bob@contoso.com", "xena@fabrikam.com"]
    assert r.json()["members"][0]["roles"] == [{"id": role, "displayName": "Viewer",
                                                "description": "Viewer"}]  # fmt: skip
    r = client.post(base, json={"members": [{"email": "bob@contoso.com", "roleId": role}]},
                    headers=h("alice-token", 1))  # fmt: skip
    assert (r.status_code, error_code(r)) == (409, "iTwinMemberAlreadyExists")
    for member in ({"email": "nobody@nowhere.example", "roleId": role},
                   {"email": "carol@contoso.com", "roleId": "nope"}):  # fmt: skip
        r = client.post(base, json={"members": [member]}, headers=h("alice-token", 1))
        assert (r.status_code, error_code(r)) == (404, "ItwinNotFound")
    r = client.post(base, json={"members": [{"email": "carol@contoso.com"}]},
                    headers=h("alice-token", 1))  # fmt: skip
    assert (r.status_code, error_target(r)) == (422, "members[0].roleId")
    listed = client.get(f"{base}?$top=1", headers=h("alice-token", 1)).json()
    assert len(listed["members"]) == 1
    assert "next" in listed["_links"]
    bob = listed["members"][0]["id"]
    r = client.patch(f"{base}/{bob}", json={"roleIds": [role]}, headers=h("alice-token", 1))
    assert r.json()["member"]["id"] == bob
    assert client.get(f"{base}/{bob}", headers=h("alice-token", 1)).json()["member"]["id"] == bob
    assert client.delete(f"{base}/{bob}", headers=h("alice-token", 1)).status_code == 204
    r = client.get(f"{base}/{bob}", headers=h("alice-token", 1))
    assert (r.status_code, error_code(r)) == (404, "TeamMemberNotFound")
    # v1 roles answer as v2.
    r = client.get(f"{AC}/{itwin['id']}/roles", headers=h("alice-token", 1))
    assert r.json()["roles"][0]["id"] == role
