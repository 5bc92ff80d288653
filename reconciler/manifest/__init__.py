"""Manifests: YAML with source locations -> schema check -> semantic checks -> ``model.State``.

Public API (other packages import only these names)::

    load_manifests(paths, backend="itwins") -> LoadResult
        Read files and directories (recursive, sorted; which files are manifests is the one
        rule of ``manifest.discovery``: ``*.yaml``/``*.yml``, neither the config file nor
        anything hidden). Never raises for
        bad input: every problem, error or warning, is in ``result.problems``, sorted, each with
        file, line, column and JSON path. ``result.state`` holds the projects that passed;
        ``result.files`` the manifest files read; ``result.errors``/``result.warnings`` split
        the problems; ``result.raise_for_errors()`` raises ``ManifestError(problems)`` if any
        error was found, and returns the state otherwise.

    discover(paths) -> (files, problems); manifest_files(paths) -> files;
    is_manifest(relative_path) -> bool; MANIFEST_SUFFIXES; CONFIG_FILENAMES
        That rule, for every command that looks for manifests (``manifest.discovery``).

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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ManifestError, Problem, Severity
from reconciler.manifest.build import BACKENDS, Builder
from reconciler.manifest.discovery import (
    CONFIG_FILENAMES,
    MANIFEST_SUFFIXES,
    discover,
    is_manifest,
    manifest_files,
)
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
    parse_bytes,
    read_bytes,
)
from reconciler.model import State

__all__ = [
    "BACKENDS",
    "CONFIG_FILENAMES",
    "CONFIG_SCHEMA",
    "KNOWN_PERMISSIONS",
    "MANIFEST_SCHEMA",
    "MANIFEST_SUFFIXES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "PLAN_SCHEMA",
    "LoadResult",
    "check_permissions",
    "discover",
    "is_manifest",
    "load_manifests",
    "load_schema",
    "load_state",
    "manifest_files",
    "schema_text",
]


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
    raws: list[bytes | None] = []
    for file in files:
        try:
            raws.append(read_bytes(file))
        except YamlProblem as exc:
            problems.append(Problem(str(file), exc.line, exc.column, exc.path, exc.message))
            raws.append(None)

    def checked(index: int) -> tuple[Document, frozenset[str]] | None:
        """The file read and checked against the schema, with the paths of its schema
        problems; None (its problem recorded) when it is not YAML we can read."""
        raw = raws[index]
        if raw is None:
            return None
        raws[index] = None  # read once: a second call finds None
        try:
            doc = parse_bytes(raw, str(files[index]))
        except YamlProblem as exc:
            problems.append(Problem(str(files[index]), exc.line, exc.column, exc.path, exc.message))
            return None
        schema_problems = validate_manifest(doc)
        problems.extend(schema_problems)
        return doc, frozenset(p.path for p in schema_problems)

    builder = Builder(backend)
    # Role sets first: any file may define one and any project in any file may use it. Only a
    # file holding the word (or a YAML escape, which could spell it) can define one; the others
    # are read once, below, and each is let go as soon as its projects are built, so the
    # documents of 1,000 files are never all held at once (issue 17: peak 203 -> 88 MiB).
    early: dict[int, tuple[Document, frozenset[str]] | None] = {}
    for index, raw in enumerate(raws):
        if raw is not None and (b"roleSets" in raw or b"\\" in raw):
            early[index] = entry = checked(index)
            if entry is not None:
                _add_role_sets(builder, *entry)
    for index in range(len(files)):
        entry = early.pop(index) if index in early else checked(index)
        if entry is not None:
            _add_projects(builder, *entry)
    builder.check_parents()
    problems += builder.problems
    state = State(projects=tuple(builder.projects.values()))
    return LoadResult(state=state, problems=sorted(problems), files=files)


def _add_role_sets(builder: Builder, doc: Document, bad: frozenset[str]) -> None:
    data = doc.data
    if isinstance(data, dict) and isinstance(data.get("roleSets"), dict) and "" not in bad:
        skip = {
            f"roleSets.{name}" for name in data["roleSets"] if _tainted(bad, f"roleSets.{name}")
        }
        builder.add_role_sets(doc, data["roleSets"], skip)


def _add_projects(builder: Builder, doc: Document, bad: frozenset[str]) -> None:
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        return
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
