"""``renamedFrom`` through the CLI (in-process against the emulator, tests/cli/conftest.py): a
renamed role is one rename in the plan and keeps its members; a rename that cannot be told
apart stops ``plan`` with one line naming the declaration, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Invoke = Callable[..., Any]  # tests/cli/conftest.py: run(...) -> Run(code, stdout, stderr)
LEAD = """      - displayName: Structural Lead
        description: Leads structural design
"""
RENAMED = """      - displayName: Design Lead
        renamedFrom: Structural Lead
        description: Leads structural design
"""


def _rename(workdir: Path) -> Path:
    path = workdir / "bridges.yaml"
    text = path.read_text(encoding="utf-8")
    assert LEAD in text
    text = text.replace(LEAD, RENAMED).replace(
        "Contributor, Structural Lead", "Contributor, Design Lead"
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_a_renamed_role_is_one_rename_keeping_its_members(
    run: Invoke, workdir: Path, hand: Any
) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    lead = hand.role_id("BR-2024-001", "Structural Lead")
    _rename(workdir)
    planned = run("plan", workdir, "--detailed-exitcode")
    assert planned.code == 2, planned.stderr
    assert "~ rename role 'Design Lead'" in planned.stdout
    assert "displayName: 'Structural Lead' -> 'Design Lead'" in planned.stdout
    assert "Plan: 0 to add, 1 to change, 0 to remove." in planned.stdout
    assert run("apply", workdir, "--auto-approve").code == 0
    assert hand.role_id("BR-2024-001", "Design Lead") == lead
    again = run("plan", workdir, "--detailed-exitcode")
    assert again.code == 0, again.stdout


def test_both_names_live_stops_the_plan_in_one_line(run: Invoke, workdir: Path, hand: Any) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    itwin = hand.itwin_id("BR-2024-001")
    hand.send(
        "POST",
        f"/accesscontrol/itwins/{itwin}/roles",
        {"displayName": "Design Lead", "description": "made by hand"},
    )
    path = _rename(workdir)
    result = run("plan", workdir)
    assert result.code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Error: {path}:15:9: ")  # the renamedFrom role
    assert (
        "role 'Design Lead' is renamedFrom 'Structural Lead', but project BR-2024-001 has both live"
        in lines[-1]
    )
    assert "Traceback" not in result.stderr
    assert hand.role_id("BR-2024-001", "Structural Lead")  # nothing renamed


def test_a_saved_plan_with_a_rename_applies_as_planned(
    run: Invoke, workdir: Path, hand: Any, tmp_path: Path
) -> None:
    """The saved plan's desired facts carry renamedFrom, so ``apply --plan`` recomputes the
    same single rename (not a delete and a create, which would not match)."""
    assert run("apply", workdir, "--auto-approve").code == 0
    lead = hand.role_id("BR-2024-001", "Structural Lead")
    _rename(workdir)
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved, "--detailed-exitcode").code == 2
    applied = run("apply", "--plan", saved, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert hand.role_id("BR-2024-001", "Design Lead") == lead
    assert run("plan", workdir, "--detailed-exitcode").code == 0
