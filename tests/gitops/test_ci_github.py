"""The GitHub side of the CI kit: the workflows pass jactionlint (actionlint's checks and more,
with shellcheck over every `run:`), the scripts pass shellcheck, and the two scripts that talk
to GitHub keep one plan comment and one drift issue, driven through a stand-in for the `gh`
CLI that records its calls (GitHub is not emulated)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "examples" / "ci"
BIN = Path(sys.executable).parent
MARKER = "<!-- itwin-access-plan -->"


def _tools_env(tmp_path: Path) -> dict[str, str]:
    return {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path)}


def test_the_workflows_pass_jactionlint_with_shellcheck(tmp_path: Path) -> None:
    workflows = sorted((KIT / ".github" / "workflows").glob("*.yml"))
    assert [w.name for w in workflows] == [
        "itwin-access-apply.yml",
        "itwin-access-drift.yml",
        "itwin-access-plan.yml",
    ]
    result = subprocess.run(
        # Actions are pinned by version, not by commit sha: a team pins them (Dependabot or
        # `jactionlint --fix=unsafe --online`) in its own repository.
        [str(BIN / "jactionlint"), "--no-color", "-i", "unpinned-uses", *map(str, workflows)],
        cwd=KIT,
        env=_tools_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "shellcheck was not found" not in result.stdout + result.stderr


def test_the_scripts_pass_shellcheck(tmp_path: Path) -> None:
    scripts = sorted((KIT / "scripts").glob("*.sh"))
    assert len(scripts) >= 6
    result = subprocess.run(
        [str(BIN / "shellcheck"), *map(str, scripts)],
        env=_tools_env(tmp_path),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


FAKE_GH = """#!/usr/bin/env python3
# A stand-in for GitHub's CLI: appends its arguments (and the body a `-F body=@file` names)
# to calls.jsonl, and answers listing calls with the JSON in the file named by GH_FAKE_LIST.
import json, os, sys
args = sys.argv[1:]
body = next((a[len("body=@"):] for a in args if a.startswith("body=@")), None)
with open(os.environ["GH_FAKE_LOG"], "a") as log:
    log.write(json.dumps({"args": args, "body": open(body).read() if body else None}) + "\\n")
listing = ("--paginate" in args) or (args[:2] == ["issue", "list"])
if listing:
    print(open(os.environ["GH_FAKE_LIST"]).read().strip())
"""


def _gh(tmp_path: Path, listing: str, *command: str) -> list[dict[str, object]]:
    fake = tmp_path / "bin" / "gh"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(FAKE_GH)
    fake.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    log.unlink(missing_ok=True)
    (tmp_path / "list.txt").write_text(listing)
    env = {
        "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
        "GH_FAKE_LOG": str(log),
        "GH_FAKE_LIST": str(tmp_path / "list.txt"),
    }
    result = subprocess.run(
        [str(KIT / "scripts" / command[0]), *command[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_post_comment_posts_once_then_updates_the_marked_comment(tmp_path: Path) -> None:
    body = tmp_path / "comment.md"
    body.write_text(f"{MARKER}\n### itwin-access plan\n")
    # The fake prints what the --jq filter would select: no marked comment yet.
    calls = _gh(tmp_path, "", "post-comment.sh", "7", str(body))
    assert calls[-1]["args"][:4] == [
        "api",
        "--method",
        "POST",
        "repos/{owner}/{repo}/issues/7/comments",
    ]
    assert calls[-1]["body"] == body.read_text()
    listing = calls[0]["args"]
    assert listing[:2] == ["api", "repos/{owner}/{repo}/issues/7/comments"]
    assert MARKER in " ".join(listing)  # the filter selects the comment by its marker

    calls = _gh(tmp_path, "123456", "post-comment.sh", "7", str(body))
    assert calls[-1]["args"][:4] == [
        "api",
        "--method",
        "PATCH",
        "repos/{owner}/{repo}/issues/comments/123456",
    ]
    assert len(calls) == 2  # list, update: no second comment


def test_open_issue_opens_updates_and_closes_one_drift_issue(tmp_path: Path) -> None:
    out = tmp_path / "itwin-access-out"
    out.mkdir()
    (out / "drift.md").write_text("<!-- itwin-access-drift -->\nDrift: 1 changed\n")
    (out / "exit-code").write_text("2\n")
    opened = _gh(tmp_path, "", "open-issue.sh", str(out))
    assert opened[-1]["args"][:2] == ["issue", "create"]
    assert "itwin-access-drift" in opened[-1]["args"]

    updated = _gh(tmp_path, "12", "open-issue.sh", str(out))
    assert updated[-1]["args"][:3] == ["issue", "edit", "12"]
    assert not any(c["args"][:2] == ["issue", "create"] for c in updated)

    (out / "exit-code").write_text("0\n")
    closed = _gh(tmp_path, "12", "open-issue.sh", str(out))
    assert closed[-1]["args"][:3] == ["issue", "close", "12"]
    assert _gh(tmp_path, "", "open-issue.sh", str(out))[-1]["args"][:2] == ["issue", "list"]


def test_the_invitation_ledger_is_kept_between_runs_and_never_committed() -> None:
    """Where itwin-access writes the ledger (beside MANIFESTS/itwin-access.yaml, which the
    scripts use) is what the workflows cache: the scheduled drift restores and saves it on the
    default branch, plan and apply restore it; the drift pull request never commits it."""
    ledger = "${{ env.MANIFESTS }}/.itwin-access/invitations.json"
    steps = {}
    for name in ("plan", "apply", "drift"):
        workflow = yaml.safe_load(
            (KIT / ".github" / "workflows" / f"itwin-access-{name}.yml").read_text()
        )
        [job] = workflow["jobs"].values()
        [cache] = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/cache")]
        assert cache["with"]["path"] == ledger
        assert cache["with"]["restore-keys"] == "itwin-access-invitations-"
        assert workflow["env"]["MANIFESTS"] == "manifests"
        steps[name] = cache["uses"].split("@")[0]
    assert steps == {
        "plan": "actions/cache/restore",
        "apply": "actions/cache/restore",
        "drift": "actions/cache",  # restores, and saves under a new key each run
    }
    drift = (KIT / ".github" / "workflows" / "itwin-access-drift.yml").read_text()
    assert 'git add -- "$MANIFESTS" ":(exclude)$MANIFESTS/.itwin-access"' in drift
    gitlab = yaml.safe_load((KIT / ".gitlab-ci.yml").read_text())
    for job, policy in (
        ("itwin-access-plan", "pull"),
        ("itwin-access-apply", None),
        ("itwin-access-drift", None),
    ):
        cache = gitlab[job]["cache"]
        assert cache["paths"] == ["manifests/.itwin-access/invitations.json"]
        assert cache["key"] == "itwin-access-invitations"
        assert cache["unprotect"] is True  # merge requests plan with the default branch's
        assert cache.get("policy") == policy
