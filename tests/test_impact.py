"""impact: who gains or loses which permissions, through roles, groups, ownership, invitations."""

from __future__ import annotations

from reconciler.impact import (
    EXTERNAL_ADMIN,
    GAINED,
    GROUP,
    LOST,
    NEW_OWNER,
    REMOVED_OWNER,
    USER,
    Change,
    Impact,
    compute_impact,
)
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    LiveContext,
    Manage,
    Owner,
    Project,
    ProjectState,
    Role,
    State,
    UserMember,
)
from reconciler.plan.build import GuardSettings, build_plan

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
CONTEXT = LiveContext("app@contoso.com", org_admin=True)
VIEWER = Role("Viewer", None, frozenset({"imodels_read"}), id="r1")
ADMIN = Role("Admin", None, frozenset({"administration_remove_member", "imodels_read"}), id="r2")


def live(number: str = "P1") -> Project:
    return Project(
        number,
        manage=AUTH,
        id=f"id-{number}",
        roles=(VIEWER, ADMIN),
        groups=(Group("Team", None, frozenset({"dana@contoso.com", "eli@contoso.com"}), id="g"),),
        group_members=(GroupMember("Team", frozenset({"Viewer"}), id="g"),),
        members=(
            UserMember("bob@contoso.com", frozenset({"Viewer"}), id="m1"),
            UserMember("eli@contoso.com", frozenset({"Viewer"}), id="m2"),
        ),
        owners=(Owner("alice@contoso.com", id="o1"),),
    )


def impact_of(desired: list[Project], actual: list[Project]) -> Impact:
    plan = build_plan(State(tuple(desired)), State(tuple(actual)), CONTEXT, GuardSettings())
    return compute_impact(plan.operations, State(tuple(actual)), domains=("contoso.com",))


def by_name(impact: Impact) -> dict[tuple[str, str], Change]:
    return {(c.kind, c.name): c for c in impact.changes}


def test_a_role_shared_by_a_group_and_a_user_changes_everyone_holding_it() -> None:
    wider = Role("Viewer", None, frozenset({"imodels_read", "storage_read"}))
    desired = live().evolve(roles=(wider, ADMIN))
    impact = impact_of([desired], [live()])
    changed = {(c.kind, c.name): c for c in impact.changes}
    assert set(changed) == {
        (USER, "bob@contoso.com"),
        (USER, "dana@contoso.com"),
        (USER, "eli@contoso.com"),
        (GROUP, "Team"),
    }
    for change in changed.values():
        assert change.gained == {"storage_read"}
        assert not change.lost
    assert changed[(GROUP, "Team")].members == ("dana@contoso.com", "eli@contoso.com")
    # eli holds Viewer twice (directly and through Team): both paths are named.
    assert changed[(USER, "eli@contoso.com")].via["storage_read"] == (
        "role 'Viewer'",
        "role 'Viewer' via group 'Team'",
    )
    # The owner holds every permission already: a role change does not touch her.
    assert (USER, "alice@contoso.com") not in changed
    assert impact.headline() == "Access changes: 3 people gain, 0 lose (1 group change)"


def test_leaving_a_group_loses_only_what_no_other_path_grants() -> None:
    team = Group("Team", None, frozenset({"dana@contoso.com"}))
    admin_member = UserMember("eli@contoso.com", frozenset({"Admin"}))
    desired = live().evolve(groups=(team,), members=(live().members[0], admin_member))
    changes = by_name(impact_of([desired], [live()]))
    eli = changes[(USER, "eli@contoso.com")]
    # Viewer (imodels_read) goes, but Admin also grants imodels_read: only the admin gain shows.
    assert eli.gained == {"administration_remove_member"}
    assert not eli.lost
    assert (USER, "dana@contoso.com") not in changes


def test_ownership_is_said_once_and_flagged_both_ways() -> None:
    desired = live().evolve(owners=(Owner("carol@contoso.com"),))
    impact = impact_of([desired], [live()])
    changes = by_name(impact)
    assert changes[(USER, "carol@contoso.com")].owner == GAINED
    alice = changes[(USER, "alice@contoso.com")]
    assert alice.owner == LOST
    assert not alice.lost
    flags = [(f.flag, f.name) for f in impact.flags()]
    assert flags == [
        (REMOVED_OWNER, "alice@contoso.com"),
        (NEW_OWNER, "carol@contoso.com"),
    ]
    assert impact.headline() == "Access changes: 1 person gain, 1 loses"


