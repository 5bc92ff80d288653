"""``main()``: what a person or a CI script sees for bad input, through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "no-such-dir", "--detailed-exitcode"],
        ["drift", "no-such-dir"],
        ["plan", ".", "--format", "xml"],
        ["plan", ".", "--fromat", "markdown"],
        ["apply", "--plan", "no-such-plan.json"],
        ["export"],
        ["nope"],
    ],
)
def test_a_usage_error_is_one_line_and_exit_1_never_2(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # 2 means "changes" (plan --detailed-exitcode) and "drift": a typo must not read as that.
    assert main(args) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in captured.err


def test_a_usage_error_points_at_the_command_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", ".", "--format", "xml"]) == 1
    assert "(see `itwin-access plan --help`)" in capsys.readouterr().err


def test_help_still_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["plan", "--help"]) == 0
    assert "Usage: itwin-access plan" in capsys.readouterr().out


def test_manifest_errors_are_listed_once_then_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text("projects:\n  - number: X\n    bad: 1\n  - number: Y\n    worse: 2\n")
    assert main(["plan", str(manifest)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert [line.split(": ")[0] for line in lines[:2]] == [f"{manifest}:3:5", f"{manifest}:5:5"]
    assert lines[2].startswith("Error: 2 errors in the manifests (listed above)")
    assert len(lines) == 3  # each problem once, then the count: not the first one again


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ("plan", "2 changes (with --detailed-exitcode), 3 blocked by a guard, 1 error"),
        ("drift", "Exit codes: 0 no drift, 2 drift, 1 error."),
        ("apply", "4 partly applied (run apply again to finish)"),
    ],
)
def test_help_states_the_exit_codes(
    command: str, codes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    assert codes in " ".join(capsys.readouterr().out.split())


def test_apply_help_tells_that_apply_progress_is_always_shown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["apply", "--help"]) == 0
    assert "applying, always" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("args", [[], ["emulator"]])
def test_no_command_shows_the_help_not_an_error(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("Usage: itwin-access")
    assert "Commands:" in err
    assert "Error" not in err
