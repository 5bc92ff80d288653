"""Seed files: the issue's keys, pre-existing iTwins in API shapes, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from emu_helpers import AC, h
from starlette.testclient import TestClient

from reconciler.emulator import create_app
from reconciler.emulator.seed import SeedError, read_seed

SEED = """
organizations:
  - name: Contoso
    users:
      - {email: alice@contoso.com, givenName: Alice, surname: Admin, orgAdmin: true}
      - {email: bob@contoso.com, givenName: Bob, surname: Builder}
    serviceApps:
      - {clientId: ci-reconciler, clientSecret: change-me, email: ci@apps.contoso.com}
tokens:
  alice-token: alice@contoso.com
  outsider-token: out@elsewhere.example
itwins:
  - class: Endeavor
    subClass: Project
    number: BR-1
    displayName: Bridge
    createdBy: alice@contoso.com
    roles:
      - {displayName: Viewer, description: Read, permissions: [imodels_read]}
    owners: [alice@contoso.com]
    members:
      - {email: bob@contoso.com, roles: [Viewer]}
    groups:
      - {name: Team, description: T, members: [bob@contoso.com], imsGroups: [Engineers]}
    groupMembers:
      - {group: Team, roles: [Viewer]}
    invitations:
      - {email: new@example.com, roles: [Viewer]}
projects: []
"""


def test_seed_file_loads_directory_and_itwins(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(SEED)
    app = create_app(tmp_path / "s.db", seed=path)
    with TestClient(app) as c:
        itwins = c.get("/itwins", headers=h("alice-token")).json()["iTwins"]
        assert [i["number"] for i in itwins] == ["BR-1"]
        itwin = itwins[0]["id"]
        members = c.get(f"{AC}/{itwin}/members/users", headers=h("alice-token")).json()
        assert members["members"][0]["roles"][0]["displayName"] == "Viewer"
        groups = c.get(f"{AC}/{itwin}/members/groups", headers=h("alice-token")).json()
        assert groups["members"][0]["groupName"] == "Team"
        invitations = c.get(f"{AC}/{itwin}/members/invitations", headers=h("alice-token"))
        assert invitations.json()["invitations"][0]["email"] == "new@example.com"
        # A token email in no organization is an external user who can sign in.
        assert c.get("/itwins", headers=h("outsider-token")).json()["iTwins"] == []
        r = c.post("/connect/token", data={"grant_type": "client_credentials",
                                           "client_id": "ci-reconciler",
                                           "client_secret": "change-me"})  # fmt: skip
        assert r.status_code == 200
    app.state.emu.store.close()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("organizations: [\n", "not valid YAML"),
        ("- a\n", "must be a mapping"),
        ("users: []\n", "unknown key(s) users"),
        ("organizations:\n  - users: []\n", "organizations[0]: 'name' is required"),
        ("itwins:\n  - {class: Endeavor, subClass: Project, displayName: x, "
         "members: [{email: who@x.example, roles: []}]}\n", "is in no organization"),
        ("organizations: [{name: C, users: [{email: a@c.com}]}]\nitwins:\n  - {class: Endeavor, "
         "subClass: Project, displayName: x, members: [{email: a@c.com, roles: [Nope]}]}\n",
         "unknown role 'Nope'"),
    ],
)  # fmt: skip
def test_bad_seeds_name_the_file_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SeedError) as info:
        create_app(tmp_path / "b.db", seed=path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(path))


def test_demo_seed_has_the_documented_identities() -> None:
    seed = read_seed(None)
    contoso = seed["organizations"][0]
    assert contoso["name"] == "Contoso"
    emails = [u["email"] for u in contoso["users"]]
    assert emails[0] == "alice@contoso.com"
    assert contoso["users"][0]["orgAdmin"] is True
    assert {"bob@contoso.com", "carol@contoso.com", "dana@contoso.com", "eli@contoso.com",
            "frank@contoso.com"} <= set(emails)  # fmt: skip
    app = contoso["serviceApps"][0]
    assert (app["clientId"], app["clientSecret"], app["email"], app["orgAdmin"]) == (
        "itwin-access-demo", "demo-secret", "itwin-access-demo@apps.contoso.com", True)  # fmt: skip
    assert seed["tokens"]["alice-token"] == "alice@contoso.com"
    assert seed["tokens"]["bob-token"] == "bob@contoso.com"
