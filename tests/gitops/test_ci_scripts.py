"""The CI kit's scripts (examples/ci/scripts), run as the workflows run them: as subprocesses in
a manifest repository whose config says ``api: emulator``, so itwin-access talks HTTP to the
bundled emulator over the SQLite file that the test also changes "by hand"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from reconciler.emulator import create_app

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "examples" / "ci" / "scripts"
QUICKSTART = ROOT / "examples" / "quickstart"
BIN = Path(sys.executable).parent
LEDGER = Path("manifests/.itwin-access/invitations.json")  # MANIFESTS/.itwin-access/...
ALICE = {
    "Authorization": "Bearer alice-token",
    "Accept": "application/vnd.bentley.itwin-platform.v2+json",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A manifest repository: the quickstart under manifests/, its emulator state beside it."""
    root = tmp_path / "repo"
    shutil.copytree(QUICKSTART, root / "manifests", ignore=shutil.ignore_patterns(".itwin-access"))
    return root


def _env(**extra: str) -> dict[str, str]:
    # No credentials: `api: emulator` needs none, and none may leak in from the machine.
    return {"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1", **extra}


def script(repo: Path, name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / name), *args],
        cwd=repo,
        env=_env(**env),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def out(repo: Path, name: str) -> str:
    return (repo / "itwin-access-out" / name).read_text()


@pytest.fixture
def hand(repo: Path) -> Iterator[TestClient]:
    """The emulator's API over the repository's state, for changes made outside the manifests."""
    app = create_app(repo / "manifests" / ".itwin-access" / "emulator.db", admin=True)
    with TestClient(app) as client:
        yield client


def _itwin(client: TestClient, number: str) -> str:
    found = client.get(
        "/itwins",
        params={"number": number},
        headers={
            **ALICE,
            "Accept": "application/vnd.bentley.itwin-platform.v1+json",
            "X-iTwin-Query-Scope": "all",
        },
    ).json()["iTwins"]
    return str(found[0]["id"])


def _add_eli_by_hand(client: TestClient) -> None:
    itwin = _itwin(client, "BR-2024-001")
    roles = client.get(f"/accesscontrol/itwins/{itwin}/roles", headers=ALICE).json()["roles"]
    viewer = next(r["id"] for r in roles if r["displayName"] == "Viewer")
    body = {"members": [{"email": "eli@contoso.com", "roleIds": [viewer]}]}
    response = client.post(f"/accesscontrol/itwins/{itwin}/members/users", json=body, headers=ALICE)
    assert response.status_code == 201, response.text


