"""guards: each blocks with its numbers, each allowance lifts only its own guard (design.md §5)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

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
    ProjectState,
    Rights,
    Role,
    State,
    UserMember,
)
from reconciler.plan.build import Operation, OpKind, Plan, build_plan
from reconciler.plan.guards import LIFTABLE, GuardSettings, GuardViolation, evaluate

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
ME = "app@x.com"


class _OwnerEverywhere(Mapping[str, Rights]):
    """The identity owns every live project (owners alone may add or remove owners)."""

    def __getitem__(self, number: str) -> Rights:
        return Rights(owner=True)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


ADMIN = LiveContext(identity=ME, org_admin=True, rights=_OwnerEverywhere())


def members(n: int, *, pending: int = 0) -> tuple[UserMember, ...]:
    return tuple(
        UserMember(f"u{i:03d}@x.com", frozenset({"V"}), pending=i < pending, id=f"m{i}")
        for i in range(n)
    )


def plan(
    desired: list[Project],
    actual: list[Project],
    context: LiveContext = ADMIN,
    allow: tuple[str, ...] = (),
    **settings: Any,
) -> Plan:
    return build_plan(
        State(tuple(desired)), State(tuple(actual)), context, GuardSettings(**settings), allow
    )


def want(number: str = "P1", **kw: Any) -> Project:
    kw.setdefault("manage", AUTH)
    return Project(number, **kw)


def live(number: str = "P1", **kw: Any) -> Project:
    return Project(number, manage=AUTH, id=f"id-{number}", **kw)


def guards(p: Plan) -> list[str]:
    return [v.guard for v in p.blocked]


def test_member_removals_above_25_percent_in_a_project_of_8_are_blocked() -> None:
    current = live(members=members(8))
    blocked = plan([want(members=members(8)[3:])], [current])
    (v,) = blocked.blocked
    assert v.guard == "member-removals"
    assert v.project == "P1"
    assert v.numbers["removals"] == 3
    assert v.numbers["members"] == 8
    assert "3 of 8 members (37.5 % > 25 %)" in v.message
    assert "--allow member-removals" in str(v)
    assert guards(plan([want(members=members(8)[2:])], [current])) == []  # exactly 25 %


def test_small_projects_are_exempt_and_thresholds_are_configurable() -> None:
    assert guards(plan([want()], [live(members=members(7))])) == []
    tight = plan(
        [want(members=members(7)[1:])],
        [live(members=members(7))],
        **{
            "member_removal_min_members": 5,
            "member_removal_percent": 10,
        },
    )
    assert guards(tight) == ["member-removals"]


def test_pending_invitations_count_as_members_and_their_cancellation_as_removals() -> None:
    invitation = UserMember("u007@x.com", frozenset({"V"}), pending=True, id="i7")
    current = live(members=(*members(7), invitation))  # 7 members + 1 invitation
    p = plan([want(members=members(8)[:5])], [current])
    kinds = sorted(op.kind.value for op in p.operations)
    assert kinds == ["cancel_invitation", "remove_member", "remove_member"]
    assert guards(p) == ["member-removals"]
    assert p.blocked[0].numbers["members"] == 8


def test_whole_plan_member_removals_above_the_maximum_are_blocked() -> None:
    actual = [live(f"P{i:02d}", members=members(1)) for i in range(51)]
    desired = [want(f"P{i:02d}") for i in range(51)]
    (v,) = plan(desired, actual).blocked
    assert v.guard == "member-removals"
    assert v.project is None
    assert v.numbers == {"removals": 51, "limit": 50}
    assert guards(plan(desired[:50], actual[:50])) == []
    assert guards(plan(desired, actual, max_member_removals=60)) == []


def test_role_and_project_deletions_are_blocked() -> None:
    p = plan(
        [want("A", roles=(Role("Keep"),)), want("B", state=ProjectState.ABSENT)],
        [live("A", roles=(Role("Keep", id="r1"), Role("Old", id="r2"))), live("B")],
    )
    assert guards(p) == ["role-deletions", "project-deletions"]
    assert "would delete 1 role(s): Old" in p.blocked[0].message
    assert "project B would be deleted" in p.blocked[1].message


@pytest.mark.parametrize("lifted", LIFTABLE)
def test_each_allowance_lifts_only_its_own_guard(lifted: str) -> None:
    desired = [
        want("A", members=members(8)[4:]),
        want("B", state=ProjectState.ABSENT),
        want("C", roles=(Role("New"),)),
    ]
    actual = [
        live("A", members=members(8), roles=(Role("Old", id="r"),)),
        live("B"),
        live("C"),
    ]
    # Org admin everywhere but C, where the identity holds no rights: permission-denied.
    context = LiveContext(
        identity=ME,
        org_admin=False,
        rights={"A": Rights(owner=True), "B": Rights(owner=True), "C": Rights()},
    )
    before = plan(desired, actual, context)
    assert sorted(set(guards(before))) == sorted(LIFTABLE)
    after = plan(desired, actual, context, allow=(lifted,))
    assert sorted(set(guards(after))) == sorted(set(LIFTABLE) - {lifted})
    assert {v.guard for v in after.guards if v.allowed} == {lifted}
    assert after.operations == before.operations


def test_operations_the_identity_cannot_perform_block_until_allowed() -> None:
    context = LiveContext(identity=ME, rights={"P1": Rights(permissions=frozenset({"x"}))})
    p = plan([want(roles=(Role("New"),))], [live()], context)
    (v,) = p.blocked
    assert v.guard == "permission-denied"
    assert "administration_manage_roles" in v.message
    assert v.numbers == {"operations": 1}
    lifted = plan([want(roles=(Role("New"),))], [live()], context, allow=("permission-denied",))
    assert lifted.blocked == ()
    assert [g.guard for g in lifted.guards if g.allowed] == ["permission-denied"]


def test_last_owner_blocks_and_cannot_be_lifted() -> None:
    desired = [want(owners=())]
    actual = [live(owners=(Owner("zed@x.com", id="o1"), Owner("inv@x.com", pending=True, id="o2")))]
    p = plan(desired, actual, allow=LIFTABLE)
    (v,) = p.blocked
    assert v.guard == "last-owner"
    assert not v.liftable
    assert "cannot be allowed" in str(v)
    with pytest.raises(PlanError, match="cannot be allowed"):
        plan(desired, actual, allow=("last-owner",))
    # a replacement owner in the same plan does not count until accepted (issue 12 item 1)
    (waiting,) = plan([want(owners=(Owner("new@x.com"),))], actual).blocked
    assert waiting.guard == "last-owner"
    assert "until new@x.com has accepted" in waiting.message
    # once accepted (read live as an owner), the old one may go
    accepted = [live(owners=(Owner("zed@x.com", id="o1"), Owner("new@x.com", id="o3")))]
    assert guards(plan([want(owners=(Owner("new@x.com"),))], accepted)) == []


def test_the_identitys_own_ownership_is_kept_so_last_owner_never_trips_on_it() -> None:
    p = plan([want(owners=())], [live(owners=(Owner(ME, id="o1"), Owner("zed@x.com", id="o2")))])
    assert [op.key for op in p.operations] == ["zed@x.com"]
    assert guards(p) == []


def test_self_protection_stops_removing_own_membership_unless_owner_or_admin() -> None:
    actual = [live(members=(UserMember(ME, frozenset({"Admin"}), id="me"),))]
    member_only = LiveContext(
        ME, rights={"P1": Rights(permissions=frozenset({"administration_remove_member"}))}
    )
    p = plan([want()], actual, context=member_only, allow=LIFTABLE)
    assert guards(p) == ["self-protection"]
    assert "would remove its own membership" in p.blocked[0].message
    as_owner = LiveContext(ME, rights={"P1": Rights(owner=True)})
    assert guards(plan([want()], actual, context=as_owner)) == []
    assert guards(plan([want()], actual)) == []  # org admin


ADMIN_ROLE = Role(
    "Admin", "a", frozenset({"administration_invite_member", "imodels_read"}), id="ra"
)
RIGHTS = LiveContext(
    ME,
    rights={
        "P1": Rights(
            permissions=frozenset(
                {"administration_invite_member", "administration_manage_roles", "imodels_read"}
            )
        )
    },
)


def test_self_protection_stops_stripping_a_permission_the_plan_uses_from_own_role() -> None:
    me = UserMember(ME, frozenset({"Admin"}), id="me")
    newcomer = UserMember("new@x.com", frozenset({"Admin"}))
    actual = [live(roles=(ADMIN_ROLE,), members=(me,))]
    stripped = Role("Admin", "a", frozenset({"imodels_read"}))
    p = plan(
        [
            want(
                roles=(stripped,),
                members=(me, newcomer),
                manage={"roles": Manage.ADDITIVE, "members": Manage.ADDITIVE},
            )
        ],
        actual,
        context=RIGHTS,
    )
    assert guards(p) == ["self-protection"]
    assert "administration_invite_member" in p.blocked[0].message
    # the same role change is fine when the plan does not need that permission
    quiet = plan(
        [want(roles=(stripped,), members=(me,), manage={"roles": Manage.ADDITIVE})],
        actual,
        context=RIGHTS,
    )
    assert guards(quiet) == []


def test_self_protection_sees_roles_held_through_groups_and_role_deletion() -> None:
    group = Group("Admins", "d", frozenset({ME}), id="g1")
    gm = GroupMember("Admins", frozenset({"Admin"}), id="g1")
    actual = [live(roles=(ADMIN_ROLE,), groups=(group,), group_members=(gm,))]
    desired = [
        want(
            roles=(),
            groups=(group,),
            members=(UserMember("new@x.com", frozenset({"Other"})),),
            manage={"roles": Manage.AUTHORITATIVE, "members": Manage.ADDITIVE},
        )
    ]
    p = plan(desired, actual, context=RIGHTS, allow=("role-deletions",))
    # (the group's removal the role deletion causes needs a permission RIGHTS lacks, too)
    assert guards(p) == ["self-protection", "permission-denied"]
    # leaving the group has the same effect
    left = [
        want(
            groups=(Group("Admins", "d", frozenset(), id="g1"),),
            members=(UserMember("new@x.com", frozenset({"Admin"})),),
            manage={"groups": Manage.AUTHORITATIVE, "members": Manage.ADDITIVE},
        )
    ]
    rights = LiveContext(
        ME,
        rights={
            "P1": Rights(
                permissions=frozenset(
                    {
                        "administration_invite_member",
                        "administration_manage_groups",
                        "administration_remove_member",
                    }
                )
            )
        },
    )
    assert guards(plan(left, actual, context=rights)) == ["self-protection"]


def test_removing_own_ownership_is_blocked_even_in_a_hand_made_plan() -> None:
    op = Operation(OpKind.REMOVE_OWNER, "P1", ME, {"id": "o1", "email": ME, "pending": False}, None)
    actual = State((live(owners=(Owner(ME, id="o1"), Owner("b@x.com", id="o2"))),))
    found, _ = evaluate(
        [op], actual, LiveContext(ME, rights={"P1": Rights(owner=True)}), GuardSettings()
    )
    assert [v.guard for v in found] == ["self-protection"]


def test_unknown_identity_is_reported_instead_of_checked() -> None:
    p = plan(
        [want()],
        [live(members=(UserMember("z@x.com", frozenset({"V"}), id="m"),))],
        context=LiveContext(org_admin=True),
    )
    assert guards(p) == []
    assert [(x.code, x.severity) for x in p.problems] == [("unverified", "warning")]
    assert "identity is unknown" in p.problems[0].message


def test_violation_round_trip_and_wording() -> None:
    v = GuardViolation("role-deletions", "project P would delete 1 role(s): R", "P", {"roles": 1})
    assert GuardViolation.from_dict(v.to_dict()) == v
    assert (
        str(v)
        == "role-deletions: project P would delete 1 role(s): R; allow with --allow role-deletions"
    )
