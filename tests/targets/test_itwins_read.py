"""ItwinsTarget.read against the emulator over HTTP: wire JSON -> model, few requests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from reconciler.emulator import create_app
from reconciler.errors import ApiError
from reconciler.model import SECTIONS, Group, GroupMember, Manage, Owner, Role, UserMember
from reconciler.targets.itwins import ItwinsTarget

ROOT = Path(__file__).resolve().parents[2]
Seed = Callable[..., dict[str, Any]]


def catalogue() -> frozenset[str]:
    path = ROOT / "tests" / "fixtures" / "permissions.txt"
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def test_read_maps_the_live_project_to_the_model(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge))
    state, context = target.read(["P-1", "MISSING-1"])

    assert state.numbers() == ("P-1",)  # a project missing live is simply absent
    project = state.projects[0]
    assert project.id
    assert project.attributes["displayName"] == "Bridge"
    assert project.attributes["class"] == "Endeavor"
    assert project.attributes["subClass"] == "Project"
    assert project.attributes["status"] == "Active"
    assert dict(project.manage) == dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
    assert project.roles == (
        Role("Editor", "Write", frozenset({"imodels_read", "imodels_write"})),
        Role("Viewer", "Read", frozenset({"imodels_read"})),
    )
    assert all(r.id for r in project.roles)
    assert project.members == (
        UserMember("bob@contoso.com", frozenset({"Viewer"})),
        UserMember("carol@contoso.com", frozenset({"Viewer", "Editor"})),
        UserMember("xena@fabrikam.com", frozenset({"Viewer"})),
    )
    xena = project.members[2]
    assert xena.pending
    assert xena.id  # the invitation id, to cancel it
    assert not project.members[0].pending
    assert project.group_members == (GroupMember("Team", frozenset({"Editor"})),)
    assert project.group_members[0].id == project.groups[0].id
    assert project.groups == (Group("Team", "The team", frozenset({"dana@contoso.com"})),)
    assert project.owners == (Owner("alice@contoso.com"),)

    assert context.identity == "alice@contoso.com"
    assert context.org_admin
    assert context.known_permissions == catalogue()
    assert context.rights["P-1"].owner
    assert context.rights["P-1"].permissions == catalogue()
    assert context.unknown_users == frozenset()


def test_one_project_costs_the_fewest_requests(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge))
    target.read(["P-1"])
    # permissions catalogue + find by number + six lists + the invitations of its one group;
    # alice owns it, so no "my permissions", and nothing needs the org-admin probe (issue 17)
    assert target.requests == 9
    assert target.client.stats.by_method == {"GET": 9}
    target.read(["P-1"])  # the catalogue is read once per target
    assert target.requests == 9 + 8


def test_a_missing_project_costs_no_per_project_reads(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge))
    state, context = target.read(["NOPE"])
    assert state.projects == ()
    assert context.rights == {}
    # catalogue + find; a project to create needs the org-admin probe (2), and an org admin
    # looks again with X-iTwin-Query-Scope: all, for a project of that number it is no member of
    assert target.requests == 5


def test_many_numbers_are_found_with_one_list_call(emulator, make_target, itwin) -> None:
    http = emulator(*(itwin(f"N-{i}") for i in range(6)))
    target = make_target(http)
    state, _ = target.read([f"N-{i}" for i in range(5)] + ["ABSENT"])
    assert state.numbers() == tuple(f"N-{i}" for i in range(5))
    # catalogue, one list; ABSENT is missing: probe (2) and one more list with scope all
    assert target.requests == 1 + 1 + 2 + 1 + 6 * 5


def test_number_lookup_and_listing_agree(emulator, make_target, bridge, itwin) -> None:
    http = emulator(bridge, itwin("P-2", subClass="Program"), itwin("T-1", **{"class": "Thing",
                    "subClass": "Asset"}))  # fmt: skip
    numbers = ["P-1", "P-2", "T-1", "ABSENT"]
    by_query = make_target(http, lookup_threshold=10).read(numbers)
    by_list = make_target(http, lookup_threshold=0).read(numbers)
    assert by_query == by_list
    assert by_query[0].numbers() == ("P-1", "P-2", "T-1")


def test_inactive_projects_are_found(emulator, make_target, itwin) -> None:
    http = emulator(itwin("OLD-1", status="Inactive"), itwin("OLD-2", status="Inactive"),
                    itwin("OLD-3", status="Inactive"))  # fmt: skip
    for threshold in (0, 10):
        state, _ = make_target(http, lookup_threshold=threshold).read(["OLD-1", "OLD-2", "OLD-3"])
        assert state.numbers() == ("OLD-1", "OLD-2", "OLD-3")
        assert state.projects[0].attributes["status"] == "Inactive"


def test_parent_id_becomes_the_parent_number(emulator, make_target, itwin) -> None:
    program_id = "0b7c2a59-7f5c-4b53-9a0b-6a9f1f0e7c11"
    http = emulator(
        itwin("PRG-1", id=program_id, subClass="Program"), itwin("P-9", parentId=program_id)
    )
    state, _ = make_target(http).read(["P-9"])
    assert state.projects[0].attributes["parent"] == "PRG-1"


def test_the_implicit_account_parent_is_no_declared_parent(emulator, make_target, itwin) -> None:
    """An iTwin created without a parent reads back with its Account iTwin as parentId (C10):
    the model has no ``parent``, and the Account iTwin is not fetched to name it."""
    http = emulator(itwin("P-9"))
    headers = {"Authorization": "Bearer alice-token", "Prefer": "return=representation"}
    raw = http.get("/itwins", params={"number": "P-9"}, headers=headers).json()
    assert raw["iTwins"][0]["parentId"] == raw["iTwins"][0]["iTwinAccountId"]
    target = make_target(http)
    state, _ = target.read(["P-9"])
    assert "parent" not in state.projects[0].attributes
    # catalogue, find, six sections: no parent GET (and no org-admin probe: alice owns it)
    assert target.requests == 8


def test_non_owner_rights_come_from_its_permissions(emulator, make_target, bridge) -> None:
    bridge["roles"].append(
        {
            "displayName": "Admin",
            "description": "Administers access",
            "permissions": [
                "administration_manage_roles",
                "administration_invite_member",
                "administration_remove_member",
                "administration_manage_groups",
            ],
        }
    )
    bridge["members"][0]["roles"] = ["Viewer", "Admin"]  # bob
    target = make_target(emulator(bridge), token="bob-token")
    _, context = target.read(["P-1"])
    assert context.identity == "bob@contoso.com"
    rights = context.rights["P-1"]
    assert not rights.owner
    assert "administration_manage_roles" in rights.permissions
    assert "itwins_delete" not in rights.permissions
    assert not context.org_admin
    assert target.requests == 12  # + GET /{id}/permissions


def test_identity_from_config_marks_ownership(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge), identity="Alice@Contoso.com")
    _, context = target.read(["P-1"])
    assert context.identity == "alice@contoso.com"
    assert context.rights["P-1"].owner


def test_an_opaque_token_learns_its_identity_from_users_me(emulator, make_target, bridge) -> None:
    """An opaque token (no email claim) and no config identity: GET /users/me says who it is,
    once per target, so ownership is recognised (C12)."""
    target = make_target(emulator(bridge), identity=None)
    _, context = target.read(["P-1"])
    assert context.identity == "alice@contoso.com"
    assert context.rights["P-1"].owner
    # catalogue, find, six sections, a group's invitations + GET /users/me; an owner: no
    # GET /{id}/permissions and no org-admin probe
    assert target.requests == 10
    target.read(["P-1"])
    assert target.requests == 10 + 8  # find, six sections, a group's invitations: no /users/me


class NoUsersApi(httpx.BaseTransport):
    """The emulator without the Users API (a host where GET /users/me answers 404)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/users/me":
            return httpx.Response(404, json={"error": {"code": "ResourceNotFound"}})
        return self.inner.handle_request(request)


