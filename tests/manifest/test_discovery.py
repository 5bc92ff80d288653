"""The one rule for which files under a tree are manifests (issue 14 item 3), shared by
validate, plan, --changed-since, drift/export --write and the pre-commit hook."""

from __future__ import annotations

import os
from pathlib import Path, PurePath, PurePosixPath

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


def _reference(paths: list[Path]) -> list[Path]:
    """The rule as written before issue 17 made it fast: os.walk, is_manifest, a resolve()
    per file to read each file once."""
    out: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        found: list[Path] = []
        if path.is_dir():
            for directory, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in names:
                    file = Path(directory) / name
                    if is_manifest(PurePath(name)) and file.is_file():
                        found.append(file)
            found.sort()
        elif path.is_file():
            found = [path]
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                out.append(file)
    return out


def test_walks_and_reads_each_file_once_as_os_walk_and_resolve_did(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    for name in (
        "a/b.yaml",
        "a-c.yaml",
        "a/z/deep.yml",
        "B.yaml",
        "x.YAML",
        "yaml",
        "notes.yaml.txt",
        ".hidden/h.yaml",
        "a/itwin-access.yml",
        "elsewhere/e.yaml",
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("projects: []\n")
    (root / "linked-dir").symlink_to(root / "elsewhere")  # not descended
    (root / "linked.yaml").symlink_to(root / "a" / "b.yaml")  # the same file: read once
    (root / "broken.yaml").symlink_to(root / "missing.yaml")
    (root / "dir.yaml").mkdir()  # a directory named like a manifest
    outside = tmp_path / "outside.yaml"
    outside.write_text("projects: []\n")
    (root / "out.yaml").symlink_to(outside)
    for paths in (
        [root],
        [root, root / "a"],
        [root / "a" / "b.yaml", root],
        [outside, root],
        [root / "a" / ".." / "a-c.yaml", root],
    ):
        files, problems = discover(paths)
        assert problems == []
        assert files == _reference(paths), paths
    names = [f.relative_to(root).as_posix() for f in discover([root])[0]]
    # Sorted by parts, as Paths sort ("a/..." before "a-c.yaml"); linked.yaml is a/b.yaml again.
    assert names == [
        "B.yaml",
        "a/b.yaml",
        "a/z/deep.yml",
        "a-c.yaml",
        "elsewhere/e.yaml",
        "out.yaml",
    ]
