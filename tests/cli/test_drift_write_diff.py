"""``drift --write`` edits the manifests minimally: the exact ``git diff`` of the written files
shows only the entries that differ from live state; comments, key order, quoting, flow/block
style and ``use:`` role-set references survive (in-process CLI against the emulator)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

Invoke = Callable[..., Any]  # tests/cli/conftest.py: run(...) -> Run(code, stdout, stderr)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        env={"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _applied_repo(run: Invoke, workdir: Path) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    # As a manifest repository keeps it: the invitation ledger (and the emulator's state) are
    # not manifests, and every run may update the ledger.
    (workdir / ".gitignore").write_text(".itwin-access/\n")
    _git(workdir, "init", "-q")
    _git(workdir, "add", "-A")
    _git(workdir, "commit", "-q", "-m", "applied")


def _diff(workdir: Path) -> str:
    """``git diff -U1`` of the working tree, without the ``index`` lines (blob ids)."""
    text = _git(workdir, "diff", "--no-color", "-U1", "--", ".")
    return "".join(line for line in text.splitlines(True) if not line.startswith("index "))


def test_only_the_entries_that_differ_change_and_comments_survive(
    run: Invoke, workdir: Path, hand: Any
) -> None:
    _applied_repo(run, workdir)
    # By hand, in BR-2024-001 (roles and members authoritative): eli added, the Structural
    # Lead's permissions cut, bob's invitation (a service app only invites) withdrawn.
    hand.add_member("BR-2024-001", "eli@contoso.com", "Viewer")
    base = f"/accesscontrol/itwins/{hand.itwin_id('BR-2024-001')}"
    lead = hand.role_id("BR-2024-001", "Structural Lead")
    hand.send("PATCH", f"{base}/roles/{lead}", {"permissions": ["itwins_read"]})
    invitations = hand.get(f"{base}/members/invitations")["invitations"]
    bob = next(i["id"] for i in invitations if i["email"] == "bob@contoso.com")
    hand.send("DELETE", f"{base}/members/invitations/{bob}")

    result = run("drift", workdir, "--write", workdir)
    assert result.code == 2
    assert _diff(workdir) == (
        "diff --git a/bridges.yaml b/bridges.yaml\n"
        "--- a/bridges.yaml\n"
        "+++ b/bridges.yaml\n"
        "@@ -16,3 +16,3 @@ projects:\n"
        "         description: Leads structural design\n"
        "-        permissions: [itwins_read, imodels_read, imodels_write, "
        "administration_invite_member]\n"
        "+        permissions: [itwins_read]\n"
        "     groups:\n"
        "@@ -23,4 +23,2 @@ projects:\n"
        "     members:\n"
        "-      - email: bob@contoso.com\n"
        "-        roles: [Project Admin]\n"
        "       - email: carol@contoso.com\n"
        "@@ -31,2 +29,4 @@ projects:\n"
        "         roles: [Contributor]\n"
        "+      - email: eli@contoso.com\n"
        "+        roles: [Viewer]\n"
        " \n"
    )
    # The comment on the external member's line, the modeline and the `use:` all survive.
    written = (workdir / "bridges.yaml").read_text()
    assert "      - email: someone@fabrikam.com   # external: gets an invitation\n" in written
    assert "      - use: standard\n" in written
    assert run("drift", workdir).code == 0  # the edits describe live state


def test_a_role_set_change_is_written_to_the_role_set_not_expanded(
    run: Invoke, workdir: Path, hand: Any
) -> None:
    _applied_repo(run, workdir)
    itwin = hand.itwin_id("BR-2024-002")
    viewer = hand.role_id("BR-2024-002", "Viewer")
    hand.send(
        "PATCH",
        f"/accesscontrol/itwins/{itwin}/roles/{viewer}",
        {"permissions": ["itwins_read", "imodels_read"]},
    )
    result = run("drift", workdir, "--write", workdir)
    assert result.code == 2
    diff = _diff(workdir)
    assert diff.startswith(
        "diff --git a/role-sets.yaml b/role-sets.yaml\n"
    )  # bridges.yaml untouched
    assert diff.split("\n", 3)[3] == (
        "@@ -6,3 +6,3 @@ roleSets:\n"
        "       description: Read-only access to models and documents\n"
        "-      permissions: [itwins_read, imodels_read, imodels_webview, storage_read]\n"
        "+      permissions: [itwins_read, imodels_read]\n"
        "     - displayName: Contributor\n"
    )
    assert (
        "note: role set 'standard' edited to match project BR-2024-002's live roles; also used "
        "by 2 other project(s) (BR-2024-001, RL-2025-010), whose plans will show the change"
    ) in result.stderr


def test_the_applying_service_app_is_never_written_as_an_owner(
    run: Invoke, workdir: Path, hand: Any
) -> None:
    _applied_repo(run, workdir)
    itwin = hand.itwin_id("BR-2024-002")
    owners = hand.get(f"/accesscontrol/itwins/{itwin}/members/owners")["members"]
    # It created the iTwin, so it owns it (contract C3); owners are authoritative here.
    assert [o["email"] for o in owners] == ["itwin-access-demo@apps.contoso.com"]
    frank = next(
        i["id"]
        for i in hand.get(f"/accesscontrol/itwins/{itwin}/members/invitations")["invitations"]
        if i["email"] == "frank@contoso.com"
    )
    hand.send("DELETE", f"/accesscontrol/itwins/{itwin}/members/invitations/{frank}")
    assert run("drift", workdir, "--write", workdir).code == 2
    diff = _diff(workdir)
    assert "itwin-access-demo" not in diff
    assert [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"
    ] == [
        "-      - email: frank@contoso.com",
        "-        roles: [Viewer]",
    ]
