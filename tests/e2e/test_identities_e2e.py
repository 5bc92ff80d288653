"""The reconciler as the three identities platform teams run it as (issue 11), each through the
real executable against a served emulator: converging from nothing, and refusing what it may
not do before writing anything.

(a) alice@contoso.com, an organization administrator who is no owner of the project (her token
    is opaque: the identity comes from GET /users/me);
(b) bob@contoso.com, an owner who is no organization administrator;
(c) the demo service application, which owns what it creates and invites whom it adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.server import RunningEmulator

pytestmark = pytest.mark.e2e

V1 = "application/vnd.bentley.itwin-platform.v1+json"
V2 = "application/vnd.bentley.itwin-platform.v2+json"
APP = "itwin-access-demo@apps.contoso.com"


class Api:
    """Changes made by hand, and live facts, over HTTP with a static token."""

    def __init__(self, base_url: str, token: str = "alice-token") -> None:
        self.http = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def send(self, method: str, path: str, body: Any = None, accept: str = V2) -> Any:
        r = self.http.request(method, path, json=body, headers={"Accept": accept})
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def itwin_id(self, number: str) -> str:
        r = self.http.get("/itwins", params={"number": number},
                          headers={"X-iTwin-Query-Scope": "all"})  # fmt: skip
        return str(r.json()["iTwins"][0]["id"])

    def owners(self, number: str) -> set[str]:
        body = self.send("GET", f"/accesscontrol/itwins/{self.itwin_id(number)}/members/owners")
        return {o["email"] for o in body["members"]}

    def pending_owners(self, number: str) -> set[str]:
        body = self.send(
            "GET", f"/accesscontrol/itwins/{self.itwin_id(number)}/members/invitations"
        )
        return {i["email"] for i in body["invitations"] if not i.get("roles")}

    def writes(self) -> int:
        counters = self.http.get("/__emulator/counters").json()["routes"]
        return sum(r["count"] for name, r in counters.items()
                   if not name.startswith("GET ") and name != "POST /connect/token")  # fmt: skip


def manifest(tmp_path: Path, base_url: str, body: str, name: str = "m") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "itwin-access.yaml").write_text(f"api: {base_url}\nbackend: itwins\n")
    (folder / "projects.yaml").write_text(body)
    return folder


ADMIN = (
    "{displayName: Admin, description: a, permissions: [administration_invite_member, "
    "administration_remove_member, administration_manage_roles, itwins_modify]}"
)


def project(number: str, owners: str, roles: tuple[str, ...] = (), members: str = "") -> str:
    """A manifest of one project: roles Viewer (+ ``roles``), member dana (+ ``members``)."""
    extra_roles = "".join(f"      - {r}\n" for r in roles)
    return f"""projects:
  - number: {number}
    displayName: Project {number}
    manage: {{roles: authoritative, members: authoritative, owners: authoritative}}
    roles:
      - {{displayName: Viewer, description: Read only, permissions: [imodels_read]}}
{extra_roles}    owners: {owners}
    members:
      - {{email: dana@contoso.com, roles: [Viewer]}}
{members}"""


Run = Callable[..., Any]


@pytest.fixture
def hand(served: RunningEmulator) -> Iterator[Api]:
    """alice@contoso.com (org admin) by hand."""
    with Api(served.base_url) as api:
        yield api


def test_a_an_org_admin_who_is_no_owner_converges_and_cannot_orphan_a_project(
    served: RunningEmulator, hand: Api, cli_with_env: Run, tmp_path: Path
) -> None:
    app_token = httpx.post(f"{served.base_url}/connect/token", data={
        "grant_type": "client_credentials", "client_id": "itwin-access-demo",
        "client_secret": "demo-secret"}).json()["access_token"]  # fmt: skip
    # The service app created it: it owns it, alice does not.
    with Api(served.base_url, app_token) as app:
        app.send("POST", "/itwins/", {"class": "Endeavor", "subClass": "Project",
                 "number": "A-1", "displayName": "Project A-1"}, accept=V1)  # fmt: skip
    assert hand.owners("A-1") == {APP}
    env = {"ITWIN_ACCESS_TOKEN": "alice-token"}  # opaque: who she is comes from /users/me
    # Replacing the only owner at once is refused: carol counts once she is an owner, and the
    # plan cannot know she will not be merely invited (issue 12: only accepted owners count).
    folder = manifest(tmp_path, served.base_url, project("A-1", "[carol@contoso.com]"))
    before = hand.writes()
    first = cli_with_env(env, "apply", folder, "--auto-approve")
    assert first.code == 3, first.stdout + first.stderr
    assert "until carol@contoso.com has accepted" in first.stderr
    assert hand.writes() == before
    # So in two steps: add carol beside the app, then drop the app.
    both = manifest(
        tmp_path, served.base_url, project("A-1", f"[{APP}, carol@contoso.com]"), "both"
    )
    added = cli_with_env(env, "apply", both, "--auto-approve")
    assert added.code == 0, added.stdout + added.stderr
    assert "+ add owner carol@contoso.com" in added.stdout
    assert hand.owners("A-1") == {APP, "carol@contoso.com"}
    applied = cli_with_env(env, "apply", folder, "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert f"- remove owner {APP}" in applied.stdout  # an org admin may (contract C1)
    assert "permission-denied" not in applied.stderr
    assert hand.owners("A-1") == {"carol@contoso.com"}
    again = cli_with_env(env, "plan", folder, "--detailed-exitcode")
    assert again.code == 0, again.stdout + again.stderr
    # Refused: leaving the project without any owner (never liftable), nothing written.
    orphan = manifest(tmp_path, served.base_url, project("A-1", "[]"), "orphan")
    before = hand.writes()
    blocked = cli_with_env(env, "apply", orphan, "--auto-approve")
    assert blocked.code == 3, blocked.stdout + blocked.stderr
    assert "last-owner" in blocked.stderr
    assert hand.writes() == before


def test_b_an_owner_who_is_no_org_admin_converges_and_cannot_touch_owners_elsewhere(
    served: RunningEmulator, hand: Api, cli_with_env: Run, tmp_path: Path
) -> None:
    for number in ("B-1", "B-2"):
        hand.send("POST", "/itwins/", {"class": "Endeavor", "subClass": "Project",
                  "number": number, "displayName": f"Project {number}"}, accept=V1)  # fmt: skip
    # Bob owns B-1; on B-2 he is only a member whose role manages roles and members but not
    # groups (so listing B-2's groups answers 403: read as none, the manifest does not manage
    # them).
    hand.send("POST", f"/accesscontrol/itwins/{hand.itwin_id('B-1')}/members/owners",
              {"email": "bob@contoso.com"})  # fmt: skip
    b2 = hand.itwin_id("B-2")
    role = hand.send("POST", f"/accesscontrol/itwins/{b2}/roles",
                     {"displayName": "Admin", "description": "a"})["role"]["id"]  # fmt: skip
    every = [
        "administration_invite_member",
        "administration_remove_member",
        "administration_manage_roles",
        "itwins_modify",
    ]
    hand.send("PATCH", f"/accesscontrol/itwins/{b2}/roles/{role}", {"permissions": every})
    hand.send("POST", f"/accesscontrol/itwins/{b2}/members/users",
              {"members": [{"email": "bob@contoso.com", "roleIds": [role]}]})  # fmt: skip
    env = {"ITWIN_ACCESS_TOKEN": "bob-token"}
    owners = "[bob@contoso.com, carol@contoso.com]"
    folder = manifest(tmp_path, served.base_url, project("B-1", owners))
    applied = cli_with_env(env, "apply", folder, "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "- remove owner alice@contoso.com" in applied.stdout  # an owner may (C1)
    assert hand.owners("B-1") == {"bob@contoso.com", "carol@contoso.com"}
    assert cli_with_env(env, "plan", folder, "--detailed-exitcode").code == 0
    # B-2: a role is never enough to change owners; preflight refuses before any write.
    body = project("B-2", "[alice@contoso.com, carol@contoso.com]", (ADMIN,),
                   "      - {email: bob@contoso.com, roles: [Admin]}\n")  # fmt: skip
    other = manifest(tmp_path, served.base_url, body, "other")
    before = hand.writes()
    blocked = cli_with_env(env, "apply", other, "--auto-approve")
    assert blocked.code == 3, blocked.stdout + blocked.stderr
    assert "permission-denied" in blocked.stderr
    assert "to be an owner or an organization administrator" in blocked.stderr
    assert hand.writes() == before


def test_c_a_service_application_owns_what_it_creates_and_keeps_its_ownership(
    served: RunningEmulator, hand: Api, cli_with_env: Run, tmp_path: Path
) -> None:
    env = {"ITWIN_CLIENT_ID": "itwin-access-demo", "ITWIN_CLIENT_SECRET": "demo-secret"}
    # The authoritative owners list omits the app itself.
    folder = manifest(tmp_path, served.base_url, project("C-1", "[carol@contoso.com]"))
    planned = cli_with_env(env, "plan", folder)
    assert planned.code == 0, planned.stderr
    assert f"owner: {APP} (the creator becomes its owner)" in planned.stdout
    applied = cli_with_env(env, "apply", folder, "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert hand.owners("C-1") == {APP}  # the creator (C3); never removed
    assert hand.pending_owners("C-1") == {"carol@contoso.com"}  # the app invites (C4)
    again = cli_with_env(env, "plan", folder, "--detailed-exitcode")
    assert again.code == 0, again.stdout + again.stderr
    assert "remove owner" not in again.stdout
    # Refused without the allowance: deleting the project; nothing written.
    gone = manifest(tmp_path, served.base_url,
                    "projects:\n  - number: C-1\n    state: absent\n", "gone")  # fmt: skip
    before = hand.writes()
    blocked = cli_with_env(env, "apply", gone, "--auto-approve")
    assert blocked.code == 3, blocked.stdout + blocked.stderr
    assert "project-deletions" in blocked.stderr
    assert hand.writes() == before