def test_an_opaque_token_without_identity_reads_its_permissions(
    emulator, make_target, bridge
) -> None:
    inner = emulator(bridge)
    http = httpx.Client(transport=NoUsersApi(inner._transport), base_url=inner.base_url)
    target = make_target(http, identity=None)
    _, context = target.read(["P-1"])
    assert context.identity is None
    assert not context.rights["P-1"].owner  # cannot tell without an identity
    assert context.rights["P-1"].permissions == catalogue()  # alice is an org admin
    assert context.org_admin
    assert target.requests == 13  # + GET /users/me (404)


def test_client_credentials_identity_and_org_admin_scope(emulator, bridge) -> None:
    http = emulator(bridge)
    creds = {"client_id": "itwin-access-demo", "client_secret": "demo-secret", "rate_limit": None}
    target = ItwinsTarget.connect(http, **creds)
    state, context = target.read(["P-1"])
    assert context.identity == "itwin-access-demo@apps.contoso.com"
    assert context.org_admin
    assert target.client.auth.token_requests == 1
    # An org admin finds the projects of its organization it is no member of ...
    assert state.numbers() == ("P-1",)
    assert not context.rights["P-1"].owner

    # ... which only the "all" query scope lists.
    target = ItwinsTarget.connect(http, query_scope=None, **creds)
    state, _ = target.read(["P-1"])
    assert state.numbers() == ()


