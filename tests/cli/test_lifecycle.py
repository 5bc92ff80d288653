"""The whole lifecycle through the CLI: from nothing, apply, empty plan; change the manifests,
a plan holding every kind of operation, apply, empty plan again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.plan.build import OpKind

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def alice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run as alice@contoso.com (org admin, a user: same-organization members are added, not
    invited); returns the config file."""
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", "alice-token")
    config = tmp_path / "itwin-access.yaml"
    config.write_text("api: http://testserver\nidentity: alice@contoso.com\n")
    return config


def test_from_nothing_to_every_kind_of_change_and_back_to_an_empty_plan(run, alice) -> None:
    first = run("plan", DATA / "before", "--config", alice, "--detailed-exitcode")
    assert first.code == 2, first.stderr
    assert "Plan: " in first.stdout

    applied = run("apply", DATA / "before", "--config", alice, "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "Apply complete" in applied.stderr

    again = run("plan", DATA / "before", "--config", alice, "--detailed-exitcode")
    assert again.code == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout

    changed = run("plan", DATA / "after", "--config", alice, "--format", "json")
    assert changed.code == 3, changed.stderr  # role and project deletions are guarded
    plan = json.loads(changed.stdout)
    assert {op["kind"] for op in plan["operations"]} == {kind.value for kind in OpKind}

    applied = run(
        "apply", DATA / "after", "--config", alice, "--auto-approve",
        "--allow", "role-deletions", "--allow", "project-deletions", "--verify",
    )  # fmt: skip
    assert applied.code == 0, applied.stdout + applied.stderr
    assert "Verified" in applied.stderr

    final = run("plan", DATA / "after", "--config", alice, "--detailed-exitcode")
    assert final.code == 0, final.stdout + final.stderr
