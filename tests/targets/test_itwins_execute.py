"""ItwinsTarget.execute against the emulator over HTTP: every operation kind, convergence,
and "already so" answers counted as success."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.apply import steps
from reconciler.diff import diff
from reconciler.errors import ApiError
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    ProjectState,
    Role,
    State,
    UserMember,
)
from reconciler.plan.build import Operation, OpKind, batch_adds
from reconciler.targets.itwins import ItwinsTarget

ALL = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)


def plan_ops(target: ItwinsTarget, desired: State) -> list[Operation]:
    live, context = target.read(desired.numbers())
    ops, problems = batch_adds(diff(desired, live, context.identity))
    assert not problems
    return ops


def run(target: ItwinsTarget, ops: list[Operation]) -> None:
    for step in steps(ops):
        target.execute(step)


def converge(target: ItwinsTarget, desired: State) -> list[Operation]:
    """Plan, execute every step, and check a second plan is empty."""
    ops = plan_ops(target, desired)
    run(target, ops)
    assert plan_ops(target, desired) == []
    return ops


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


NEW = Project(
    number="P-NEW",
    attributes={"displayName": "New Bridge", "subClass": "Project", "status": "Active"},
    manage=ALL,
    roles=(
        Role("Viewer", "Read only", frozenset({"imodels_read"})),
        Role("Lead", None, frozenset({"imodels_read", "administration_invite_member"})),
        Role("Empty", "No permissions yet"),
    ),
    groups=(Group("Crew", "Site crew", frozenset({"dana@contoso.com", "eli@contoso.com"})),),
    owners=(Owner("alice@contoso.com"), Owner("bob@contoso.com")),
    members=(
        UserMember("bob@contoso.com", roles("Viewer")),
        UserMember("carol@contoso.com", roles("Viewer", "Lead")),
        UserMember("xena@fabrikam.com", roles("Viewer")),  # another organization: invited
    ),
    group_members=(GroupMember("Crew", roles("Lead")),),
)


def test_create_a_project_with_everything(emulator, make_target) -> None:
    target = make_target(emulator())
    ops = converge(target, State((NEW,)))
    assert {op.kind for op in ops} == {
        OpKind.CREATE_PROJECT,
        OpKind.CREATE_ROLE,
        OpKind.CREATE_GROUP,
        OpKind.ADD_OWNER,
        OpKind.ADD_MEMBER,
        OpKind.ADD_GROUP_MEMBER,
    }
    assert all(op.project_id is None for op in ops)  # resolved by number at execution
    live, _ = target.read(["P-NEW"])
    project = live.projects[0]
    assert project.attributes["class"] == "Endeavor"
    assert project.role("Lead") is not None
    assert project.role("Lead").description == "Lead"  # type: ignore[union-attr]
    xena = next(m for m in project.members if m.email == "xena@fabrikam.com")
    assert xena.pending


def test_a_service_app_converges_although_it_only_invites(emulator) -> None:
    target = ItwinsTarget.connect(
        emulator(), client_id="itwin-access-demo", client_secret="demo-secret", rate_limit=None
    )
    converge(target, State((NEW,)))
    live, context = target.read(["P-NEW"])
    assert context.identity == "itwin-access-demo@apps.contoso.com"
    assert context.rights["P-NEW"].owner  # the creator owns what it created
    project = live.projects[0]
    assert all(m.pending for m in project.members)
    assert project.groups[0].members == {"dana@contoso.com", "eli@contoso.com"}


def test_member_adds_of_a_batch_are_one_request(emulator, make_target) -> None:
    target = make_target(emulator())
    ops = plan_ops(target, State((NEW,)))
    run(target, [op for op in ops if op.kind is not OpKind.ADD_MEMBER])
    adds = [op for op in ops if op.kind is OpKind.ADD_MEMBER]
    assert len(adds) == 3
    before = dict(target.client.stats.by_method)
    target.execute(adds)
    after = target.client.stats.by_method
    assert after.get("POST", 0) - before.get("POST", 0) == 1
    assert sum(after.values()) - sum(before.values()) == 1  # role ids were cached


def seeded_for_changes(itwin: Any) -> list[dict[str, Any]]:
    p1 = itwin(
        "P-1",
        displayName="Bridge",
        roles=[
            {"displayName": "Viewer", "description": "Read", "permissions": ["imodels_read"]},
            {
                "displayName": "Editor",
                "description": "Write",
                "permissions": ["imodels_read", "imodels_write"],
            },
        ],
        owners=["alice@contoso.com", "eli@contoso.com"],
        members=[
            {"email": "bob@contoso.com", "roles": ["Viewer"]},
            {"email": "carol@contoso.com", "roles": ["Viewer", "Editor"]},
        ],
        groups=[
            {"name": "Team", "description": "The team", "members": ["dana@contoso.com"]},
            {"name": "Old", "description": "Old team", "members": ["frank@contoso.com"]},
        ],
        groupMembers=[
            {"group": "Team", "roles": ["Editor"]},
            {"group": "Old", "roles": ["Viewer"]},
        ],
        invitations=[
            {"email": "xena@fabrikam.com", "roles": ["Viewer"]},
            {"email": "zed@example.com", "roles": ["Viewer"]},
        ],
    )
    return [p1, itwin("P-3")]


CHANGED = State(
    (
        Project(
            number="P-1",
            attributes={"displayName": "Bridge Two"},
            manage=ALL,
            roles=(
                Role("Viewer", "Read only", frozenset({"imodels_read", "imodels_webview"})),
                Role("Lead", "Leads", frozenset({"imodels_read", "administration_invite_member"})),
            ),
            groups=(
                Group("Team", "The team", frozenset({"dana@contoso.com", "eli@contoso.com"})),
                Group("Ops", "Operations", frozenset({"frank@contoso.com"})),
            ),
            owners=(Owner("alice@contoso.com"), Owner("frank@contoso.com")),
            members=(
                UserMember("bob@contoso.com", roles("Viewer", "Lead")),
                UserMember("frank@contoso.com", roles("Viewer")),
                UserMember("xena@fabrikam.com", roles("Lead")),
            ),
            group_members=(GroupMember("Team", roles("Viewer")), GroupMember("Ops", roles("Lead"))),
        ),
        Project(number="P-3", state=ProjectState.ABSENT),
    )
)


def test_every_change_kind_converges(emulator, make_target, itwin) -> None:
    target = make_target(emulator(*seeded_for_changes(itwin)))
    ops = converge(target, CHANGED)
    # renames: test_renames_keep_ids_and_assignments (renamedFrom)
    renames = {OpKind.RENAME_ROLE, OpKind.RENAME_GROUP}
    assert {op.kind for op in ops} == set(OpKind) - {OpKind.CREATE_PROJECT} - renames
    live, _ = target.read(["P-1", "P-3"])
    assert live.numbers() == ("P-1",)
    project = live.projects[0]
    assert project.attributes["displayName"] == "Bridge Two"
    assert [o.email for o in project.owners] == ["alice@contoso.com", "frank@contoso.com"]
    assert {m.email for m in project.members} == {
        "bob@contoso.com",
        "frank@contoso.com",
        "xena@fabrikam.com",
    }
    assert project.role("Editor") is None


def test_already_so_answers_are_success(emulator, make_target, itwin) -> None:
    target = make_target(emulator(*seeded_for_changes(itwin)))
    ops = plan_ops(target, CHANGED)
    run(target, ops)
    again = [
        op
        for op in ops
        if op.kind
        in {
            OpKind.ADD_OWNER,
            OpKind.REMOVE_OWNER,
            OpKind.ADD_MEMBER,
            OpKind.ADD_GROUP_MEMBER,
            OpKind.REMOVE_MEMBER,
            OpKind.REMOVE_GROUP_MEMBER,
            OpKind.CANCEL_INVITATION,
            OpKind.REINVITE_MEMBER,
            OpKind.DELETE_GROUP,
            OpKind.DELETE_ROLE,
            OpKind.DELETE_PROJECT,
            OpKind.UPDATE_MEMBER,
            OpKind.UPDATE_ROLE,
            OpKind.UPDATE_GROUP,
        }
    ]
    assert len({op.kind for op in again}) == 14
    run(target, again)  # a re-run after an interrupted apply: nothing raises
    assert plan_ops(target, CHANGED) == []


def test_create_project_that_already_exists_is_adopted(emulator, make_target) -> None:
    target = make_target(emulator())
    create = Operation(OpKind.CREATE_PROJECT, "P-7", "", None, {"number": "P-7"})
    target.execute([create])
    target.execute([create])  # 409 iTwinExists: adopted by number
    live, _ = target.read(["P-7"])
    assert live.numbers() == ("P-7",)
    assert live.projects[0].attributes["displayName"] == "P-7"


def test_add_member_conflict_sets_the_wanted_roles(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge))
    add = Operation(
        OpKind.ADD_MEMBER, "P-1", "bob@contoso.com", None,
        {"email": "bob@contoso.com", "roles": ["Editor"]}, batch=0,
    )  # fmt: skip
    new = Operation(
        OpKind.ADD_MEMBER, "P-1", "eli@contoso.com", None,
        {"email": "eli@contoso.com", "roles": ["Viewer"]}, batch=0,
    )  # fmt: skip
    target.execute([add, new])  # bob is already a member: 409, then fixed one by one
    live, _ = target.read(["P-1"])
    members = {m.email: m.roles for m in live.projects[0].members}
    assert members["bob@contoso.com"] == roles("Editor")
    assert members["eli@contoso.com"] == roles("Viewer")


def test_unknown_role_name_is_an_api_error(emulator, make_target, bridge) -> None:
    from reconciler.errors import ApiError

    target = make_target(emulator(bridge))
    add = Operation(
        OpKind.ADD_MEMBER, "P-1", "eli@contoso.com", None,
        {"email": "eli@contoso.com", "roles": ["Nope"]}, batch=0,
    )  # fmt: skip
    with pytest.raises(ApiError) as info:
        target.execute([add])
    assert info.value.code == "RoleNotFound"
    assert "Nope" in str(info.value)


class DropFirstResponse(httpx.BaseTransport):
    """Lets the server act on the first matching request, then loses its answer: the
    ambiguous failure the emulator's own faults (injected before acting) never produce."""

    def __init__(self, inner: httpx.BaseTransport, method: str, suffix: str) -> None:
        self.inner, self.method, self.suffix = inner, method, suffix
        self.dropped = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if (
            not self.dropped
            and request.method == self.method
            and request.url.path.endswith(self.suffix)
        ):
            response.read()
            self.dropped += 1
            raise httpx.RemoteProtocolError("connection dropped after the server acted")
        return response


