"""The import contracts of design.md §7 hold, and would catch a core module doing I/O."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "reconciler", tmp_path / "reconciler", symlinks=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_contracts_hold_on_the_real_tree(tree_copy: Path) -> None:
    result = _lint_imports(tree_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("diff.py", "import httpx", "The core (model, diff, plan, apply) does no I/O"),
        ("plan/build.py", "import sqlite3", "The core (model, diff, plan, apply) does no I/O"),
        ("model.py", "import yaml", "The core (model, diff, plan, apply) does no I/O"),
        ("api/__init__.py", "import reconciler.manifest", "The API layer knows nothing"),
        ("emulator/__init__.py", "import reconciler.model", "The emulator is an independent"),
        (
            "emulator/itwins/api.py",
            "import reconciler.emulator.access.roles",
            "The emulator's API packages",
        ),
        (
            "emulator/policy.py",
            "import reconciler.emulator.projects.store",
            "The emulator's shared infrastructure",
        ),
        ("render/__init__.py", "import click", "Only the CLI uses click"),
        ("model.py", "import reconciler.plan.build", "Layers"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tree_copy: Path, module: str, line: str, contract: str
) -> None:
    target = tree_copy / "reconciler" / module
    target.write_text(target.read_text() + f"\n{line}  # injected by the test\n")
    result = _lint_imports(tree_copy)
    assert result.returncode != 0
    broken = [row for row in result.stdout.splitlines() if row.endswith("BROKEN")]
    assert any(row.startswith(contract) for row in broken), result.stdout
