"""policies: each rule blocks when broken and passes when kept, on the state the plan leads to;
violations name the rule, project, person and manifest location; only liftable rules lift."""

from __future__ import annotations

import pytest

from reconciler.errors import PlanError
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    LiveContext,
    Manage,
    Owner,
    Project,
    Rights,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.build import GuardSettings, Plan, build_plan
from reconciler.policies import (
    ALLOWED_DOMAINS,
    FORBIDDEN_FOR_INVITATIONS,
    MAX_MEMBERS_PER_ROLE,
    MIN_OWNERS,
    Policies,
    PolicyRule,
)

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
# An owner of P1 (adding and removing owners needs ownership) and an organization admin.
CONTEXT = LiveContext("app@contoso.com", org_admin=True, rights={"P1": Rights(owner=True)})
ADMIN = Role("Admin", None, frozenset({"administration_invite_member", "imodels_read"}), id="r1")
VIEWER = Role("Viewer", None, frozenset({"imodels_read"}), id="r2")
HERE = Source("p.yaml", 7, 9)


def live() -> Project:
    return Project(
        "P1",
        manage=AUTH,
        id="i1",
        roles=(ADMIN, VIEWER),
        owners=(Owner("alice@contoso.com", id="o1"), Owner("olga@contoso.com", id="o2")),
        members=(UserMember("bob@contoso.com", frozenset({"Admin"}), id="m1"),),
    )


def plan_for(desired: Project, *rules: PolicyRule, allow: tuple[str, ...] = ()) -> Plan:
    policies = Policies(("contoso.com",), rules)
    return build_plan(
        State((desired,)), State((live(),)), CONTEXT, GuardSettings(), allow, policies=policies
    )


def with_member(member: UserMember) -> Project:
    return live().evolve(members=(*live().members, member))


INTERNAL_ADMINS = PolicyRule(
    "admins-internal", ALLOWED_DOMAINS, ("administration_*",), ("contoso.com",)
)


def test_allowed_domains_blocks_an_outsider_with_an_admin_permission_naming_everything() -> None:
    plan = plan_for(
        with_member(UserMember("guest@partner.com", frozenset({"Admin"}), source=HERE)),
        INTERNAL_ADMINS,
    )
    [violation] = plan.blocked
    assert violation.guard == "policy:admins-internal"
    assert violation.project == "P1"
    assert violation.message == (
        "project P1: guest@partner.com would hold administration_invite_member, allowed only "
        "for @contoso.com (p.yaml:7:9)"
    )
    assert not violation.liftable
    assert violation.how() == "this policy cannot be allowed"


def test_allowed_domains_passes_an_outsider_without_one_and_an_insider_with_one() -> None:
    desired = with_member(UserMember("guest@partner.com", frozenset({"Viewer"})))
    assert not plan_for(desired, INTERNAL_ADMINS).blocked
    assert not plan_for(live(), INTERNAL_ADMINS).blocked


def test_allowed_domains_follows_groups_and_ownership() -> None:
    team = Group("Team", None, frozenset({"guest@partner.com"}), source=HERE)
    through_group = live().evolve(
        groups=(team,), group_members=(GroupMember("Team", frozenset({"Admin"})),)
    )
    [violation] = plan_for(through_group, INTERNAL_ADMINS).blocked
    assert "guest@partner.com would hold administration_invite_member" in violation.message
    owner = live().evolve(owners=(*live().owners, Owner("guest@partner.com", source=HERE)))
    [violation] = plan_for(owner, INTERNAL_ADMINS).blocked
    assert "would hold every permission (owner)" in violation.message


def test_min_owners_blocks_below_the_count_and_passes_at_it() -> None:
    rule = PolicyRule("two-owners", MIN_OWNERS, domains=("contoso.com",), count=2)
    one_owner = live().evolve(owners=(Owner("alice@contoso.com"),), source=Source("p.yaml", 1, 3))
    [violation] = plan_for(one_owner, rule).blocked
    assert violation.message == (
        "project P1: 1 owner(s) from @contoso.com, at least 2 required (p.yaml:1:3)"
    )
    assert not plan_for(live(), rule).blocked
    # An outsider does not count towards the domain's owners.
    swapped = live().evolve(owners=(Owner("alice@contoso.com"), Owner("x@partner.com")))
    assert plan_for(swapped, rule).blocked


