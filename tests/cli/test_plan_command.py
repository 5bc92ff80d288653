"""`plan` and `drift` against the emulator: exit codes, formats, subsets, manifests errors,
authoritative and additive sections, guards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_plan_exit_codes_follow_the_design(run, workdir: Path) -> None:
    detailed = run("plan", workdir, "--detailed-exitcode")
    assert detailed.code == 2
    assert "Plan: " in detailed.stdout
    assert "Plan: " not in detailed.stderr  # the plan goes to stdout only
    plain = run("plan", workdir)
    assert plain.code == 0
    assert plain.stdout == detailed.stdout


def test_json_and_markdown_formats(run, workdir: Path) -> None:
    as_json = run("plan", workdir, "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["format_version"] == 2
    assert set(data["fingerprints"]) == {"BR-2024-001", "BR-2024-002", "RL-2025-010"}
    assert data["summary"]["add"] == len(data["operations"])
    markdown = run("plan", workdir, "--format", "markdown")
    assert markdown.code == 0
    assert "|" in markdown.stdout
    assert "<details>" in markdown.stdout


def test_project_option_plans_a_subset(run, workdir: Path) -> None:
    subset = run("plan", workdir, "--project", "RL-2025-010", "--format", "json")
    data = json.loads(subset.stdout)
    assert {op["project"] for op in data["operations"]} == {"RL-2025-010"}
    unknown = run("plan", workdir, "--project", "NOPE-1")
    assert unknown.code == 1
    assert "NOPE-1" in unknown.stderr
    assert unknown.stdout == ""


def test_invalid_manifests_list_every_problem_one_per_line(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "projects:\n"
        "  - number: X-1\n"
        "    members:\n"
        "      - email: not-an-email\n"
        "        roles: [Nope]\n"
        "  - number: X-1\n"
    )
    (tmp_path / "itwin-access.yaml").write_text("api: http://testserver\n")
    result = run("plan", bad)
    assert result.code == 1
    assert result.stdout == ""
    problems = [line for line in result.stderr.splitlines() if line.startswith(str(bad))]
    assert len(problems) >= 2, result.stderr
    assert all(":" in line.split(str(bad))[1] for line in problems)  # file:line:col each
    assert "Traceback" not in result.stderr


def test_after_apply_the_plan_is_empty_and_drift_is_none(run, workdir: Path) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    plan = run("plan", workdir, "--detailed-exitcode")
    assert plan.code == 0, plan.stdout
    assert "No changes" in plan.stdout
    drift = run("drift", workdir)
    assert drift.code == 0
    assert "No drift" in drift.stdout


def test_drift_reports_a_change_made_by_hand(run, hand, workdir: Path) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    hand.add_member("BR-2024-002", "eli@contoso.com", "Viewer")
    drift = run("drift", workdir)
    assert drift.code == 2
    assert "eli@contoso.com" in drift.stdout
    assert "outside the manifests" in drift.stdout


def test_authoritative_members_remove_what_additive_members_keep(run, hand, workdir) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    hand.add_member("BR-2024-002", "eli@contoso.com", "Viewer")  # members: authoritative
    hand.add_member("RL-2025-010", "eli@contoso.com", "Viewer")  # members: additive
    data = json.loads(run("plan", workdir, "--format", "json").stdout)
    ops = {(op["project"], op["kind"], op["key"]) for op in data["operations"]}
    assert ops == {("BR-2024-002", "remove_member", "eli@contoso.com")}


def test_a_guard_blocks_with_exit_3_and_the_plan_still_prints(run, workdir: Path) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    # Drop the Structural Lead role (and its uses) from the manifest: a role deletion.
    bridges = workdir / "bridges.yaml"
    text = bridges.read_text()
    text = text.replace("[Contributor, Structural Lead]", "[Contributor]")
    text = text.replace(
        "      - displayName: Structural Lead\n"
        "        description: Leads structural design\n"
        "        permissions: [itwins_read, imodels_read, imodels_write, "
        "administration_invite_member]\n",
        "",
    )
    bridges.write_text(text)
    blocked = run("plan", workdir)
    assert blocked.code == 3
    assert "Structural Lead" in blocked.stdout
    assert "role-deletions" in blocked.stderr
    assert "--allow role-deletions" in blocked.stderr
    allowed = run("plan", workdir, "--allow", "role-deletions", "--detailed-exitcode")
    assert allowed.code == 2
    unknown = run("plan", workdir, "--allow", "everything")
    assert unknown.code == 1
    assert "unknown guard" in unknown.stderr


def test_a_markdown_plan_too_long_for_a_comment_points_at_the_saved_plan(
    run, tmp_path: Path
) -> None:
    manifest = tmp_path / "many.yaml"
    roles = "".join(
        f"      - {{displayName: Role {r}, description: Role number {r}, "
        "permissions: [itwins_read, imodels_read]}\n"
        for r in range(6)
    )
    manifest.write_text(
        "projects:\n"
        + "".join(
            f"  - number: BIG-{i:04d}\n    displayName: Big {i}\n    roles:\n{roles}"
            for i in range(300)
        )
    )
    (tmp_path / "itwin-access.yaml").write_text("api: http://testserver\n")
    saved = tmp_path / "plan-full.json"
    result = run("plan", manifest, "--format", "markdown", "--out", saved)
    assert result.code == 0, result.stderr
    assert len(result.stdout) <= 60_000
    assert "plan-full.json" in result.stdout
    assert len(json.loads(saved.read_text())["operations"]) == 300 * 7


def test_a_rejected_token_says_which_setting_to_check(
    run, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", "expired-or-wrong")
    result = run("plan", workdir)
    assert result.code == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert " -> 401 " in line
    assert "check the credentials in the environment: ITWIN_ACCESS_TOKEN" in line
    assert "expired-or-wrong" not in line
