"""``drift``: "changed outside the manifests" vs "unmanaged extras", and ``--write DIR`` edits
that adopt the live state (in-process CLI against the emulator, tests/cli/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

Invoke = Callable[..., Any]  # tests/cli/conftest.py: run(...) -> Run(code, stdout, stderr)


def _drift_by_hand(run: Invoke, workdir: Path, hand: Any) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    # Outside the manifests: a member added, a role's permissions edited, a declared member
    # removed, all in BR-2024-001 (roles and members authoritative there).
    hand.add_member("BR-2024-001", "eli@contoso.com", "Viewer")
    itwin = hand.itwin_id("BR-2024-001")
    base = f"/accesscontrol/itwins/{itwin}"
    lead = hand.role_id("BR-2024-001", "Structural Lead")
    hand.send("PATCH", f"{base}/roles/{lead}", {"permissions": ["itwins_read"]})
    # The CLI applied as a service app, so bob holds an invitation (contract §7.16).
    invitations = hand.get(f"{base}/members/invitations")["invitations"]
    bob = next(i["id"] for i in invitations if i["email"] == "bob@contoso.com")
    hand.send("DELETE", f"{base}/members/invitations/{bob}")


def test_drift_separates_changes_from_unmanaged_extras(
    run: Invoke, workdir: Path, hand: Any
) -> None:
    _drift_by_hand(run, workdir, hand)
    result = run("drift", workdir)
    assert result.code == 2
    out = result.stdout
    changed = out.index("Changed outside the manifests (managed objects): 2")
    extras = out.index("Unmanaged extras (live, in authoritative sections, in no manifest): 1")
    assert changed < extras
    assert "Structural Lead" in out[changed:extras]
    assert "bob@contoso.com" in out[changed:extras]
    assert "eli@contoso.com" in out[extras:]


def test_drift_write_adopts_live_state_in_place(run: Invoke, workdir: Path, hand: Any) -> None:
    _drift_by_hand(run, workdir, hand)
    before = {p.name: p.read_text() for p in workdir.glob("*.yaml")}
    result = run("drift", workdir, "--write", workdir)
    assert result.code == 2
    assert "Wrote 1 manifest file(s)" in result.stderr
    after = {p.name: p.read_text() for p in workdir.glob("*.yaml")}
    assert [n for n in before if before[n] != after[n]] == ["bridges.yaml"]
    assert after["bridges.yaml"].startswith("# yaml-language-server: $schema=")
    entry = yaml.safe_load(after["bridges.yaml"])["projects"][0]
    emails = [m.get("email") for m in entry["members"]]
    assert "eli@contoso.com" in emails
    assert "bob@contoso.com" not in emails
    # The role set still matches live, so it is still used; the edited role is inline.
    assert {"use": "standard"} in entry["roles"]
    lead = next(r for r in entry["roles"] if r.get("displayName") == "Structural Lead")
    assert lead["permissions"] == ["itwins_read"]
    assert entry["manage"] == {"owners": "additive"}  # the author's manage modes are kept

    again = run("drift", workdir)
    assert again.code == 0, again.stdout
    # The other project of the same file is untouched.
    assert (
        yaml.safe_load(after["bridges.yaml"])["projects"][1]
        == yaml.safe_load(before["bridges.yaml"])["projects"][1]
    )


def test_drift_write_without_drift_writes_nothing(
    run: Invoke, workdir: Path, tmp_path: Path
) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    result = run("drift", workdir, "--write", tmp_path / "edits")
    assert result.code == 0
    assert "nothing written" in result.stderr
    assert not (tmp_path / "edits").exists()
