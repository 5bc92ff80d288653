"""The pre-commit hook (``.pre-commit-hooks.yaml``) works in a manifest repository: pre-commit
installs the tool from this repository (``language: python``) and the hook validates the whole
tree, so a project that uses a role set defined in another file passes while a real error fails,
naming its file and line. Runs ``pre-commit try-repo`` for real; only pip reaches the network."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

ROLE_SETS = """\
# Shared role definitions (this comment and the hook config must not be read as manifests).
roleSets:
  standard:
    - displayName: Viewer
      permissions: [itwins_read]
"""

PROJECT = """\
projects:
  - number: BR-2030-001
    displayName: Bridge
    roles:
      - use: standard
    members:
      - email: dana@contoso.com
        roles: [{role}]
"""

HOOK_CONFIG = """\
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: itwin-access-validate
"""


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def _tool_repo(tmp_path: Path, env: dict[str, str]) -> tuple[Path, str]:
    """This repository's installable files committed into a fresh git repository (so the test
    sees the working tree, and does not depend on how the checkout was made)."""
    repo = tmp_path / "tool"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.db")
    for name in ("reconciler", "schemas"):
        shutil.copytree(ROOT / name, repo / name, symlinks=True, ignore=ignore)
    _git(repo, "init", "-q", env=env)
    _git(repo, "add", "-A", env=env)
    _git(repo, "commit", "-q", "-m", "tool", env=env)
    return repo, _git(repo, "rev-parse", "HEAD", env=env)


def test_try_repo_validates_the_whole_tree_from_the_repository_root(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "NO_COLOR": "1",
    }
    tool, rev = _tool_repo(tmp_path, env)
    manifests = tmp_path / "manifests"
    (manifests / "projects").mkdir(parents=True)
    (manifests / "role-sets.yaml").write_text(ROLE_SETS)
    (manifests / "projects" / "bridge.yaml").write_text(PROJECT.format(role="Viewer"))
    # The deliberate error, in a file pre-commit is not told about: a role the project lacks.
    (manifests / "projects" / "tunnel.yaml").write_text(
        PROJECT.format(role="Editor").replace("BR-2030-001", "TN-2030-002")
    )
    (manifests / "itwin-access.yaml").write_text("api: emulator\n")
    (manifests / ".pre-commit-config.yaml").write_text(HOOK_CONFIG.format(repo=tool, rev=rev))
    _git(manifests, "init", "-q", env=env)
    _git(manifests, "add", "-A", env=env)
    _git(manifests, "commit", "-q", "-m", "manifests", env=env)

    # Only bridge.yaml changed: a hook that validated the changed files alone would report
    # "unknown role set" for it and miss tunnel.yaml. One install (about 30 s) for both checks.
    result = subprocess.run(
        [
            str(PRE_COMMIT),
            *("try-repo", str(tool), "itwin-access-validate", "--ref", rev),
            *("--files", "projects/bridge.yaml"),
        ],
        cwd=manifests,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "itwin-access validate...." in out
    assert "Failed" in out
    problems = [line for line in out.splitlines() if line.startswith("projects/")]
    assert problems == [
        "projects/tunnel.yaml:8:17: projects[0].members[0].roles[0]: role 'Editor' is not a role "
        "of this project (roles: Viewer)"
    ]
    assert "invalid: 1 error" in out  # bridge.yaml's `use: standard` resolved across files
    assert "pre-commit-config" not in out  # neither config file is taken for a manifest
    assert "itwin-access.yaml" not in out
