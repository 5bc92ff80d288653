"""The one rule for which files under a tree are manifests (issue 14 item 3), shared by
validate, plan, --changed-since, drift/export --write and the pre-commit hook."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from reconciler.export.rewrite import manifest_files as rewrite_files
from reconciler.manifest import discover, is_manifest


def test_the_rule() -> None:
    assert is_manifest(PurePosixPath("a.yaml"))
    assert is_manifest(PurePosixPath("team/b.yml"))
    assert not is_manifest(PurePosixPath("itwin-access.yaml"))
    assert not is_manifest(PurePosixPath("team/itwin-access.yml"))
    assert not is_manifest(PurePosixPath(".pre-commit-config.yaml"))
    assert not is_manifest(PurePosixPath(".github/workflows/plan.yml"))
    assert not is_manifest(PurePosixPath("notes.md"))


def test_the_loader_and_drift_write_find_the_same_files(tmp_path: Path) -> None:
    for name in (
        "a.yaml",
        "team/b.yml",
        "itwin-access.yaml",
        ".pre-commit-config.yaml",
        ".github/workflows/plan.yml",
        "team/.hidden.yaml",
        "README.md",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("projects: []\n")
    files, problems = discover([tmp_path])
    assert problems == []
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a.yaml", "team/b.yml"]
    assert sorted(rewrite_files([tmp_path]).values()) == ["a.yaml", "team/b.yml"]