def dropping_target(http: Any, method: str, suffix: str) -> tuple[ItwinsTarget, DropFirstResponse]:
    transport = DropFirstResponse(http._transport, method, suffix)
    client = httpx.Client(transport=transport, base_url=str(http.base_url))
    target = ItwinsTarget.connect(client, token="alice-token", rate_limit=None)
    target.client.retry.sleep = lambda _s: None
    return target, transport


def test_a_lost_create_role_answer_makes_no_twin(emulator, bridge) -> None:
    target, transport = dropping_target(emulator(bridge), "POST", "/roles")
    create = Operation(
        OpKind.CREATE_ROLE, "P-1", "Lead", None,
        {"displayName": "Lead", "description": "Leads", "permissions": ["imodels_read"]},
    )  # fmt: skip
    target.execute([create])
    assert transport.dropped == 1
    live, _ = target.read(["P-1"])  # read raises if two roles share a name
    lead = live.projects[0].role("Lead")
    assert lead is not None
    assert lead.permissions == frozenset({"imodels_read"})


def test_a_lost_add_members_answer_is_resent_safely(emulator, bridge) -> None:
    target, transport = dropping_target(emulator(bridge), "POST", "/members/users")
    add = Operation(
        OpKind.ADD_MEMBER, "P-1", "eli@contoso.com", None,
        {"email": "eli@contoso.com", "roles": ["Viewer"]}, batch=0,
    )  # fmt: skip
    target.execute([add])
    assert transport.dropped == 1
    live, _ = target.read(["P-1"])
    assert UserMember("eli@contoso.com", roles("Viewer")) in live.projects[0].members


