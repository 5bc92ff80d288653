"""``itwin-access export``: in-process CLI against the emulator (tests/cli/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from starlette.testclient import TestClient

from reconciler.emulator import create_app
from reconciler.emulator.seed import demo_seed

Invoke = Callable[..., Any]  # tests/cli/conftest.py: run(...) -> Run(code, stdout, stderr)


def test_export_all_after_apply_then_plan_is_empty(
    run: Invoke, workdir: Path, tmp_path: Path
) -> None:
    config = workdir / "itwin-access.yaml"
    assert run("apply", workdir, "--auto-approve").code == 0
    out = tmp_path / "exported"
    result = run("export", "--out", out, "--all", "--config", config)
    assert result.code == 0, result.stderr
    assert "Exported 3 project(s) from the itwins backend" in result.stderr
    assert sorted(p.name for p in (out / "projects").iterdir()) == [
        "BR-2024-001.yaml",
        "BR-2024-002.yaml",
        "RL-2025-010.yaml",
    ]
    plan = run("plan", out, "--config", config, "--detailed-exitcode")
    assert plan.code == 0, plan.stdout + plan.stderr
    # Live, each reads back with its Account iTwin as parentId (C10): not a declared parent.
    assert "parent" not in (out / "projects" / "BR-2024-001.yaml").read_text()


def test_export_one_project(run: Invoke, workdir: Path, tmp_path: Path) -> None:
    config = workdir / "itwin-access.yaml"
    assert run("apply", workdir, "--auto-approve").code == 0
    out = tmp_path / "one"
    result = run("export", "--out", out, "--project", "BR-2024-002", "--config", config)
    assert result.code == 0, result.stderr
    doc = yaml.safe_load((out / "projects" / "BR-2024-002.yaml").read_text())
    assert doc["projects"][0]["number"] == "BR-2024-002"
    assert not (out / "role-sets.yaml").exists()  # one project shares nothing


def test_unknown_project_is_one_error_line(run: Invoke, workdir: Path, tmp_path: Path) -> None:
    config = workdir / "itwin-access.yaml"
    result = run("export", "--out", tmp_path / "x", "--project", "NOPE-1", "--config", config)
    assert result.code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Error: --project NOPE-1: not found")
    assert not (tmp_path / "x").exists()


def test_export_needs_projects_or_all(run: Invoke, workdir: Path, tmp_path: Path) -> None:
    config = workdir / "itwin-access.yaml"
    assert run("export", "--out", tmp_path / "x", "--config", config).code == 1
    both = run("export", "--out", tmp_path / "x", "--all", "--project", "A", "--config", config)
    assert both.code == 1


def test_export_from_the_projects_backend(tmp_path: Path, run_on: Invoke) -> None:
    seed = demo_seed()
    seed["projects"] = [
        {
            "projectNumber": "LEG-1",
            "displayName": "Legacy",
            "roles": [{"displayName": "Viewer", "description": "Read", "permissions": []}],
            "members": [{"email": "bob@contoso.com", "roles": ["Team Member", "Viewer"]}],
        }
    ]
    config = tmp_path / "itwin-access.yaml"
    config.write_text("api: http://testserver\nbackend: projects\n")
    with TestClient(create_app(tmp_path / "e.db", seed=seed)) as client:
        result = run_on(client, "export", "--out", tmp_path / "out", "--all", "--config", config)
        assert result.code == 0, result.stderr
        entry = yaml.safe_load((tmp_path / "out" / "projects" / "LEG-1.yaml").read_text())
        assert entry["projects"][0]["manage"] == {
            "roles": "authoritative",
            "members": "authoritative",
        }
        assert entry["projects"][0]["members"] == [
            {"email": "bob@contoso.com", "roles": ["Viewer"]}
        ]
        plan = run_on(client, "plan", tmp_path / "out", "--config", config, "--detailed-exitcode")
        assert plan.code == 0, plan.stdout + plan.stderr


def test_projects_export_names_every_member_it_leaves_out(tmp_path: Path, run_on: Invoke) -> None:
    """Basic team members ("Team Member" only) and users deleted from IMS: one warning each,
    so nobody silently loses access in a migration; the export still exits 0."""
    seed = demo_seed()
    gone = "2f0c0a4e-0000-4000-8000-000000000001"
    gone_basic = "2f0c0a4e-0000-4000-8000-000000000002"
    seed["projects"] = [
        {
            "projectNumber": "LEG-2",
            "displayName": "Legacy",
            "roles": [{"displayName": "Viewer", "description": "Read", "permissions": []}],
            "members": [
                {"email": "bob@contoso.com", "roles": ["Team Member", "Viewer"]},
                {"email": "frank@contoso.com", "roles": ["Team Member"]},
                {"id": gone, "email": None, "roles": ["Viewer"]},
                {"id": gone_basic, "email": None, "roles": ["Team Member"]},
            ],
        }
    ]
    config = tmp_path / "itwin-access.yaml"
    config.write_text("api: http://testserver\nbackend: projects\n")
    with TestClient(create_app(tmp_path / "e.db", seed=seed)) as client:
        result = run_on(client, "export", "--out", tmp_path / "out", "--all", "--config", config)
        plan = run_on(client, "plan", tmp_path / "out", "--config", config, "--detailed-exitcode")
    assert result.code == 0, result.stderr
    # Planned against the source: the deleted user's removal is proposed (exit 2); the basic
    # team members never appear (README, migration step 2).
    assert plan.code == 2, plan.stdout + plan.stderr
    assert f"remove member id:{gone} " in plan.stdout
    assert "frank" not in plan.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 3, result.stderr
    assert any('member frank@contoso.com holds only "Team Member"' in w for w in warnings)
    assert any(f"member id {gone_basic} (a user deleted from IMS) holds only" in w
               for w in warnings)  # fmt: skip
    assert any(gone in w and "deleted from IMS" in w for w in warnings)


def test_stale_project_files_in_the_output_are_flagged(
    run: Invoke, workdir: Path, tmp_path: Path
) -> None:
    config = workdir / "itwin-access.yaml"
    assert run("apply", workdir, "--auto-approve").code == 0
    out = tmp_path / "out"
    (out / "projects").mkdir(parents=True)
    (out / "projects" / "GONE-1.yaml").write_text("projects: []\n")
    result = run("export", "--out", out, "--project", "BR-2024-002", "--config", config)
    assert result.code == 0
    assert "GONE-1.yaml was not written by this export" in result.stderr


def test_export_all_as_an_org_admin_service_app_finds_projects_it_is_no_member_of(
    run: Invoke, hand: Any, workdir: Path, tmp_path: Path
) -> None:
    """The demo service app (org admin) lists with X-iTwin-Query-Scope: all (C14): a project
    alice created, where the app is no member, is exported too."""
    body = {"class": "Endeavor", "subClass": "Project", "displayName": "Hers", "number": "H-1"}
    hand.send("POST", "/itwins/", body, accept="application/vnd.bentley.itwin-platform.v1+json")
    out = tmp_path / "all"
    result = run("export", "--out", out, "--all", "--config", workdir / "itwin-access.yaml")
    assert result.code == 0, result.stderr
    assert (out / "projects" / "H-1.yaml").exists()
    assert "warning" not in result.stderr


def test_export_all_of_nothing_warns_naming_identity_and_scope(
    run: Invoke, workdir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    """Bob (no org admin, member of nothing) exports 0 projects: exit 0 with a warning."""
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", "bob-token")
    result = run("export", "--out", tmp_path / "none", "--all",
                 "--config", workdir / "itwin-access.yaml")  # fmt: skip
    assert result.code == 0, result.stderr
    assert (
        "warning: no project to export: bob@contoso.com sees none among the iTwins it is a "
        "member of" in result.stderr
    )


def test_a_truncated_listing_is_a_warning() -> None:
    """When the 10,000-iTwin cap cut the listing, export says so and how to get the rest."""
    from reconciler.cli.export import listing_warnings
    from reconciler.targets.listing import Listing

    listing = Listing(("P-1",), scope="every iTwin", truncated=True)
    [warning] = listing_warnings(listing, "ci@apps.contoso.com", 10_000)
    assert warning.startswith("the listing stopped at the API's cap of 10,000 iTwins")
    assert "--project NUMBER" in warning