def test_duplicate_live_role_names_are_read_as_one_and_the_twin_listed(
    emulator, make_target, bridge
) -> None:
    bridge["roles"].append({"displayName": "Viewer", "description": "again", "permissions": []})
    bridge["members"] = []
    bridge["invitations"] = []
    bridge["groupMembers"] = []
    state, _ = make_target(emulator(bridge)).read(["P-1"])
    (live,) = state.projects
    assert [r.display_name for r in live.roles].count("Viewer") == 1
    (twin,) = live.duplicates
    assert (twin.kind, twin.name) == ("role", "Viewer")
    assert twin.id != twin.keep


def test_missing_users_keep_their_member_id(emulator, make_target, bridge) -> None:
    http = emulator(bridge, admin=True)
    assert http.delete("/__emulator/users/carol@contoso.com").status_code in (200, 204)
    state, _ = make_target(http).read(["P-1"])
    missing = [m for m in state.projects[0].members if m.email is None]
    assert len(missing) == 1
    assert missing[0].key == f"id:{missing[0].id}"
    assert missing[0].roles == frozenset({"Viewer", "Editor"})


def test_progress_reports_each_project(emulator, make_target, itwin) -> None:
    http = emulator(*(itwin(f"N-{i}") for i in range(4)))
    calls: list[tuple[int, int]] = []
    make_target(http).read([f"N-{i}" for i in range(4)], progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 4)
    assert calls[-1] == (4, 4)
    assert sorted(calls) == calls


def test_an_unreadable_project_raises_an_api_error(emulator, make_target, bridge) -> None:
    bridge["members"].append({"email": "frank@contoso.com", "roles": ["Viewer"]})
    target = make_target(emulator(bridge), token="bob-token")  # bob: Viewer, no admin rights
    with pytest.raises(ApiError) as info:
        target.read(["P-1"])
    assert info.value.status == 403
    assert "bob-token" not in str(info.value)
    # Listing roles is what failed: the one line says what reading a project needs.
    assert str(info.value).endswith(
        "-> 403 InsufficientPermissions: project P-1: bob@contoso.com may not list its roles; "
        "reading a project needs administration_manage_roles there, ownership, or "
        "organization administration"
    )


def test_people_invited_to_a_group_count_as_its_members(emulator, make_target, bridge) -> None:
    http = emulator(bridge)
    target = make_target(http)
    state, _ = target.read(["P-1"])
    team = state.projects[0].groups[0]
    target.access.update_group(
        str(state.projects[0].id),
        str(team.id),
        {"members": ["dana@contoso.com", "xena@fabrikam.com"]},
    )  # xena is in another organization: invited, not added
    state, _ = target.read(["P-1"])
    assert state.projects[0].groups[0].members == {"dana@contoso.com", "xena@fabrikam.com"}


def test_a_group_of_more_than_50_members_reads_whole(tmp_path: Path, make_target) -> None:
    """Groups are listed with paging parameters, which lift the 50-item cap (C5)."""
    emails = [f"user{i:02d}@contoso.com" for i in range(60)]
    seed = {
        "organizations": [{"name": "Contoso", "users": [
            {"email": "alice@contoso.com", "orgAdmin": True}, *({"email": e} for e in emails)]}],
        "tokens": {"alice-token": "alice@contoso.com"},
        "itwins": [{"class": "Endeavor", "subClass": "Project", "number": "BIG-1",
                    "displayName": "Big", "owners": ["alice@contoso.com"],
                    "groups": [{"name": "All", "description": "everyone", "members": emails,
                                "imsGroups": [f"IMS-{i}" for i in range(55)]}]}],
    }  # fmt: skip
    with TestClient(create_app(tmp_path / "big.db", seed=seed)) as http:
        state, _ = make_target(http).read(["BIG-1"])
    group = state.projects[0].groups[0]
    assert group.members == frozenset(emails)
    assert len(group.ims_groups) == 55


