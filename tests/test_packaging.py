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
    # a valid tree (config included) need jsonschema: the schema's gate answers (issue 17).
    probe = (
        "import sys\n"
        "from reconciler.cli import main\n"
        f"code = main(['validate', {str(ROOT / 'examples' / 'quickstart')!r}])\n"
        "heavy = ('httpx', 'starlette', 'uvicorn', 'jsonschema', 'deepdiff')\n"
        "ours = ('reconciler.api', 'reconciler.emulator', 'reconciler.render')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy or "
        "m.startswith(ours))\n"
        "print(code, loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr


def test_every_source_folder_is_a_package_the_wheel_ships() -> None:
    # `packages.find` only ships folders with an `__init__.py` (the emulator's itwins/, access/,
    # projects/ among them); a folder without one would import from a checkout but not from a wheel.
    folders = {p.parent for p in (ROOT / "reconciler").rglob("*.py")}
    assert ROOT / "reconciler" / "emulator" / "access" in folders
    assert [f for f in folders if not (f / "__init__.py").is_file()] == []


def test_the_demo_seed_ships_with_the_emulator() -> None:
    seed = resources.files("reconciler.emulator").joinpath("demo_seed.yaml")
    assert "alice@contoso.com" in seed.read_text()