def test_parent_numbers_become_parent_ids(emulator, make_target, itwin) -> None:
    target = make_target(
        emulator(itwin("PRG-1", subClass="Program"), itwin("PRG-2", subClass="Program"))
    )
    want = Project(
        number="P-8",
        attributes={"displayName": "Child", "parent": "PRG-1", "subClass": "WorkPackage"},
    )
    converge(target, State((want,)))
    moved = want.evolve(attributes={**want.attributes, "parent": "PRG-2", "status": "Inactive"})
    ops = converge(target, State((moved,)))
    assert [op.kind for op in ops] == [OpKind.UPDATE_PROJECT]
    live, _ = target.read(["P-8"])
    assert live.projects[0].attributes["parent"] == "PRG-2"
    assert live.projects[0].attributes["status"] == "Inactive"
    assert live.projects[0].attributes["subClass"] == "WorkPackage"


@pytest.mark.parametrize("bob", [(), (UserMember("bob@contoso.com", roles("Editor")),)])
def test_an_invitation_beside_a_membership_goes_with_its_removal_or_update(
    emulator, make_target, bridge, bob
) -> None:
    """bob is a member and also holds a pending invitation (a service app invited him, then
    an admin added him directly). Removing or re-roling the member cancels that invitation:
    accepted later, it would bring him back or add its roles (found by
    tests/e2e/test_convergence_property.py)."""
    bridge["invitations"].append({"email": "bob@contoso.com", "roles": ["Viewer", "Editor"]})
    http = emulator(bridge)
    target = make_target(http)
    live, _ = target.read(["P-1"])
    others = [m for m in live.projects[0].members if m.email != "bob@contoso.com"]
    desired = live.projects[0].evolve(members=(*others, *bob), manage=ALL)
    converge(target, State((desired,)))
    itwin_id = live.projects[0].id
    invitations = http.get(
        f"/accesscontrol/itwins/{itwin_id}/members/invitations",
        headers={"Authorization": "Bearer alice-token"},
    ).json()["invitations"]
    assert [i["email"] for i in invitations] == ["xena@fabrikam.com"]


