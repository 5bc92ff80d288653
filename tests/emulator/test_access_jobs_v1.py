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
    job = r.json()  # C8: unwrapped, no {"job": ...} envelope
    assert set(job) == {"id", "itwinId", "status"}
    assert (job["itwinId"], job["status"]) == (itwin["id"], "PartialCompleted")
    r = client.get(f"{AC}/{itwin['id']}/jobs/{job['id']}", headers=h("alice-token"))
    assert r.json() == job  # no error list without Prefer: return=representation
    r = client.get(f"{AC}/{itwin['id']}/jobs/{job['id']}",
                   headers=h("alice-token", Prefer="return=representation"))  # fmt: skip
    assert r.json()["error"][0]["code"] == "TeamMemberNotFound"
    assert r.json()["error"][0]["target"] == "nobody@contoso.com"
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


def test_job_refuses_bad_emails_and_unknown_roles_at_creation(emu: Emu, client: TestClient) -> None:
    """C8: invalid emails or unknown role ids are a 422 at creation, and nothing runs."""
    itwin = emu.itwin()
    a = emu.role(itwin["id"], "A")
    url = f"{AC}/{itwin['id']}/jobs"
    bad_email = {"assignRoles": [{"email": "bob@contoso.com", "roleIds": [a]},
                                 {"email": "not-an-email", "roleIds": [a]}]}  # fmt: skip
    r = client.post(url, json={"actions": bad_email}, headers=h("alice-token"))
    assert (r.status_code, error_target(r)) == (422, "actions.assignRoles[1].email")
    unknown_role = {"assignRoles": [{"email": "bob@contoso.com", "roleIds": [a, "nope"]}]}
    r = client.post(url, json={"actions": unknown_role}, headers=h("alice-token"))
    assert (r.status_code, error_target(r)) == (422, "actions.assignRoles[0].roleIds[1]")
    assert r.json()["error"]["details"][0]["code"] == "RoleNotFound"
    members = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).json()
    assert members["members"] == []  # bob was not added by either refused job


def test_job_permissions(emu: Emu, client: TestClient) -> None:
    """C8 [I]: administration_invite_member always, plus administration_remove_member when
    unassignRoles or removeMembers is present."""
    itwin = emu.itwin()
    viewer = emu.role(itwin["id"], "Viewer")
    inviter = emu.role(itwin["id"], "Inviter", ["administration_invite_member"])
    remover = emu.role(itwin["id"], "Remover", ["administration_remove_member"])
    bob = emu.member(itwin["id"], "bob@contoso.com", [inviter])
    url = f"{AC}/{itwin['id']}/jobs"
    assign = {"assignRoles": [{"email": "carol@contoso.com", "roleIds": [viewer]}]}
    remove = {"removeMembers": [{"email": "carol@contoso.com"}]}
    assert client.post(url, json={"actions": assign}, headers=h("bob-token")).status_code == 201
    assert client.post(url, json={"actions": remove}, headers=h("bob-token")).status_code == 403
    # removing alone still needs the invite permission
    r = client.patch(f"{AC}/{itwin['id']}/members/users/{bob['id']}",
                     json={"roleIds": [remover]}, headers=h("alice-token"))  # fmt: skip
    assert r.status_code == 200
    assert client.post(url, json={"actions": remove}, headers=h("bob-token")).status_code == 403
    assert client.post(url, json={"actions": remove}, headers=h("alice-token")).status_code == 201


def test_job_actions_see_the_earlier_ones_and_match_emails_as_the_directory_does(
    emu: Emu, client: TestClient
) -> None:
    """A job's actions run in order, each on the memberships the ones before it left (the job
    reads its users and members once, issue 17); emails match whatever their ASCII case."""
    itwin = emu.itwin()
    a, b = emu.role(itwin["id"], "A"), emu.role(itwin["id"], "B")
    emu.member(itwin["id"], "carol@contoso.com", [a])
    emu.member(itwin["id"], "dana@contoso.com", [b])
    actions = {
        "assignRoles": [
            {"email": "BOB@Contoso.COM", "roleIds": [a]},  # added
            {"email": "bob@contoso.com", "roleIds": [b, a]},  # now a member: b joins a
            {"email": "eli@contoso.com", "roleIds": [a]},
            {"email": "xena@fabrikam.com", "roleIds": [a]},  # another organization: invited
            {"email": "carol@contoso.com", "roleIds": [b]},
        ],
        "unassignRoles": [
            {"email": "Eli@contoso.com", "roleIds": [a]},  # the last role: no member any more
            {"email": "carol@contoso.com", "roleIds": [a]},
            {"email": "frank@contoso.com", "roleIds": [a]},  # no member: fails
        ],
        "removeMembers": [{"email": "dana@contoso.com"}, {"email": "ELI@contoso.com"}],
    }
    r = client.post(f"{AC}/{itwin['id']}/jobs", json={"actions": actions}, headers=h("alice-token"))
    assert (r.status_code, r.json()["status"]) == (201, "PartialCompleted")
    r = client.get(f"{AC}/{itwin['id']}/jobs/{r.json()['id']}/actions", headers=h("alice-token"))
    statuses = {k: [x["status"] for x in v] for k, v in r.json()["actions"].items()}
    assert statuses == {
        "assignRoles": ["Completed"] * 5,
        "unassignRoles": ["Completed", "Completed", "Failed"],
        "removeMembers": ["Completed", "Failed"],
    }
    failed = [x["error"]["target"] for v in r.json()["actions"].values() for x in v if "error" in x]
    assert failed == ["frank@contoso.com", "ELI@contoso.com"]
    members = client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).json()
    assert [(m["email"], [x["id"] for x in m["roles"]]) for m in members["members"]] == [
        ("carol@contoso.com", [b]),
        ("bob@contoso.com", [a, b]),
    ]
    invited = client.get(f"{AC}/{itwin['id']}/members/invitations", headers=h("alice-token"))
    assert [i["email"] for i in invited.json()["invitations"]] == ["xena@fabrikam.com"]
