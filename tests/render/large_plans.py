"""A 1,000-project plan of the kind a platform team reviews: one shared role changed everywhere,
a member added to each project, an external administrator invited to every tenth, owners
swapped in every fiftieth, twenty new projects and five deleted. Shared by the Markdown tests
and ``benchmarks/render.py``."""

from __future__ import annotations

from reconciler.impact import Impact, compute_impact
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
from reconciler.plan.build import GuardSettings, Plan, build_plan

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
DOMAINS = ("contoso.com",)
VIEWER = frozenset({"itwins_read", "imodels_read", "storage_read"})
ENGINEER = frozenset(
    {"itwins_read", "imodels_read", "imodels_write", "issues_read", "issues_write"}
)
ENGINEER_AFTER = (ENGINEER - {"issues_write"}) | {"forms_read"}
ADMIN = frozenset({"itwins_read", "administration_invite_member", "administration_remove_member"})


def _roles(engineer: frozenset[str]) -> tuple[Role, ...]:
    return (
        Role("Viewer", "Reads", VIEWER),
        Role("Engineer", "Designs", engineer),
        Role("Project Admin", "Manages members", ADMIN),
    )


def _project(p: int, engineer: frozenset[str], live: bool) -> Project:
    team = tuple(f"eng{(p * 3 + i) % 400:03d}@contoso.com" for i in range(3))
    return Project(
        f"PRJ-{p:04d}",
        {"displayName": f"Project {p}"},
        manage=AUTH,
        id=f"itwin-{p}" if live else None,
        roles=_roles(engineer),
        groups=(Group(f"Team {p % 40}", "Discipline team", frozenset(team)),),
        group_members=(GroupMember(f"Team {p % 40}", frozenset({"Engineer"})),),
        members=tuple(
            UserMember(f"user{(p + i) % 700:03d}@contoso.com", frozenset({"Viewer"}))
            for i in range(5)
        ),
        owners=(Owner("alice@contoso.com"),),
    )


def thousand_projects() -> tuple[State, State, LiveContext]:
    """Desired state, live state and the applying identity's context."""
    actual: list[Project] = []
    desired: list[Project] = []
    for p in range(1000):
        live = _project(p, ENGINEER, live=True)
        actual.append(live)
        if p >= 995:
            desired.append(Project(live.number, state=ProjectState.ABSENT))
            continue
        wanted = _project(p, ENGINEER_AFTER, live=False)
        members = [*wanted.members, UserMember(f"new{p:04d}@contoso.com", frozenset({"Engineer"}))]
        if p % 10 == 0:
            members.append(
                UserMember(f"guest{p:04d}@partner.example", frozenset({"Project Admin"}))
            )
        owners = wanted.owners
        if p % 50 == 0:
            owners = (Owner(f"lead{p:04d}@contoso.com"),)
        desired.append(wanted.evolve(members=tuple(members), owners=owners))
    for p in range(1000, 1020):
        desired.append(_project(p, ENGINEER_AFTER, live=False))
    context = LiveContext(
        "app@contoso.com",
        org_admin=True,
        rights={p.number: Rights(owner=True) for p in actual},
    )
    return State(tuple(desired)), State(tuple(actual)), context


def thousand_project_plan() -> tuple[Plan, Impact]:
    desired, live, context = thousand_projects()
    plan = build_plan(
        desired, live, context, GuardSettings(max_member_removals=10_000), ("project-deletions",)
    )
    return plan, compute_impact(plan.operations, live, DOMAINS)
