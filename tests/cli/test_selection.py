"""Affected-only plans and project selection (issue 17 items 3 and 5): ``plan --changed-since
REF`` plans exactly the projects whose entries changed in git, ``--exclude`` leaves out globs,
``--shard I/N`` splits the projects; the Markdown header says which and why."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from reconciler.cli.selection import Shard

ALL = {"BR-2024-001", "BR-2024-002", "RL-2025-010"}


@pytest.fixture
def repo(workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The quickstart manifests committed in a fresh git repository (no user git config)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    git(workdir, "init", "-q", "-b", "main")
    git(workdir, "add", ".")
    git(workdir, "commit", "-q", "-m", "manifests")
    return workdir


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=CI", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


def planned(run, *args: str | Path) -> set[str]:
    result = run("plan", *args, "--format", "json")
    assert result.code == 0, result.stderr
    return set(json.loads(result.stdout)["fingerprints"])


def test_changed_since_plans_only_the_changed_project(run, repo: Path) -> None:
    bridges = repo / "bridges.yaml"
    bridges.write_text(bridges.read_text().replace("Bridge Renewal", "Bridge Renewal II", 1))
    assert planned(run, repo, "--changed-since", "main") == {"BR-2024-001"}
    result = run("plan", repo, "--changed-since", "main", "--format", "markdown")
    # After the target line (issue 13), the title and the headline.
    header = result.stdout.split("\n\n")[3]
    assert header.startswith("_Planned 1 project(s): BR-2024-001.")
    assert "changed since `main`: 1 changed" in header
    # unchanged manifests: nothing to plan
    git(repo, "commit", "-q", "-am", "rename")
    assert planned(run, repo, "--changed-since", "HEAD") == set()


def test_a_changed_role_set_selects_every_project_using_it(run, repo: Path) -> None:
    sets = repo / "role-sets.yaml"
    sets.write_text(sets.read_text().replace("Read-only access", "Read access", 1))
    assert planned(run, repo, "--changed-since", "main") == ALL


def test_a_removed_project_is_named_and_not_planned(run, repo: Path) -> None:
    (repo / "rail.yaml").unlink()
    result = run("plan", repo, "--changed-since", "main")
    assert result.code == 0
    assert "removed from the manifests since `main` (left as they are): RL-2025-010" in (
        result.stderr
    )
    assert planned(run, repo, "--changed-since", "main") == set()


def test_moving_an_entry_to_another_file_changes_nothing(run, repo: Path) -> None:
    rail = (repo / "rail.yaml").read_text()
    (repo / "rail.yaml").unlink()
    (repo / "more").mkdir()
    (repo / "more" / "rail-moved.yaml").write_text(rail)
    assert planned(run, repo, "--changed-since", "main") == set()


def test_an_unknown_ref_is_one_line_and_exit_1(run, repo: Path) -> None:
    result = run("plan", repo, "--changed-since", "no-such-branch")
    assert result.code == 1
    assert result.stderr.startswith("Error: --changed-since no-such-branch: no such commit")
    assert result.stderr.count("\n") == 1


def test_exclude_takes_globs(run, workdir: Path) -> None:
    assert planned(run, workdir, "--exclude", "BR-*") == {"RL-2025-010"}
    assert planned(run, workdir, "--exclude", "BR-*", "--exclude", "RL-2025-010") == set()


def test_shards_split_the_projects_without_overlap_or_gap(run, workdir: Path) -> None:
    shards = [planned(run, workdir, "--shard", f"{i}/3") for i in (1, 2, 3)]
    assert set().union(*shards) == ALL
    assert sum(len(s) for s in shards) == len(ALL)
    result = run("plan", workdir, "--shard", "4/3")
    assert (result.code, result.stderr.count("\n")) == (1, 1)
    assert "--shard 4/3: expected I/N" in result.stderr


def test_shard_hash_is_stable() -> None:
    # the same number goes to the same shard on every machine and run (sha256, not hash())
    assert [Shard(i, 4).holds("BR-2024-001") for i in (1, 2, 3, 4)].count(True) == 1
    assert Shard(1, 1).holds("anything")
    held = [n for n in (f"P-{i}" for i in range(1000)) if Shard(1, 4).holds(n)]
    assert 200 < len(held) < 300


def test_apply_takes_the_same_shards_and_exclusions(run, workdir: Path) -> None:
    result = run("apply", workdir, "--auto-approve", "--exclude", "BR-*")
    assert result.code == 0, result.stderr
    assert "Planned 1 of 3 declared project(s): RL-2025-010." in result.stderr
    assert planned(run, workdir) == ALL
    plan = json.loads(run("plan", workdir, "--format", "json").stdout)
    assert {op["project"] for op in plan["operations"]} == {"BR-2024-001", "BR-2024-002"}
    saved = workdir.parent / "plan.json"
    saved.write_text(json.dumps(plan))
    refused = run("apply", "--plan", saved, "--shard", "1/2")
    assert refused.code != 0
    assert "cannot narrow a saved plan" in refused.stderr


def test_a_changed_config_plans_every_project(run, repo: Path) -> None:
    config = repo / "itwin-access.yaml"
    config.write_text(config.read_text() + "guards:\n  maxMemberRemovals: 10\n")
    result = run("plan", repo, "--changed-since", "main")
    assert result.code == 0, result.stderr
    assert "itwin-access.yaml changed since `main`, so every project was planned" in result.stderr
    assert planned(run, repo, "--changed-since", "main") == ALL


def test_a_saved_affected_only_plan_applies_like_any_other(run, repo: Path) -> None:
    rail = repo / "rail.yaml"
    rail.write_text(rail.read_text() + "\n")  # touched, not changed: still not planned
    bridges = repo / "bridges.yaml"
    bridges.write_text(bridges.read_text().replace("Bridge Renewal", "Bridge Renewal II", 1))
    saved = repo.parent / "plan.json"
    made = run("plan", repo, "--changed-since", "main", "--out", saved)
    assert made.code == 0, made.stderr
    assert set(json.loads(saved.read_text())["fingerprints"]) == {"BR-2024-001"}
    applied = run("apply", "--plan", saved, "--auto-approve")
    assert applied.code == 0, applied.stderr
    left = json.loads(run("plan", repo, "--format", "json").stdout)
    assert "BR-2024-001" not in {op["project"] for op in left["operations"]}
    assert {op["project"] for op in left["operations"]} == {"BR-2024-002", "RL-2025-010"}


def test_changed_ci_files_are_not_read_as_manifests(run, repo: Path) -> None:
    """The one discovery rule (issue 14 item 3): a changed `.gitlab-ci.yml` or a file under
    `.github/` is no manifest for --changed-since either, as for validate and a full plan."""
    (repo / ".gitlab-ci.yml").write_text("projects: [not, a, manifest]\n")
    (repo / ".github").mkdir()
    (repo / ".github" / "plan.yml").write_text("on: push\n")
    bridges = repo / "bridges.yaml"
    bridges.write_text(bridges.read_text().replace("Bridge Renewal", "Bridge Renewal II", 1))
    assert run("validate", repo).code == 0
    assert planned(run, repo, "--changed-since", "main") == {"BR-2024-001"}
