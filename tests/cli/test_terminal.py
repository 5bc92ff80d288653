"""Terminal habits: colour only on a TTY and never with NO_COLOR or --no-color; progress only
when reading more than a handful of projects, on a TTY or when asked; journal lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reconciler.cli.terminal import Journal, Progress, use_color


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty(), no_color_flag=False)
    assert not use_color(io.StringIO(), no_color_flag=False)
    assert not use_color(Tty(), no_color_flag=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty(), no_color_flag=False)
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: present but empty does not count
    assert use_color(Tty(), no_color_flag=False)


def test_progress_draws_only_when_enabled_and_past_the_minimum(
    capsys: pytest.CaptureFixture[str],
) -> None:
    quiet = Progress("Reading", enabled=False)
    quiet(1, 100)
    small = Progress("Reading", enabled=True, minimum=6)
    small(1, 5)
    assert capsys.readouterr().err == ""
    shown = Progress("Reading", enabled=True, minimum=6)
    for done in range(0, 21):
        shown(done, 20)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "Reading: 0/20"
    assert lines[-1] == "Reading: 20/20"
    assert len(lines) == 11  # one per 10 % off a terminal


def test_journal_appends_one_flushed_json_line_per_row(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"earlier": true}\n')
    journal = Journal(path)
    journal.write({"id": "P/add_member/a", "status": "applied", "code": None})
    # Flushed already: another reader sees the line before the journal is closed.
    assert json.loads(path.read_text().splitlines()[1])["id"] == "P/add_member/a"
    journal.close()
    assert len(path.read_text().splitlines()) == 2


def test_plan_progress_on_stderr_only_when_asked(run, tmp_path: Path) -> None:
    manifest = tmp_path / "many.yaml"
    manifest.write_text(
        "projects:\n" + "".join(f"  - {{number: M-{i}, displayName: M {i}}}\n" for i in range(8))
    )
    (tmp_path / "itwin-access.yaml").write_text("api: http://testserver\n")
    assert run("apply", manifest, "--auto-approve").code == 0  # read progress counts live ones
    quiet = run("plan", manifest)
    assert "Reading projects" not in quiet.stderr
    asked = run("plan", manifest, "--progress")
    assert "Reading projects: 0/" in asked.stderr
    assert "Reading projects" not in asked.stdout
    assert asked.stdout == quiet.stdout
