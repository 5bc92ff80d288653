"""The README's path for real: embedded emulator, apply, then an empty plan; and the same
over HTTP against a served emulator, with the saved-plan round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_embedded_emulator_apply_then_an_empty_plan(embedded_cli, quickstart: Path) -> None:
    applied = embedded_cli("apply", quickstart, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert "Apply complete" in applied.stderr
    assert (quickstart / ".itwin-access" / "emulator.db").is_file()  # beside the config
    plan = embedded_cli("plan", quickstart, "--detailed-exitcode")
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
