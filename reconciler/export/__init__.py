"""Export: live state to manifests that reproduce it.

``export_state(state)`` turns a live ``State`` (as a target reads it) into manifest files: one per
project under ``projects/``, ``role-sets.yaml`` when role definitions are shared, and the manifest
schema (``manifest.schema.json``) that every file's editor modeline points at. Loaded by
the manifest loader and planned against the same live state, they give an empty plan (the
round-trip property the tests check). ``write_files`` puts them on disk.

Pure apart from ``write_files``: the text is computed in memory, so it can be tested and diffed.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ItwinAccessError
from reconciler.export.documents import project_mapping, role_mapping
from reconciler.export.files import SCHEMA_FILE, modeline, project_file_names, schema_text
from reconciler.export.rolesets import RoleSet, extract
from reconciler.export.yamlout import dump
from reconciler.model import Role, State

ROLE_SETS_FILE = "role-sets.yaml"
PROJECTS_DIR = "projects"

__all__ = ["PROJECTS_DIR", "ROLE_SETS_FILE", "Export", "export_state", "write_files"]


@dataclass
class Export:
    """Manifest files (relative POSIX path -> text) and notes about what was left out."""

    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def export_state(state: State, numbers: Iterable[str] | None = None) -> Export:
    """Manifests reproducing ``state`` (or only the projects ``numbers``)."""
    wanted = None if numbers is None else set(numbers)
    projects = [p for p in state.projects if wanted is None or p.number in wanted]
    role_sets = extract(p for p in projects if "roles" in p.manage)
    result = Export()
    names = project_file_names([p.number for p in projects])
    for project in projects:
        refs = [rs for rs in role_sets if project.number in rs.projects]
        shared = frozenset(d for rs in refs for d in rs.roles)
        doc = project_mapping(project, [rs.name for rs in refs], shared)
        path = f"{PROJECTS_DIR}/{names[project.number]}"
        header = [modeline(depth=1), f"Exported from live state: project {project.number}."]
        if doc.notes:
            header += ["", *doc.notes]
            result.warnings += [f"{path}: project {project.number}: {n}" for n in doc.notes]
        result.files[path] = dump({"projects": [doc.mapping]}, header)
    if role_sets:
        result.files[ROLE_SETS_FILE] = _role_sets_text(role_sets)
    if result.files:
        result.files[SCHEMA_FILE] = schema_text()
    return result


def _role_sets_text(role_sets: list[RoleSet]) -> str:
    body: Mapping[str, object] = {
        "roleSets": {
            rs.name: [role_mapping(Role(n, d, p)) for n, d, p in rs.roles] for rs in role_sets
        }
    }
    header = [
        modeline(),
        "Role definitions that several exported projects share identically.",
        "Each set is used by its projects with `- use: NAME` in their `roles`.",
    ]
    return dump(body, header)


def write_files(files: Mapping[str, str], out_dir: Path) -> list[Path]:
    """Write ``files`` under ``out_dir`` (created as needed); returns the paths written.

    Never through a symlink: a link already inside ``out_dir`` (a folder or a file) could
    point anywhere, so every folder below ``out_dir`` must be a real one and every file is
    opened with O_NOFOLLOW; a path that would leave ``out_dir`` is refused."""
    written = []
    try:
        if files:
            out_dir.mkdir(parents=True, exist_ok=True)
        for rel, text in sorted(files.items()):
            parts = Path(rel).parts
            if Path(rel).is_absolute() or ".." in parts or not parts:
                raise ItwinAccessError(f"refusing to write {rel!r}: it is not inside {out_dir}")
            folder = out_dir
            for part in parts[:-1]:
                folder = folder / part
                if folder.is_symlink():
                    raise ItwinAccessError(
                        f"refusing to write under {folder}: it is a symbolic link (remove it)"
                    )
                folder.mkdir(exist_ok=True)
            path = folder / parts[-1]
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
            try:
                fd = os.open(path, flags, 0o644)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise ItwinAccessError(
                        f"refusing to write {path}: it is a symbolic link (remove it)"
                    ) from None
                raise
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            written.append(path)
    except OSError as exc:
        raise ItwinAccessError(
            f"cannot write manifests under {out_dir}: {exc.strerror or exc}"
        ) from exc
    return written