def test_forbidden_for_invitations_blocks_an_invited_admin_but_not_an_invited_viewer() -> None:
    rule = PolicyRule("no-admin-invites", FORBIDDEN_FOR_INVITATIONS, ("administration_*",))
    # Outside the organization's domains: the API invites them, so the add is an invitation.
    invited = with_member(UserMember("guest@partner.com", frozenset({"Admin"}), source=HERE))
    [violation] = plan_for(invited, rule).blocked
    assert violation.message == (
        "project P1: guest@partner.com is invited with administration_invite_member (p.yaml:7:9)"
    )
    viewer = with_member(UserMember("guest@partner.com", frozenset({"Viewer"})))
    assert not plan_for(viewer, rule).blocked
    # Someone of the organization is added, not invited.
    assert not plan_for(
        with_member(UserMember("new@contoso.com", frozenset({"Admin"}))), rule
    ).blocked


def test_max_members_per_role_counts_users_and_groups() -> None:
    rule = PolicyRule("few-admins", MAX_MEMBERS_PER_ROLE, roles=("Admin",), count=2)
    adminrole = Role("Admin", None, frozenset(ADMIN.permissions), source=HERE)
    crowded = live().evolve(
        roles=(adminrole, VIEWER),
        members=(*live().members, UserMember("carl@contoso.com", frozenset({"Admin"}))),
        groups=(Group("Team", None, frozenset()),),
        group_members=(GroupMember("Team", frozenset({"Admin"})),),
    )
    [violation] = plan_for(crowded, rule).blocked
    assert violation.message == (
        "project P1: role 'Admin' is held by 3 members (at most 2): bob@contoso.com, "
        "carl@contoso.com, group 'Team' (p.yaml:7:9)"
    )
    assert not plan_for(live(), rule).blocked


def test_a_violation_only_live_is_located_not_in_manifests() -> None:
    rule = PolicyRule("few-admins", MAX_MEMBERS_PER_ROLE, count=0)
    additive = live().evolve(manage={"members": Manage.ADDITIVE}, members=())
    [violation] = plan_for(additive, rule).blocked
    assert violation.message.endswith("(not in manifests)")


def test_only_a_liftable_rule_lifts_and_unknown_names_are_refused() -> None:
    desired = with_member(UserMember("guest@partner.com", frozenset({"Admin"})))
    liftable = PolicyRule(
        "admins-internal", ALLOWED_DOMAINS, ("administration_*",), ("contoso.com",), liftable=True
    )
    plan = plan_for(desired, liftable, allow=("policy:admins-internal",))
    assert not plan.blocked
    [lifted] = plan.guards
    assert lifted.allowed
    assert lifted.how() == "allow with --allow policy:admins-internal"
    with pytest.raises(PlanError, match="policy:admins-internal cannot be allowed"):
        plan_for(desired, INTERNAL_ADMINS, allow=("policy:admins-internal",))
    with pytest.raises(PlanError, match="unknown policy 'policy:nope'"):
        plan_for(desired, INTERNAL_ADMINS, allow=("policy:nope",))


def test_a_policy_violation_survives_the_saved_plan_round_trip() -> None:
    desired = with_member(UserMember("guest@partner.com", frozenset({"Admin"})))
    liftable = PolicyRule(
        "admins-internal", ALLOWED_DOMAINS, ("administration_*",), ("contoso.com",), liftable=True
    )
    for rule in (INTERNAL_ADMINS, liftable):
        plan = plan_for(desired, rule)
        again = Plan.from_dict(plan.to_dict())
        assert again.guards == plan.guards
        assert again.blocked[0].liftable is rule.liftable


def test_subdomains_are_inside_and_the_applying_identity_is_exempt() -> None:
    app = Owner("deployer@apps.contoso.com")
    assert not plan_for(live().evolve(owners=(*live().owners, app)), INTERNAL_ADMINS).blocked
    # The applying identity (here outside the domains) owns what it creates; never blocked.
    me = Owner("app@elsewhere.example")
    context = LiveContext(me.email, org_admin=True, rights={"P1": Rights(owner=True)})
    desired = live().evolve(owners=(*live().owners, me))
    policies = Policies(("contoso.com",), (INTERNAL_ADMINS,))
    plan = build_plan(
        State((desired,)), State((live(),)), context, GuardSettings(), policies=policies
    )
    assert not plan.blocked