def test_all_numbers_pages_past_1000_and_says_when_the_10000_cap_cuts_it(
    tmp_path: Path, make_target, base_seed: dict[str, Any]
) -> None:
    """An org admin's listing (scope all) pages by 1,000 and stops at X-Max-Return's 10,000,
    flagging the cut (C14); a smaller organization is listed whole, unflagged."""
    base = dict(base_seed)
    base["itwins"] = [
        {"class": "Endeavor", "subClass": "Project", "number": f"N-{i:05d}", "displayName": "x"}
        for i in range(10_001)
    ]
    with TestClient(create_app(tmp_path / "many.db", seed=base)) as http:
        target = make_target(http)  # alice: org admin, member of none of them
        numbers = target.all_numbers()
        assert len(numbers) == 10_000
        assert target.listing_truncated
        assert "X-iTwin-Query-Scope: all" in target.listing_scope
    small = {**base_seed, "itwins": base["itwins"][:1_500]}
    with TestClient(create_app(tmp_path / "some.db", seed=small)) as http:
        target = make_target(http)
        assert len(target.all_numbers()) == 1_500
        assert not target.listing_truncated


def test_groups_it_may_not_list_read_as_none_and_changes_to_them_are_refused(
    emulator, make_target, bridge
) -> None:
    """Bob manages roles and members but not groups: listing groups answers 403 (the contract
    documents it for org admins only). The read goes on; a manifest not managing groups plans
    normally, one managing them is blocked (permission-denied) before any write."""
    from reconciler.model import Project, State
    from reconciler.plan.build import OpKind, build_plan
    from reconciler.plan.guards import GuardSettings

    bridge["roles"].append(
        {
            "displayName": "Admin",
            "description": "Administers access",
            "permissions": [
                "administration_manage_roles",
                "administration_invite_member",
                "administration_remove_member",
            ],
        }
    )
    bridge["members"][0]["roles"] = ["Viewer", "Admin"]  # bob
    target = make_target(emulator(bridge), token="bob-token")
    live, context = target.read(["P-1"])
    assert context.unreadable == {"P-1": frozenset({"groups"})}
    assert live.projects[0].groups == ()
    dana = UserMember("dana@contoso.com", frozenset({"Viewer"}))
    members_only = Project("P-1", {}, manage={"members": Manage.ADDITIVE}, members=(dana,))
    plan = build_plan(State((members_only,)), live, context, GuardSettings())
    assert [op.kind for op in plan.operations] == [OpKind.ADD_MEMBER]
    assert not plan.blocked
    team = Group("Team", "The team", frozenset({"dana@contoso.com"}))
    with_groups = Project("P-1", {}, manage={"groups": Manage.ADDITIVE}, groups=(team,))
    plan = build_plan(State((with_groups,)), live, context, GuardSettings())
    assert [op.kind for op in plan.operations] == [OpKind.CREATE_GROUP]
    assert [v.guard for v in plan.blocked] == ["permission-denied"]
    assert "to list the project's groups (refused: 403)" in plan.blocked[0].message


# ---------------------------------------------------------------- issue 17: read what is managed


def test_only_the_lists_of_managed_sections_are_read(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge))
    state, context = target.read(["P-1"], sections={"P-1": ("roles", "members", "owners")})
    # catalogue + find + roles, users, group members, owners, invitations: no groups list and
    # no invitations of its groups, since no manifest manages groups
    assert target.requests == 7
    project = state.projects[0]
    assert set(project.manage) == {"roles", "members", "owners"}
    assert project.groups == ()
    assert project.group_members == (GroupMember("Team", frozenset({"Editor"})),)
    # role names come from the members' embedded roles: the roles list is not needed for them
    assert project.members == (
        UserMember("bob@contoso.com", frozenset({"Viewer"})),
        UserMember("carol@contoso.com", frozenset({"Viewer", "Editor"})),
        UserMember("xena@fabrikam.com", frozenset({"Viewer"})),
    )
    assert context.rights["P-1"].owner


def test_attributes_only_reads_just_the_owners_for_rights(emulator, make_target, bridge) -> None:
    target = make_target(emulator(bridge))
    state, context = target.read(["P-1"], sections={"P-1": ()})
    assert target.requests == 3  # catalogue + find + owners (alice owns it: all her rights)
    assert state.projects[0].members == ()
    assert state.projects[0].roles == ()
    assert context.rights["P-1"].owner


