"""Which files under a tree are manifests: the one rule that validate, plan, drift, export
``--write``, ``--changed-since`` and the pre-commit hook (which runs validate) all follow.

A manifest is a ``*.yaml``/``*.yml`` file that is not the config file (``itwin-access.yaml``)
and has no hidden part (``.pre-commit-config.yaml``, ``.github/``, ``.gitlab-ci.yml``) in its
path below the directory given. A file given by name is read as a manifest whatever its name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePath

from reconciler.errors import Problem

MANIFEST_SUFFIXES = (".yaml", ".yml")
CONFIG_FILENAMES = ("itwin-access.yaml", "itwin-access.yml")


def is_manifest(relative: PurePath) -> bool:
    """Whether a file at ``relative`` (a path below a directory given as PATH) is a manifest."""
    return (
        relative.suffix in MANIFEST_SUFFIXES
        and relative.name not in CONFIG_FILENAMES
        and not any(part.startswith(".") for part in relative.parts)
    )


def walk(root: Path) -> tuple[list[Path], list[Path]]:
    """Manifest files under the directory ``root``, sorted, and the directories that could not
    be listed."""
    found: list[Path] = []
    unreadable: list[Path] = []

    def failed(exc: OSError) -> None:
        unreadable.append(Path(exc.filename) if exc.filename else root)

    for directory, dirs, names in os.walk(root, onerror=failed):
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # hidden: not descended
        for name in names:
            path = here / name
            if is_manifest(PurePath(name)) and path.is_file():
                found.append(path)
    return sorted(found), sorted(unreadable)


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    """The manifest files under ``paths`` (files as given, directories walked), without the
    problems ``discover`` reports."""
    return discover(paths)[0]


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Manifest files under ``paths`` (files as given, directories recursively, sorted)."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for path in paths:
        if path.is_dir():
            found, unreadable = walk(path)
            for directory in unreadable:
                # os.walk skips a directory it cannot list: its manifests would silently drop
                # out of the desired state (and their projects look undeclared).
                problems.append(
                    Problem(
                        str(directory),
                        1,
                        1,
                        "",
                        "cannot read this directory (permission denied); fix its permissions "
                        "or move it out of the manifest tree",
                    )
                )
            if not found:
                problems.append(
                    Problem(
                        str(path),
                        1,
                        1,
                        "",
                        "no manifest files (*.yaml, *.yml) in this directory",
                    )
                )
            for file in found:
                add(file)
        elif path.is_file():
            add(path)
        else:
            problems.append(Problem(str(path), 1, 1, "", "no such file or directory"))
    return files, problems