def test_an_external_invitation_is_pending_and_an_external_admin_is_flagged() -> None:
    guest = UserMember("guest@partner.com", frozenset({"Admin"}))
    desired = live().evolve(members=(*live().members, guest))
    impact = impact_of([desired], [live()])
    guest_change = by_name(impact)[(USER, "guest@partner.com")]
    assert guest_change.external
    assert guest_change.pending == {
        "administration_remove_member",
        "imodels_read",
    }
    [flag] = impact.flags()
    assert (flag.flag, flag.name, flag.permissions) == (
        EXTERNAL_ADMIN,
        "guest@partner.com",
        ("administration_remove_member",),
    )
    assert flag.text() == (
        "guest@partner.com (outside the organization) gains administration_remove_member"
    )


def test_cancelling_a_live_invitation_loses_its_permissions_and_no_domains_means_no_flags() -> None:
    invited = UserMember("guest@partner.com", frozenset({"Admin"}), pending=True, id="inv")
    actual = live().evolve(members=(*live().members, invited))
    plan = build_plan(State((live(),)), State((actual,)), CONTEXT, GuardSettings())
    impact = compute_impact(plan.operations, State((actual,)))
    [change] = impact.changes
    assert change.lost == {"administration_remove_member", "imodels_read"}
    assert not change.external
    assert impact.flags() == ()


def test_identical_changes_across_projects_aggregate_and_new_projects_are_listed() -> None:
    wider = Role("Viewer", None, frozenset({"imodels_read", "storage_read"}))
    numbers = [f"P{i}" for i in range(1, 10)]
    desired = [live(n).evolve(roles=(wider, ADMIN)) for n in numbers]
    desired.append(Project("NEW", manage=AUTH, owners=(Owner("alice@contoso.com"),)))
    impact = impact_of(desired, [live(n) for n in numbers])
    people = {a.change.name: a for a in impact.people()}
    assert people["bob@contoso.com"].projects == tuple(numbers)
    assert people["alice@contoso.com"].projects == ("NEW",)
    assert people["alice@contoso.com"].change.owner == GAINED
    assert impact.created == ("NEW",)
    document = impact.to_dict()
    assert document["format_version"] == 1
    assert document["summary"] == {"gain": 4, "lose": 0, "groups": 1}
    assert document["createdProjects"] == ["NEW"]
    bob = next(p for p in document["people"] if p["name"] == "bob@contoso.com")
    assert bob == {
        "name": "bob@contoso.com",
        "projects": numbers,
        "gained": ["storage_read"],
        "lost": [],
        "pending": [],
        "owner": None,
        "external": False,
        "ownerPending": False,
    }


def test_deleting_a_project_loses_everyone_their_access() -> None:
    gone = Project("P1", state=ProjectState.ABSENT)
    plan = build_plan(
        State((gone,)), State((live(),)), CONTEXT, GuardSettings(), ["project-deletions"]
    )
    impact = compute_impact(plan.operations, State((live(),)), ("contoso.com",))
    assert impact.deleted == ("P1",)
    assert impact.counts() == {"gain": 0, "lose": 4, "groups": 1}


def test_deleting_a_group_takes_its_roles_from_its_members() -> None:
    desired = live().evolve(groups=(), group_members=())
    changes = by_name(impact_of([desired], [live()]))
    # dana held Viewer only through Team; eli holds it directly too.
    assert changes[(USER, "dana@contoso.com")].lost == {"imodels_read"}
    assert (USER, "eli@contoso.com") not in changes
    assert changes[(GROUP, "Team")].lost == {"imodels_read"}


def test_a_re_invitation_with_more_roles_gains_them_pending() -> None:
    invited = UserMember("guest@partner.com", frozenset({"Viewer"}), pending=True, id="inv")
    actual = live().evolve(members=(*live().members, invited))
    wider = UserMember("guest@partner.com", frozenset({"Viewer", "Admin"}))
    desired = live().evolve(members=(*live().members, wider))
    plan = build_plan(State((desired,)), State((actual,)), CONTEXT, GuardSettings())
    assert [op.kind.value for op in plan.operations] == ["reinvite_member"]
    [change] = compute_impact(plan.operations, State((actual,)), ("contoso.com",)).changes
    assert change.gained == {"administration_remove_member"}
    assert change.pending == {"administration_remove_member"}
