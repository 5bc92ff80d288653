"""The README's path for real: embedded emulator, apply, then an empty plan; and the same
over HTTP against a served emulator, with the saved-plan round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ENTERPRISE = Path(__file__).resolve().parents[2] / "examples" / "enterprise"


def test_embedded_emulator_apply_then_an_empty_plan(embedded_cli, quickstart: Path) -> None:
    applied = embedded_cli("apply", quickstart, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert "Apply complete" in applied.stderr
    assert (quickstart / ".itwin-access" / "emulator.db").is_file()  # beside the config
    plan = embedded_cli("plan", quickstart, "--detailed-exitcode")
    assert plan.code == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout


def test_the_enterprise_example_converges_in_one_apply_on_its_own_config(
    embedded_cli, tmp_path: Path
) -> None:
    # Its config seeds the emulator with the people it names; one apply creates the program
    # and then, under it, its 50 projects (children wait for their parent's creation).
    tree = tmp_path / "enterprise"
    shutil.copytree(ENTERPRISE, tree, ignore=shutil.ignore_patterns(".itwin-access"))
    applied = embedded_cli("apply", tree, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert "Apply complete: 513 operation(s) applied." in applied.stderr
    plan = embedded_cli("plan", tree, "--detailed-exitcode")
    assert plan.code == 0, plan.stdout + plan.stderr
    assert "No changes" in plan.stdout


def test_served_emulator_saved_plan_round_trip(cli_against, served, quickstart, tmp_path) -> None:
    cli = cli_against(served)
    saved = tmp_path / "plan.json"
    made = cli("plan", quickstart, "--out", saved, "--detailed-exitcode")
    assert made.code == 2, made.stderr
    applied = cli("apply", "--plan", saved, "--config", quickstart / "itwin-access.yaml",
                  "--auto-approve", "--journal", tmp_path / "j.jsonl")  # fmt: skip
    assert applied.code == 0, applied.stderr
    planned = json.loads(saved.read_text())["operations"]
    journal = (tmp_path / "j.jsonl").read_text().splitlines()
    assert len(journal) == len(planned)
    assert cli("plan", quickstart, "--detailed-exitcode").code == 0
