"""Shared changes and the access impact in the text and Markdown renderers (issue 16): a role
change identical in several projects is said once with its projects; the impact comes first;
names are escaped in Markdown."""

from __future__ import annotations

import pytest

from reconciler.impact import USER, Change, Impact, compute_impact
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    LiveContext,
    Manage,
    Owner,
    Project,
    Role,
    Source,
    State,
    UserMember,
)
from reconciler.plan.build import GuardSettings, Operation, Plan, build_plan
from reconciler.render import describe as describe_module
from reconciler.render import render_json, render_markdown, render_text
from reconciler.render.describe import Described
from reconciler.render.impact_text import impact_text_lines

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
CONTEXT = LiveContext("app@contoso.com", org_admin=True)
SHARED = Source("role-sets.yaml", 4, 7)


def project(number: str, permissions: frozenset[str], live: bool, extra: str = "") -> Project:
    role = Role("Checker", "Checks", permissions, id="r" if live else None, source=SHARED)
    members = [UserMember("bob@contoso.com", frozenset({"Checker"}), id="m" if live else None)]
    if extra:
        members.append(UserMember(extra, frozenset({"Checker"})))
    return Project(
        number,
        manage=AUTH,
        id=f"id-{number}" if live else None,
        roles=(role,),
        members=tuple(members),
        owners=(Owner("alice@contoso.com", id="o" if live else None),),
        groups=(Group("A|<b>", None, frozenset({"dana@contoso.com"}), id="g" if live else None),),
        group_members=(GroupMember("A|<b>", frozenset({"Checker"}), id="g" if live else None),),
    )


OLD = frozenset({"issues_read", "issues_write"})
NEW = frozenset({"issues_read", "storage_read"})
NUMBERS = [f"P{i}" for i in range(1, 10)]


def plan_and_impact() -> tuple[Plan, Impact]:
    desired = [project(n, NEW, False) for n in NUMBERS[:-1]]
    desired.append(project(NUMBERS[-1], NEW, False, extra="erin@contoso.com"))
    actual = State(tuple(project(n, OLD, True) for n in NUMBERS))
    plan = build_plan(State(tuple(desired)), actual, CONTEXT, GuardSettings())
    return plan, compute_impact(plan.operations, actual, ("contoso.com",))


def test_text_says_a_change_shared_by_nine_projects_once_and_the_impact_first() -> None:
    plan, impact = plan_and_impact()
    text = render_text(plan, impact=impact)
    lines = text.splitlines()
    assert lines[0] == "Access changes: 3 people gain, 2 lose (1 group change):"
    assert text.index("Access changes") < text.index("itwin-access will perform")
    assert text.count("update role 'Checker'") == 1
    assert "  ~ update role 'Checker' in 9 projects  # role-sets.yaml:4:7" in lines
    assert "      permissions: +storage_read -issues_write" in lines
    assert "      projects: P1, P2, P3, P4, P5, P6, P7, P8, P9" in lines
    # Only P9 has a change of its own; the others have no block.
    assert "project P9 (id id-P9) (1 shown once above)" in lines
    assert not any(line.startswith("project P1 ") for line in lines)
    assert "  + add member erin@contoso.com with roles [Checker]  # " not in text  # no source
    assert "  + add member erin@contoso.com with roles [Checker]" in lines
    assert "Plan: 1 to add, 9 to change, 0 to remove." in lines


def test_markdown_escapes_names_in_the_impact_table_and_the_json_has_the_impact() -> None:
    plan, impact = plan_and_impact()
    text = render_markdown(plan, impact=impact)
    assert "| group 'A\\|&lt;b&gt;' (1 member) |" in text
    assert "<b>" not in text
    assert text.count("~ update role 'Checker' in 9 projects") == 1
    document = render_json(plan, impact=impact)
    assert '"impact": {' in document
    assert render_json(plan).count('"impact"') == 0  # the saved plan document stays as it was


def test_the_text_impact_stops_after_a_hundred_rows() -> None:
    changes = tuple(
        Change(USER, f"u{i:03d}@contoso.com", "P1", gained=frozenset({f"perm_{i}"}))
        for i in range(150)
    )
    lines = impact_text_lines(Impact(changes))
    assert lines[0] == "Access changes: 150 people gain, 0 lose:"
    assert lines[1] == "  u000@contoso.com: +perm_0 in P1"
    assert lines[100] == "  u099@contoso.com: +perm_99 in P1"
    assert lines[101] == "  ... and 50 more (`--format json` lists each)"


def test_each_operation_is_described_once_per_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared-changes pass and the projects' blocks share the words (``Words``, issue 17):
    the text and the Markdown describe each operation once, and say the same as before."""
    plan, impact = plan_and_impact()
    before = (render_text(plan, impact=impact), render_markdown(plan, impact=impact))
    described: list[str] = []
    real = describe_module.describe

    def counting(op: Operation, identity: str | None = None) -> Described:
        described.append(op.id)
        return real(op, identity)

    monkeypatch.setattr(describe_module, "describe", counting)
    for render in (render_text, render_markdown):
        described.clear()
        assert render(plan, impact=impact) in before
        assert sorted(described) == sorted(op.id for op in plan.operations)
