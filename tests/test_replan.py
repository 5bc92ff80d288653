"""replan.recheck: a saved plan recomputed on live state read now, as a pure function (the
CLI only prints what it returns; tests/cli/test_saved_plans.py drives it end to end)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.errors import PlanError
from reconciler.model import (
    SECTIONS,
    LiveContext,
    Manage,
    Project,
    ProjectState,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.build import Plan, build_plan
from reconciler.plan.guards import GuardSettings
from reconciler.plan.operations import OpKind
from reconciler.plan.payloads import EXPIRED
from reconciler.plan.replan import deleting, recheck

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
OWNER_CTX = LiveContext(identity="app@x.com", org_admin=True)


def want(**kw: Any) -> Project:
    return Project("P1", source=Source("m.yaml", 1, 1), manage=AUTH, **kw)


def live(**kw: Any) -> Project:
    return Project("P1", manage=AUTH, id="id-P1", **kw)


def plan_of(desired: Project, actual: Project) -> Plan:
    return build_plan(State((desired,)), State((actual,)), OWNER_CTX, GuardSettings())


DESIRED = want(roles=(Role("Reader", "reads"),))


def test_unchanged_live_state_keeps_the_saved_operations() -> None:
    saved = plan_of(DESIRED, live())
    check = recheck(saved, State((live(),)), OWNER_CTX, GuardSettings())
    assert (check.stale, dict(check.moved), check.changes) == (False, {}, ())
    assert check.plan.operations == saved.operations
    assert [op.kind for op in saved.operations] == [OpKind.CREATE_ROLE]


def test_live_state_that_makes_other_operations_is_stale_and_says_what_moved() -> None:
    saved = plan_of(DESIRED, live())
    now = State((live(roles=(Role("Reader", "reads"),)),))  # someone created it meanwhile
    check = recheck(saved, now, OWNER_CTX, GuardSettings())
    assert check.stale
    assert check.changes == ("no longer planned: P1/create_role/Reader",)
    assert check.projects == ("P1",)
    assert list(check.moved) == ["P1"]
    assert check.moved["P1"]  # the fact lines that moved


def test_a_re_invitation_mark_is_not_a_difference_between_plan_and_apply() -> None:
    # The planning job had the invitation ledger and marked the add as a re-invitation; the
    # applying job has none: the same request either way, so the plan is not stale.
    desired = want(members=(UserMember("bob@x.com", ("Reader",)),), roles=DESIRED.roles)
    actual = live(roles=DESIRED.roles)
    plan = plan_of(desired, actual)
    [add] = plan.operations
    marked = dataclasses.replace(add, after={**(add.after or {}), EXPIRED: "2026-11-20"})
    saved = dataclasses.replace(plan, operations=(marked,))
    check = recheck(saved, State((actual,)), OWNER_CTX, GuardSettings())
    assert (check.stale, check.changes) == (False, ())
    other = dataclasses.replace(add, after={**(add.after or {}), "roles": ["Other"]})
    changed = recheck(dataclasses.replace(plan, operations=(other,)), State((actual,)),
                      OWNER_CTX, GuardSettings())  # fmt: skip
    assert changed.changes == ("planned differently now: P1/add_member/bob@x.com",)


def test_a_plan_made_as_another_identity_is_refused() -> None:
    saved = plan_of(DESIRED, live())
    other = LiveContext(identity="someone@else.com", org_admin=True)
    with pytest.raises(PlanError, match="the plan was made as"):
        recheck(saved, State((live(),)), other, GuardSettings())


def test_deleting_names_the_projects_the_saved_plan_deletes() -> None:
    saved = plan_of(want(state=ProjectState.ABSENT), live())
    assert deleting(saved) == ["P1"]