def test_plan_saves_the_plan_and_a_marked_comment_then_apply_applies_exactly_it(
    repo: Path,
) -> None:
    planned = script(repo, "plan.sh", "manifests", "itwin-access-out")
    assert planned.returncode == 0, planned.stderr
    assert out(repo, "exit-code").strip() == "2"
    comment = out(repo, "comment.md")
    assert comment.splitlines()[0] == "<!-- itwin-access-plan -->"
    assert "**Plan: 27 to add, 0 to change, 0 to remove** in 3 project(s)" in comment
    assert json.loads(out(repo, "plan.json"))["operations"]
    assert script(repo, "check.sh", "itwin-access-out").returncode == 0

    applied = script(
        repo, "apply.sh", "itwin-access-out/plan.json", "manifests", "itwin-access-out"
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Apply complete: 27 operation(s) applied." in applied.stderr
    journal = out(repo, "apply.jsonl").splitlines()
    assert len(journal) == 27
    # The demo service application's adds are invitations: recorded in the ledger, at the path
    # the workflows cache between runs (tests/gitops/test_ci_github.py).
    ledger = json.loads((repo / LEDGER).read_text())
    assert {e["email"] for e in ledger["invitations"]} >= {"someone@fabrikam.com"}

    again = script(repo, "plan.sh", "manifests", "itwin-access-out")
    assert again.returncode == 0
    assert out(repo, "exit-code").strip() == "0"
    assert "No changes" in out(repo, "comment.md")


def test_apply_refuses_a_plan_that_live_state_moved_past(repo: Path, hand: TestClient) -> None:
    assert script(repo, "apply.sh", *_fresh_plan(repo), "manifests").returncode == 0
    rail = repo / "manifests" / "rail.yaml"
    rail.write_text(rail.read_text().replace("roles: [Viewer]", "roles: [Contributor]"))
    plan = _fresh_plan(repo)  # reviewed: dana becomes a Contributor on RL-2025-010
    _add_eli_by_hand(hand)  # BR-2024-001 moved after the review
    applied = script(repo, "apply.sh", *plan, "manifests")
    assert applied.returncode == 1
    assert "BR-2024-001" in applied.stderr
    assert "Traceback" not in applied.stderr


def _fresh_plan(repo: Path) -> tuple[str]:
    """plan.sh, checked; the saved plan's path, for apply.sh."""
    planned = script(repo, "plan.sh", "manifests", "itwin-access-out")
    assert planned.returncode == 0, planned.stderr
    return ("itwin-access-out/plan.json",)


def test_a_blocked_plan_still_writes_the_comment_and_fails_the_job_until_allowed(
    repo: Path,
) -> None:
    assert script(repo, "apply.sh", *_fresh_plan(repo), "manifests").returncode == 0
    bridges = repo / "manifests" / "bridges.yaml"
    text = bridges.read_text()
    text = text.replace("roles: [Contributor, Structural Lead]", "roles: [Contributor]")
    text = text.replace(
        "      - displayName: Structural Lead\n"
        "        description: Leads structural design\n"
        "        permissions: [itwins_read, imodels_read, imodels_write, "
        "administration_invite_member]\n",
        "",
    )
    bridges.write_text(text)

    assert script(repo, "plan.sh", "manifests", "itwin-access-out").returncode == 0
    assert out(repo, "exit-code").strip() == "3"
    assert "role-deletions" in out(repo, "comment.md")
    check = script(repo, "check.sh", "itwin-access-out")
    assert check.returncode == 3
    assert "a guard blocked the plan" in check.stderr

    allowed = {"ITWIN_ACCESS_ALLOW": "role-deletions"}
    assert script(repo, "plan.sh", "manifests", "itwin-access-out", **allowed).returncode == 0
    assert out(repo, "exit-code").strip() == "2"
    applied = script(repo, "apply.sh", "itwin-access-out/plan.json", "manifests", **allowed)
    assert applied.returncode == 0, applied.stdout + applied.stderr


def test_a_failing_plan_is_reported_in_the_comment_and_fails_the_job(repo: Path) -> None:
    (repo / "manifests" / "rail.yaml").write_text("projects: [\n")
    assert script(repo, "plan.sh", "manifests", "itwin-access-out").returncode == 0
    assert out(repo, "exit-code").strip() == "1"
    comment = out(repo, "comment.md")
    assert comment.startswith("<!-- itwin-access-plan -->\n### itwin-access plan failed (exit 1)")
    assert "rail.yaml" in comment
    assert not (repo / "itwin-access-out" / "plan.json").exists()
    assert script(repo, "check.sh", "itwin-access-out").returncode == 1


def test_drift_writes_the_issue_body_and_with_write_edits_that_end_the_drift(
    repo: Path, hand: TestClient
) -> None:
    assert script(repo, "apply.sh", *_fresh_plan(repo), "manifests").returncode == 0
    assert script(repo, "drift.sh", "manifests", "itwin-access-out").returncode == 0
    assert out(repo, "exit-code").strip() == "0"

    _add_eli_by_hand(hand)
    drift = script(repo, "drift.sh", "manifests", "itwin-access-out")
    assert drift.returncode == 0, drift.stderr
    assert out(repo, "exit-code").strip() == "2"
    body = out(repo, "drift.md")
    assert body.splitlines()[0] == "<!-- itwin-access-drift -->"
    assert "eli@contoso.com" in body

    before = (repo / "manifests" / "bridges.yaml").read_text()
    assert script(repo, "drift.sh", "manifests", "itwin-access-out", "--write").returncode == 0
    after = (repo / "manifests" / "bridges.yaml").read_text()
    assert after.count("eli@contoso.com") == before.count("eli@contoso.com") + 1
    assert script(repo, "drift.sh", "manifests", "itwin-access-out").returncode == 0
    assert out(repo, "exit-code").strip() == "0"  # the written edits describe live state
