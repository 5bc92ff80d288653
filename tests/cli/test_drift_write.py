"""``drift``: "changed outside the manifests" vs "unmanaged extras", and ``--write DIR`` edits
that adopt the live state (in-process CLI against the emulator, tests/cli/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from reconciler.render import load_json

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
    changed = out.index("  changed outside the manifests:\n")
    extras = out.index("  unmanaged extras (live, in no manifest; applying the manifests removes")
    assert changed < extras
    assert "Structural Lead" in out[changed:extras]
    assert "bob@contoso.com" in out[changed:extras]
    assert "eli@contoso.com" in out[extras:]
    assert out.count("eli@contoso.com") == 1  # listed once, not again in a second section
    assert out.splitlines()[-1] == (
        "Drift: 2 changed outside the manifests, 1 unmanaged extra "
        "(applying the manifests: 1 to add, 1 to change, 1 to remove)."
    )


def test_drift_json_carries_the_split_versioned(run: Invoke, workdir: Path, hand: Any) -> None:
    _drift_by_hand(run, workdir, hand)
    result = run("drift", workdir, "--format", "json")
    assert result.code == 2
    document = json.loads(result.stdout)
    drift = document["drift"]
    assert drift["format_version"] == 2
    assert drift["summary"] == {"changed": 2, "extras": 1, "expired": 0}
    assert drift["extras"] == ["BR-2024-001/remove_member/eli@contoso.com"]
    ids = [op["id"] for op in document["operations"]]
    assert sorted(drift["changed"] + drift["extras"]) == sorted(ids)
    assert any("Structural Lead" in i for i in drift["changed"])
    # Still a plan document: it loads as one (the split is an extra key).
    assert load_json(result.stdout).operations


def test_drift_markdown_keeps_the_split_inside_the_comment(
    run: Invoke, workdir: Path, hand: Any
) -> None:
    _drift_by_hand(run, workdir, hand)
    out = run("drift", workdir, "--format", "markdown").stdout
    assert "**Drift: 2 changed outside the manifests, 1 unmanaged extra**" in out
    assert "<summary><code>BR-2024-001: 2 changed, 1 extra</code></summary>" in out
    assert "| `BR-2024-001` | 2 | 1 |  |" in out
    details = out[out.index("<details>") :]
    changed = details.index("@@ changed outside the manifests @@")
    extras = details.index("@@ unmanaged extras")
    assert changed < details.index("Structural Lead") < extras < details.index("eli@contoso.com")
    assert out.rstrip().endswith("</details>")  # nothing appended after the sections


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