def test_an_owner_invitation_beside_an_ownership_goes_with_its_removal(
    emulator, make_target, bridge
) -> None:
    """bob is an owner and also holds a pending owner invitation (a service app invited him,
    then alice added him directly): removing the owner cancels it too."""
    http = emulator(bridge)
    target = make_target(http)
    live, _ = target.read(["P-1"])
    owners = f"/accesscontrol/itwins/{live.projects[0].id}/members/owners"
    app = "itwin-access-demo@apps.contoso.com"
    alice = {"Authorization": "Bearer alice-token"}
    assert http.post(owners, json={"email": app}, headers=alice).status_code == 201
    grant = {"grant_type": "client_credentials", "client_id": "itwin-access-demo",
             "client_secret": "demo-secret", "scope": "itwin-platform"}  # fmt: skip
    token = http.post("/connect/token", data=grant).json()["access_token"]
    invited = http.post(owners, json={"email": "bob@contoso.com"},
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert invited.json()["invitation"], invited.text
    added = http.post(owners, json={"email": "bob@contoso.com"}, headers=alice)
    assert added.json()["member"], added.text
    desired = live.projects[0].evolve(
        owners=(Owner("alice@contoso.com"), Owner(app)), manage={"owners": Manage.AUTHORITATIVE}
    )
    converge(target, State((desired,)))
    pending = http.get(owners.replace("owners", "invitations"), headers=alice).json()
    assert "bob@contoso.com" not in [i["email"] for i in pending["invitations"]]


def test_an_invitation_beside_a_membership_counts_with_its_roles(
    emulator, make_target, bridge
) -> None:
    """bob is a Viewer and holds a pending invitation as Editor: accepting it would make him
    an Editor too, so a manifest keeping him a Viewer re-roles him and cancels it."""
    bridge["invitations"].append({"email": "bob@contoso.com", "roles": ["Editor"]})
    http = emulator(bridge)
    target = make_target(http)
    live, _ = target.read(["P-1"])
    bob = next(m for m in live.projects[0].members if m.email == "bob@contoso.com")
    assert (bob.roles, bob.pending) == (roles("Viewer", "Editor"), False)
    desired = live.projects[0].evolve(
        members=(*[m for m in live.projects[0].members if m is not bob],
                 UserMember("bob@contoso.com", roles("Viewer"))),
        manage=ALL,
    )  # fmt: skip
    ops = converge(target, State((desired,)))
    assert [op.kind for op in ops] == [OpKind.UPDATE_MEMBER]
    pending = http.get(f"/accesscontrol/itwins/{live.projects[0].id}/members/invitations",
                       headers={"Authorization": "Bearer alice-token"}).json()  # fmt: skip
    assert [i["email"] for i in pending["invitations"]] == ["xena@fabrikam.com"]


def test_an_unknown_group_member_is_named_in_the_failure(emulator, make_target, bridge) -> None:
    """The API answers only "Requested team member is not available." at members[i]."""
    target = make_target(emulator(bridge))
    target.read(["P-1"])
    members = ["bob@contoso.com", "ghost@nowhere.example"]
    create = Operation(OpKind.CREATE_GROUP, "P-1", "G", None,
                       {"name": "G", "description": "g", "members": members})  # fmt: skip
    with pytest.raises(ApiError) as caught:
        target.execute([create])
    assert caught.value.code == "TeamMemberNotFound"
    assert "ghost@nowhere.example is not known to the directory" in str(caught.value.message)


def test_default_roles_are_never_touched_and_their_assignments_are_kept(
    emulator, make_target, itwin
) -> None:
    """Default (platform) roles are hidden (C6): an authoritative roles section neither
    deletes nor edits them, a member holding only one is left alone, and replacing a member's
    roles keeps its Default role."""
    http = emulator(
        itwin(
            "P-D",
            roles=[
                {
                    "displayName": "Reader",
                    "description": "Platform",
                    "type": "Default",
                    "permissions": ["imodels_read"],
                },
                {"displayName": "Viewer", "description": "Read", "permissions": ["imodels_read"]},
            ],
            members=[
                {"email": "bob@contoso.com", "roles": ["Reader", "Viewer"]},
                {"email": "carol@contoso.com", "roles": ["Reader"]},
            ],
        )
    )
    target = make_target(http)
    live, _ = target.read(["P-D"])
    project = live.projects[0]
    assert [r.display_name for r in project.roles] == ["Viewer"]
    assert {m.key: m.roles for m in project.members} == {"bob@contoso.com": roles("Viewer")}
    desired = Project(
        "P-D",
        {"displayName": "Project P-D"},
        manage={"roles": Manage.AUTHORITATIVE, "members": Manage.AUTHORITATIVE},
        roles=(Role("Viewer", "Read", frozenset({"imodels_read"})), Role("Editor", "Edit")),
        members=(UserMember("bob@contoso.com", roles("Editor")),),
    )
    ops = converge(target, State((desired,)))
    assert {(op.kind, op.key) for op in ops} == {
        (OpKind.CREATE_ROLE, "Editor"),
        (OpKind.UPDATE_MEMBER, "bob@contoso.com"),
    }
    itwin_id = project.id
    headers = {"Authorization": "Bearer alice-token"}
    wire_roles = http.get(f"/accesscontrol/itwins/{itwin_id}/roles", headers=headers).json()
    assert ("Reader", "Default") in {(r["displayName"], r["type"]) for r in wire_roles["roles"]}
    users = http.get(f"/accesscontrol/itwins/{itwin_id}/members/users", headers=headers).json()
    held = {u["email"]: sorted(r["displayName"] for r in u["roles"]) for u in users["members"]}
    assert held["bob@contoso.com"] == ["Editor", "Reader"]
    assert held["carol@contoso.com"] == ["Reader"]
