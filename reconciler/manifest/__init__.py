"""Manifests: YAML with source locations -> schema check -> semantic checks -> ``model.State``.

Public API (other packages import only these names)::

    load_manifests(paths, backend="itwins") -> LoadResult
        Read files and directories (recursive, ``*.yaml``/``*.yml``, sorted; a directory's
        ``itwin-access.yaml`` config file and hidden directories are skipped). Never raises for
        bad input: every problem, error or warning, is in ``result.problems``, sorted, each with
        file, line, column and JSON path. ``result.state`` holds the projects that passed;
        ``result.files`` the manifest files read; ``result.errors``/``result.warnings`` split
        the problems; ``result.raise_for_errors()`` raises ``ManifestError(problems)`` if any
        error was found, and returns the state otherwise.

    load_state(paths, backend="itwins") -> State
        ``load_manifests(...).raise_for_errors()`` in one call.

    check_permissions(state, known) -> list[Problem]
        Plan time: each role permission outside the live permission list ``known`` is an ERROR
        at the role's source (offline, ``validate`` only warns against the shipped list).

    KNOWN_PERMISSIONS: the shipped permission list (frozenset), same as the emulator's.
    MAX_FILE_BYTES (5 MB per file), MAX_NODES (2,000,000 nodes added by aliases),
    MAX_DEPTH (64 levels): the loader's bounds.
    schema_text(name) / load_schema(name): the shipped JSON Schemas (``MANIFEST_SCHEMA``,
    ``CONFIG_SCHEMA``).

What becomes of a manifest: role sets are expanded (``use:``); emails are lower-cased; every
project, role, group, member and owner carries ``model.Source(file, line, column, path)`` (a role
from a role set carries the location of its definition in ``roleSets``). A section (roles,
groups, members, owners) is in ``Project.manage`` when its key is present or it is named in
``manage``, with the mode from ``manage`` (default authoritative); other sections are absent from
``Project.manage`` and so not managed. Project attributes declared (from
``model.PROJECT_ATTRIBUTES``) go into ``Project.attributes`` under their manifest names. A role
without ``description`` has ``description=None`` (not managed).
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ManifestError, Problem, Severity
from reconciler.manifest.build import BACKENDS, Builder
from reconciler.manifest.document import Document
from reconciler.manifest.permissions import KNOWN_PERMISSIONS
from reconciler.manifest.permissions import check_permissions as _check_permissions
from reconciler.manifest.schema import (
    CONFIG_SCHEMA,
    MANIFEST_SCHEMA,
    PLAN_SCHEMA,
    load_schema,
    schema_text,
    validate_manifest,
)
from reconciler.manifest.yamlsource import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    YamlProblem,
    read_document,
)
from reconciler.model import State

__all__ = [
    "BACKENDS",
    "CONFIG_FILENAMES",
    "CONFIG_SCHEMA",
    "KNOWN_PERMISSIONS",
    "MANIFEST_SCHEMA",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "PLAN_SCHEMA",
    "LoadResult",
    "check_permissions",
    "discover",
    "load_manifests",
    "load_schema",
    "load_state",
    "schema_text",
]

CONFIG_FILENAMES = ("itwin-access.yaml", "itwin-access.yml")
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadResult:
    state: State
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def raise_for_errors(self) -> State:
        """The state, or ``ManifestError`` carrying every problem when there is an error."""
        if self.errors:
            raise ManifestError(self.problems)
        return self.state


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
            found, unreadable = _walk(path)
            for directory in unreadable:
                # rglob skips a directory it cannot list: its manifests would silently drop out
                # of the desired state (and their projects look undeclared).
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


def _walk(root: Path) -> tuple[list[Path], list[Path]]:
    """Manifest files under ``root`` (hidden parts and config files left out), sorted, and the
    directories that could not be listed."""
    found: list[Path] = []
    unreadable: list[Path] = []

    def failed(exc: OSError) -> None:
        unreadable.append(Path(exc.filename) if exc.filename else root)

    for directory, dirs, names in os.walk(root, onerror=failed):
        here = Path(directory)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            p = here / name
            if (
                p.suffix in _SUFFIXES
                and not name.startswith(".")
                and name not in CONFIG_FILENAMES
                and p.is_file()
            ):
                found.append(p)
    return sorted(found), sorted(unreadable)


def load_manifests(paths: Sequence[Path], backend: str = "itwins") -> LoadResult:
    """Read, check and expand manifests; see the module docstring."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    # Loading allocates millions of long-lived, acyclic objects (nodes, values, model objects);
    # the cyclic GC would rescan them over and over (measured: more than half the time of the
    # 1,000 x 100 benchmark). Nothing here creates garbage cycles worth collecting meanwhile.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(paths, backend)
    finally:
        if enabled:
            gc.enable()


def _load(paths: Sequence[Path], backend: str) -> LoadResult:
    files, problems = discover(paths)
    docs: list[tuple[Document, frozenset[str]]] = []
    for file in files:
        try:
            doc = read_document(file)
        except YamlProblem as exc:
            problems.append(Problem(str(file), exc.line, exc.column, exc.path, exc.message))
            continue
        schema_problems = validate_manifest(doc)
        problems += schema_problems
        docs.append((doc, frozenset(p.path for p in schema_problems)))

    builder = Builder(backend)
    # Role sets first: any file may define one and any project in any file may use it.
    for doc, bad in docs:
        data = doc.data
        if isinstance(data, dict) and isinstance(data.get("roleSets"), dict) and "" not in bad:
            skip = {
                f"roleSets.{name}" for name in data["roleSets"] if _tainted(bad, f"roleSets.{name}")
            }
            builder.add_role_sets(doc, data["roleSets"], skip)
    for doc, bad in docs:
        data = doc.data
        if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
            continue
        projects = data["projects"]
        for index, project in enumerate(projects):
            prefix = f"projects[{index}]"
            if not _tainted(bad, prefix):
                builder.add_project(doc, projects, index)
            elif (
                isinstance(project, dict)
                and isinstance(project.get("number"), str)
                and not _tainted(bad, f"{prefix}.number")
            ):
                # Schema errors inside: check the rest of the project without the keys that
                # have them, so every problem is reported in one run.
                dirty = {key for key in project if _tainted(bad, f"{prefix}.{key}")}
                clean = {key: value for key, value in project.items() if key not in dirty}
                doc.alias(clean, project)
                builder.add_project(doc, projects, index, data=clean, unchecked=dirty)
    builder.check_parents()
    problems += builder.problems
    state = State(projects=tuple(builder.projects.values()))
    return LoadResult(state=state, problems=sorted(problems), files=files)


def _tainted(bad: frozenset[str], prefix: str) -> bool:
    """Whether any schema problem lies at or under ``prefix`` (then semantic checks skip it)."""
    return prefix in _under(bad)


@functools.lru_cache(maxsize=8)
def _under(bad: frozenset[str]) -> frozenset[str]:
    """Every path at or above a problem's path: one set lookup per question instead of a scan
    of every problem (20,000 unknown keys made that quadratic, issue 12)."""
    out: set[str] = set()
    for path in bad:
        out.add(path)
        for i, char in enumerate(path):
            if char in ".[":
                out.add(path[:i])
    return frozenset(out)


def load_state(paths: Sequence[Path], backend: str = "itwins") -> State:
    return load_manifests(paths, backend).raise_for_errors()


def check_permissions(state: State, known: frozenset[str]) -> list[Problem]:
    """Plan time: role permissions outside the live list are errors (see module docstring)."""
    return _check_permissions(state.projects, known)
