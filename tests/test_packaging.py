"""The command is installed under both names and every shipped schema loads."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

EXE = Path(sys.executable).with_name("itwin-access")
ROOT = Path(__file__).resolve().parent.parent


def test_console_script_prints_help() -> None:
    result = subprocess.run([str(EXE), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "Usage: itwin-access" in result.stdout


def test_python_dash_m_prints_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "Usage: itwin-access" in result.stdout


def test_unknown_command_is_one_line_and_exit_1() -> None:
    result = subprocess.run([str(EXE), "nope"], capture_output=True, text=True, check=False)
    assert result.returncode == 1  # 2 means "changes" for plan and drift (design.md §6)
    assert "Traceback" not in result.stderr
    assert "No such command" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_console_script_leaves_at_once_with_all_its_output_and_its_exit_code(
    tmp_path: Path,
) -> None:
    # `run` ends the process with os._exit after `main` (no teardown): whatever was written must
    # still all come out, past a pipe's buffer (64 KiB), and the exit code be the command's.
    members = "".join(
        f"      - email: not-an-email-{i}\n        roles: [Viewer]\n" for i in range(800)
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "projects:\n  - number: P-1\n    roles:\n      - displayName: Viewer\n"
        f"    members:\n{members}"
    )
    result = subprocess.run(
        [str(EXE), "validate", "--format", "json", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert len(result.stdout) > 65536
    document = json.loads(result.stdout)
    assert len(document["problems"]) == 800
    good = tmp_path / "good.yaml"
    good.write_text("projects:\n  - number: P-2\n")
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(good)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "valid: 1 projects, 0 roles, 0 groups, 0 members, 0 owners in 1 files",
    ), result.stderr


def test_every_shipped_schema_is_valid_json() -> None:
    schemas = [
        p
        for p in resources.files("reconciler").joinpath("_schemas").iterdir()
        if p.name.endswith(".json")
    ]
    assert {s.name for s in schemas} >= {
        "manifest.schema.json",
        "config.schema.json",
        "plan.schema.json",
    }
    for schema in schemas:
        assert isinstance(json.loads(schema.read_text()), dict), schema.name


def test_validate_does_not_import_the_http_stack(tmp_path: Path) -> None:
    # Commands are loaded lazily: the offline `validate` (a pre-commit hook) stays fast. Nor does
    # a valid tree (config included) need jsonschema: the schema's gate answers, nor the planner:
    # the config's thresholds and policy rules are values of reconciler.plan.settings (issue 17).
    probe = (
        "import sys\n"
        "from reconciler.cli import main\n"
        f"code = main(['validate', {str(ROOT / 'examples' / 'quickstart')!r}])\n"
        "heavy = ('httpx', 'starlette', 'uvicorn', 'jsonschema', 'deepdiff')\n"
        "ours = ('reconciler.api', 'reconciler.emulator', 'reconciler.render', "
        "'reconciler.policies', 'reconciler.effective', 'reconciler.plan.guards', "
        "'reconciler.plan.operations')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy or "
        "m.startswith(ours))\n"
        "print(code, loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr


def test_plan_and_apply_import_deepdiff_only_to_recheck_a_saved_plan(tmp_path: Path) -> None:
    # Issue 17: deepdiff (asyncio and more with it) cost every plan and apply a tenth of a
    # second at start; only the recheck of a saved plan compares facts with it.
    probe = (
        "import sys\n"
        "import reconciler.cli.apply, reconciler.cli.plan\n"
        "print(sorted(m for m in ('deepdiff', 'asyncio') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


def test_every_source_folder_is_a_package_the_wheel_ships() -> None:
    # `packages.find` only ships folders with an `__init__.py` (the emulator's itwins/, access/,
    # projects/ among them); a folder without one would import from a checkout but not from a wheel.
    folders = {p.parent for p in (ROOT / "reconciler").rglob("*.py")}
    assert ROOT / "reconciler" / "emulator" / "access" in folders
    assert [f for f in folders if not (f / "__init__.py").is_file()] == []


def test_the_demo_seed_ships_with_the_emulator() -> None:
    seed = resources.files("reconciler.emulator").joinpath("demo_seed.yaml")
    assert "alice@contoso.com" in seed.read_text()