def test_lists_for_each_section() -> None:
    from reconciler.targets.itwins import lists_for

    assert lists_for(None) == ("roles", "users", "group_rows", "owners", "groups", "invitations")
    assert lists_for(()) == ("owners",)
    assert lists_for(("groups",)) == ("owners", "groups")
    assert lists_for(("owners",)) == ("owners", "invitations")
    # members need the roles list too: only it says which roles are Default (C6), to hide
    assert lists_for(("members",)) == ("roles", "users", "group_rows", "owners", "invitations")


def test_a_project_the_caller_does_not_own_reads_the_org_admin_probe(
    emulator, make_target, bridge
) -> None:
    bridge["owners"] = ["carol@contoso.com"]
    target = make_target(emulator(bridge))
    _, context = target.read(["P-1"], sections={"P-1": ("roles",)})
    # catalogue + find (alice is no member: not found) + probe (2) + find with scope all, then
    # roles + owners + the three member lists (a role deletion removes members, so roles need
    # them), and since she owns nothing, her permissions (an org admin keeps every right
    # whatever her roles, so self-protection needs no more)
    assert target.requests == 11
    assert context.org_admin
    assert not context.rights["P-1"].owner


def test_a_non_owner_reads_what_self_protection_needs(emulator, make_target, bridge) -> None:
    """Members managed, roles not: a caller who owns nothing still gets the roles read, so a
    plan re-roling itself out of the permissions it uses is blocked, not applied."""
    from reconciler.model import Project, State
    from reconciler.plan.build import GuardSettings, build_plan

    bridge["roles"].append(
        {"displayName": "Admin", "description": "Administers access",
         "permissions": ["administration_invite_member", "administration_remove_member",
                         "administration_manage_roles"]}
    )  # fmt: skip
    bridge["members"][0]["roles"] = ["Admin"]  # bob
    target = make_target(emulator(bridge), token="bob-token")
    managed = {"members": Manage.AUTHORITATIVE}
    state, context = target.read(["P-1"], sections={"P-1": ("members",)})
    live = state.projects[0]
    assert live.role("Admin") is not None  # read for self-protection, though not managed
    assert set(live.manage) == {"members"}
    desired = Project(
        "P-1",
        manage=managed,
        members=(
            UserMember("bob@contoso.com", frozenset({"Viewer"})),  # bob drops his own Admin
            UserMember("carol@contoso.com", frozenset({"Viewer", "Editor"})),
            UserMember("xena@fabrikam.com", frozenset({"Viewer"})),
        ),
        group_members=(GroupMember("Team", frozenset({"Editor"})),),
    )
    plan = build_plan(State((desired,)), state, context, GuardSettings())
    assert [v.guard for v in plan.blocked] == ["self-protection"]


def test_a_number_of_any_characters_is_found_with_the_query_httpx_would_write(
    emulator, make_target, itwin
) -> None:
    """Issue 17: the client writes the query itself (httpx then parses one URL, not two); it
    must be the one httpx writes from the same params, and the API must read it back."""
    odd = "BR 2024/001+é&x=1"
    http = emulator(itwin(odd), itwin("P-2"))
    sent: list[httpx.Request] = []
    http.event_hooks["request"] = [sent.append]
    found = make_target(http).find([odd])
    assert found[odd]["number"] == odd
    lookup = next(r for r in sent if r.url.path == "/itwins/")
    params = dict(lookup.url.params)
    assert params["number"] == odd
    assert lookup.url == httpx.URL(str(lookup.url).split("?")[0], params=params)
    assert b"BR+2024%2F001%2B%C3%A9%26x%3D1" in lookup.url.raw_path


@given(
    st.dictionaries(
        st.sampled_from(["$top", "$skip", "number", "$search", "projectNumber", "a b"]),
        # Lone surrogates cannot be sent at all (both raise UnicodeEncodeError).
        st.one_of(st.text(st.characters(exclude_categories=["Cs"])), st.integers(min_value=0)),
    )
)
def test_urlencode_writes_any_query_as_httpx_does(params: dict[str, Any]) -> None:
    # What ApiClient.request relies on for str and int values (its Params type).
    assert urlencode(params) == str(httpx.QueryParams(params))
