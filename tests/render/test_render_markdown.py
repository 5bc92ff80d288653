"""render.markdown: summary table first, one <details> per project, at most 60,000 characters."""

from __future__ import annotations

from test_render_text import EXTRAS
from test_render_text import sample as drift_sample

from reconciler.model import SECTIONS, LiveContext, Manage, Project, Role, State, UserMember
from reconciler.plan.build import GuardSettings, Plan, build_plan
from reconciler.render import render_markdown

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
CONTEXT = LiveContext("app@x.com", org_admin=True)


def big_plan(projects: int, members: int, shared: bool = False) -> Plan:
    """Each project adds its own members (``shared``: the same members everywhere)."""
    desired = tuple(
        Project(
            f"P{p:04d}",
            manage=AUTH,
            members=tuple(
                UserMember(
                    f"user{m:03d}@example.com" if shared else f"user{m:03d}.{p}@example.com",
                    frozenset({"Viewer"}),
                )
                for m in range(members)
            ),
        )
        for p in range(projects)
    )
    actual = tuple(Project(f"P{p:04d}", manage=AUTH, id=f"i{p}") for p in range(projects))
    return build_plan(State(desired), State(actual), CONTEXT, GuardSettings())


def test_summary_table_comes_first_then_one_collapsible_section_per_project() -> None:
    plan = big_plan(3, 2)
    text = render_markdown(plan)
    assert text.startswith("### itwin-access plan\n\n**Plan: 6 to add, 0 to change, 0 to remove**")
    table = text.index("| Project | Add | Change | Remove |")
    assert table < text.index("<details>")
    assert "| `P0000` | 2 | 0 | 0 |  |" in text
    assert text.count("<details><summary>") == 3
    assert text.count("</details>") == 3
    assert "<code>P0001: +2 ~0 -0</code>" in text
    assert "+ add member user001.1@example.com with roles [Viewer]" in text
    assert "Truncated" not in text


def test_large_plans_are_cut_under_60000_characters_with_a_pointer_to_the_full_plan() -> None:
    plan = big_plan(200, 20)
    text = render_markdown(plan)
    assert len(text) <= 60_000
    assert "**Truncated**" in text
    assert "itwin-access plan --format json" in text
    assert "--out FILE" in text
    assert text.count("<details>") == text.count("</details>")
    assert "| ... and 100 more project(s) | | | | |" in text
    shown = text.count("<details>")
    assert 0 < shown < 200
    assert f"{shown - 1} of 200 project(s) shown in full" in text or (
        f"{shown} of 200 project(s) shown in full" in text
    )
    custom = render_markdown(plan, max_chars=10_000, full_plan_hint="See artifact plan.json.")
    assert len(custom) <= 10_000
    assert "See artifact plan.json." in custom


def test_one_huge_project_is_cut_inside_its_section_and_stays_well_formed() -> None:
    text = render_markdown(big_plan(1, 3000))
    assert len(text) <= 60_000
    assert "... (cut)" in text
    assert text.count("```") == 2
    assert text.rstrip().endswith("(`itwin-access plan --out FILE`).")


def test_blocked_guards_problems_empty_plan_and_escaping() -> None:
    desired = Project("A|B", manage=AUTH, roles=(Role("<b>R</b>", None, frozenset({"nope"})),))
    actual = Project("A|B", manage=AUTH, id="i", roles=(Role("Old", id="r"),))
    context = LiveContext("app@x.com", org_admin=True, known_permissions=frozenset())
    plan = build_plan(State((desired,)), State((actual,)), context, GuardSettings())
    text = render_markdown(plan)
    assert "> [!CAUTION]" in text
    assert (
        "> - `role-deletions`: project A\\|B would delete 1 role(s): Old; "
        "allow with --allow role-deletions"
    ) in text
    assert "**Problems**" in text
    assert "&lt;b&gt;R&lt;/b&gt;" in text
    assert "| `A\\|B` | 1 | 0 | 1 | blocked |" in text
    empty = render_markdown(Plan(), drift=True)
    assert "**No drift. Live state matches the manifests.**" in empty
    assert "<details>" not in empty
    lifted = build_plan(
        State((desired,)), State((actual,)), context, GuardSettings(), ["role-deletions"]
    )
    shown = render_markdown(lifted, title="Drift in prod")
    # Prominent: before the summary table, so a reviewer approves them knowingly.
    assert "> **This plan lifts guards**" in shown
    assert "> - `role-deletions` (`--allow role-deletions`): " in shown
    assert shown.index("This plan lifts guards") < shown.index("| Project |")


def test_drift_with_the_split_in_headline_table_and_sections() -> None:
    text = render_markdown(drift_sample(), drift=True, extras=EXTRAS)
    assert text.index(
        "**Drift: 5 changed outside the manifests, 3 unmanaged extras**"
    ) < text.index("| Project | Changed | Unmanaged extras | |")
    assert "| `BR-1` | 5 | 3 | blocked |" in text
    assert "**Applying the manifests would be blocked by guards**:" in text
    assert "<summary><code>BR-1: 5 changed, 3 extras</code></summary>" in text
    body = text[text.index("```diff") :]
    assert body.index("@@ changed outside the manifests @@") < body.index("~ update role 'Lead'")
    assert body.index("~ update role 'Lead'") < body.index("@@ unmanaged extras")
    assert body.index("@@ unmanaged extras") < body.index("- remove member eve@x.com")
