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
    return _manifest_name(relative.name) and not any(
        part.startswith(".") for part in relative.parts
    )


def _manifest_name(name: str) -> bool:
    """``is_manifest`` of a file's name alone (its directories known not to be hidden)."""
    return (
        name.endswith(MANIFEST_SUFFIXES)
        and name not in CONFIG_FILENAMES
        and not name.startswith(".")
    )


def walk(root: Path) -> tuple[list[Path], list[Path]]:
    """Manifest files under the directory ``root``, sorted, and the directories that could not
    be listed.

    ``os.walk``'s rules (a symlinked directory is not descended, a symlinked file is a file)
    with ``os.scandir``'s entries, which know a file from a directory without a ``stat`` each:
    ``os.walk``, a ``Path`` and an ``is_file()`` per name took 35 ms of 1,000 files (issue 17).
    """
    found: list[str] = []
    unreadable: list[Path] = []
    pending = [os.fspath(root)]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            unreadable.append(Path(exc.filename) if exc.filename else root)
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue  # hidden: neither a manifest nor descended
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                if not entry.is_symlink():
                    pending.append(entry.path)
            elif _manifest_name(name) and entry.is_file():
                found.append(entry.path)
    # Sorted by their parts, as ``Path``s sort ("a/b" before "a-c").
    return [Path(p) for p in sorted(found, key=_parts)], sorted(unreadable)


def _parts(path: str) -> list[str]:
    return path.split(os.sep)


def _real(path: Path, directories: dict[str, str]) -> str:
    """``path.resolve()``, resolving each directory once: a file that is no symlink is found
    at its directory's real path (``resolve`` per file was 50 ms of 1,000 files)."""
    text = os.fspath(path)
    if os.path.islink(text):
        return os.path.realpath(text)
    head, tail = os.path.split(text)
    real = directories.get(head)
    if real is None:
        real = directories[head] = os.path.realpath(head or ".")
    return os.path.join(real, tail)


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    """The manifest files under ``paths`` (files as given, directories walked), without the
    problems ``discover`` reports."""
    return discover(paths)[0]


def discover(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Manifest files under ``paths`` (files as given, directories recursively, sorted)."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    directories: dict[str, str] = {}

    def add(path: Path) -> None:
        key = _real(path, directories)
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
