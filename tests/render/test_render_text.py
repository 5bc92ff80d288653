"""render.text: Terraform-like lines, locations, guards, problems, closing summary, drift."""

from __future__ import annotations

from reconciler.model import (
    SECTIONS,
    Group,
    LiveContext,
    Manage,
    Owner,
    Project,
    ProjectState,
    Rights,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.build import GuardSettings, Plan, build_plan
from reconciler.render import render_markdown, render_text
from reconciler.render.markdown import _inline

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
ME = "app@x.com"


def sample(context: LiveContext | None = None, allow: tuple[str, ...] = ()) -> Plan:
    desired = Project(
        "BR-1",
        attributes={"displayName": "Bridge"},
        manage=AUTH,
        roles=(
            Role("Viewer", "Read-only", frozenset({"imodels_read"}), source=Source("a.yaml", 4, 7)),
            Role(
                "Lead",
                "new text",
                frozenset({"imodels_read", "imodels_write"}),
                source=Source("a.yaml", 9, 7),
            ),
        ),
        groups=(Group("Team", "T", frozenset({"d@x.com"}), source=Source("a.yaml", 12, 7)),),
        members=(UserMember("bob@x.com", frozenset({"Viewer"}), source=Source("a.yaml", 20, 9)),),
        owners=(Owner(ME),),
        source=Source("a.yaml", 1, 3),
    )
    live = Project(
        "BR-1",
        attributes={"displayName": "Old bridge"},
        manage=AUTH,
        id="itwin-1",
        roles=(
            Role("Lead", "old text", frozenset({"imodels_read", "imodels_delete"}), id="r1"),
            Role("Stale", "s", frozenset(), id="r2"),
        ),
        members=(
            UserMember("eve@x.com", frozenset({"Stale"}), id="m1"),
            UserMember(None, frozenset({"Stale"}), id="ghost"),
        ),
        owners=(Owner(ME, id="o1"),),
    )
    context = context or LiveContext(ME, org_admin=True)
    return build_plan(State((desired,)), State((live,)), context, GuardSettings(), allow)


def test_key_lines_with_symbols_locations_and_field_deltas() -> None:
    text = render_text(sample())
    lines = text.splitlines()
    assert "project BR-1 (id itwin-1)" in lines
    assert "  ~ update project BR-1 ('Bridge')  # a.yaml:1:3" in lines
    assert "      displayName: 'Old bridge' -> 'Bridge'" in lines
    assert "  + create role 'Viewer'  # a.yaml:4:7" in lines
    assert "      permissions: [imodels_read]" in lines
    assert "  ~ update role 'Lead'  # a.yaml:9:7" in lines
    assert "      description: 'old text' -> 'new text'" in lines
    # Sets change as deltas only, never as full before/after lists (issue 16).
    assert "      permissions: +imodels_write -imodels_delete" in lines
    assert "  + create group 'Team'  # a.yaml:12:7" in lines
    # One add request in the project: no request number to read past.
    assert "  + add member bob@x.com with roles [Viewer]  # a.yaml:20:9" in lines
    assert "  - remove member eve@x.com (roles [Stale])  # not in manifests" in lines
    assert (
        "  - remove member id:ghost (roles [Stale]) [user deleted from the directory]"
        "  # not in manifests"
    ) in lines
    assert "  - delete role 'Stale'  # not in manifests" in lines
    assert lines[-1] == "Plan: 3 to add, 2 to change, 3 to remove."
    assert "\033[" not in text


def test_blocked_guards_and_lifted_guards_are_listed() -> None:
    text = render_text(sample())
    assert "Blocked by guards (nothing will be applied):" in text
    assert (
        "  ! role-deletions: project BR-1 would delete 1 role(s): Stale; "
        "allow with --allow role-deletions"
    ) in text
    lifted = render_text(sample(allow=("role-deletions",)))
    assert "Blocked by guards" not in lifted
    assert lifted.startswith("This plan lifts guards")  # first, before the operations
    assert (
        "  ! role-deletions (--allow role-deletions): project BR-1 would delete 1 role(s): Stale"
    ) in lifted


def test_preflight_problems_are_listed_and_marked_beside_their_operations() -> None:
    context = LiveContext(
        ME,
        rights={
            "BR-1": Rights(permissions=frozenset({"administration_invite_member", "itwins_modify"}))
        },
        known_permissions=frozenset({"imodels_read"}),
    )
    text = render_text(sample(context))
    assert "      ! denied: needs permission administration_manage_roles" in text
    assert "Problems:" in text
    assert (
        "  error: a.yaml:9:7: project BR-1: role 'Lead' uses permission 'imodels_write', "
        "which the live permission list lacks"
    ) in text


def test_empty_plan_and_drift_framing() -> None:
    empty = Plan(fingerprints={"X": "0"})
    assert render_text(empty) == "No changes. Live state matches the manifests.\n"
    assert render_text(empty, drift=True) == "No drift. Live state matches the manifests.\n"
    drift = render_text(sample(), drift=True, title="Drift report")
    assert drift.startswith("Drift report\n\nLive state was changed outside the manifests.")
    assert drift.splitlines()[-1] == "Drift: 3 to add, 2 to change, 3 to remove."


def test_colour_only_when_asked() -> None:
    coloured = render_text(sample(), color=True)
    assert "\033[32m  + create role 'Viewer'\033[0m" in coloured
    assert "\033[31m  - delete role 'Stale'\033[0m" in coloured


def test_created_and_deleted_projects() -> None:
    plan = build_plan(
        State(
            (
                Project("NEW", {"displayName": "N", "status": "Active"}, manage={}),
                Project("OLD", state=ProjectState.ABSENT),
            )
        ),
        State((Project("OLD", {"displayName": "Old"}, id="i-old"),)),
        LiveContext(ME, org_admin=True),
        GuardSettings(),
        ("project-deletions",),
    )
    lines = render_text(plan).splitlines()
    assert "project NEW (new)" in lines
    assert "  + create project NEW ('N')" in lines
    assert "      status: 'Active'" in lines
    assert "  - delete project OLD ('Old')  # not in manifests" in lines


EXTRAS = frozenset(
    {"BR-1/remove_member/eve@x.com", "BR-1/remove_member/id:ghost", "BR-1/delete_role/Stale"}
)


def test_drift_with_the_split_groups_each_project_and_counts_both() -> None:
    text = render_text(sample(), drift=True, extras=EXTRAS)
    lines = text.splitlines()
    changed = lines.index("  changed outside the manifests:")
    extras = lines.index(
        "  unmanaged extras (live, in no manifest; applying the manifests removes them):"
    )
    assert changed < extras
    assert all(line.startswith("    ") for line in lines[changed + 1 : extras])
    assert any("update role 'Lead'" in line for line in lines[changed:extras])
    assert any("remove member eve@x.com" in line for line in lines[extras:])
    assert "Applying the manifests would be blocked by guards:" in lines
    assert "nothing will be applied" not in text  # drift applies nothing itself
    assert lines[-1] == (
        "Drift: 5 changed outside the manifests, 3 unmanaged extras "
        "(applying the manifests: 3 to add, 2 to change, 3 to remove)."
    )
    # Each operation once.
    assert sum("eve@x.com" in line for line in lines) == 1


def test_request_numbers_show_only_when_a_project_needs_several_add_requests() -> None:
    members = tuple(UserMember(f"u{i:02d}@x.com", frozenset({"Viewer"})) for i in range(51))
    desired = Project(
        "BIG", manage=AUTH, roles=(Role("Viewer", "v", frozenset({"imodels_read"})),),
        members=members,
    )  # fmt: skip
    context = LiveContext(ME, org_admin=True)
    plan = build_plan(State((desired,)), State(()), context, GuardSettings())
    lines = render_text(plan).splitlines()
    assert "  + add member u00@x.com with roles [Viewer] (request 1)" in lines
    assert "  + add member u50@x.com with roles [Viewer] (request 2)" in lines


def test_created_objects_do_not_repeat_their_name_or_list_empty_sets() -> None:
    desired = Project(
        "NEW",
        attributes={"displayName": "New one", "status": "Active"},
        manage=AUTH,
        roles=(Role("Empty", "nothing yet", frozenset()),),
        groups=(Group("Team", "T", frozenset()),),
        owners=(Owner(ME),),
    )
    context = LiveContext(ME, org_admin=True)
    lines = render_text(build_plan(State((desired,)), State(()), context, GuardSettings()))
    lines_ = lines.splitlines()
    create = lines_.index("  + create project NEW ('New one')")
    assert lines_[create + 1] == "      status: 'Active'"
    assert "displayName" not in lines
    assert "      permissions: []" in lines_  # a role with no permissions is worth seeing
    assert "members: []" not in lines
    assert "imsGroups" not in lines


def test_a_re_invitation_reads_plainly() -> None:
    want = Project(
        "INV",
        manage=AUTH,
        roles=(Role("Viewer", "v", frozenset({"imodels_read"})),),
        members=(UserMember("fay@x.com", frozenset({"Viewer"}), source=Source("a.yaml", 3, 9)),),
    )
    live = want.evolve(id="i", members=(UserMember("fay@x.com", frozenset(), pending=True),))
    plan = build_plan(
        State((want,)), State((live,)), LiveContext(ME, org_admin=True), GuardSettings()
    )
    lines = render_text(plan).splitlines()
    assert "  ~ re-invite member fay@x.com  # a.yaml:3:9" in lines
    assert "      pending invitation: cancelled and sent again with the new roles" in lines


def test_a_blocking_permission_denied_guard_is_not_repeated_under_problems() -> None:
    context = LiveContext(
        ME,
        rights={
            "BR-1": Rights(permissions=frozenset({"administration_invite_member", "itwins_modify"}))
        },
    )
    plan = sample(context)
    denied = [p for p in plan.problems if p.code == "permission-denied"]
    assert denied
    text = render_text(plan)
    markdown = render_markdown(plan)
    lifted = render_text(sample(context, allow=("permission-denied",)))
    for problem in denied:
        assert text.count(problem.message) == 1  # under the guard, not again under Problems
        assert f"  ! permission-denied: {problem.message}" in text
        assert markdown.count(_inline(problem.message)) == 1
        assert f"  {problem}" in lifted  # lifted: apply's warning points at Problems
