"""Manifest edits that adopt live state (``drift --write DIR``).

For every project with drift, the manifest file that declares it is rewritten with that project's
entry describing the live state (``drift.adopt_project``); everything else in the file (other
projects, role sets, key order) is kept. The files are written under DIR at their path relative to
the manifest root they were read from, so ``drift --write manifests/`` edits them in place, ready
for a pull request. YAML comments inside a rewritten file are lost (PyYAML keeps none); the
leading comment block (e.g. the schema modeline) is kept.

Which projects are not adopted, and why:
- declared but missing live: adopting would delete the declaration; the entry is removed, and
  a note says so;
- declared ``state: absent`` but live: left as is (deciding to keep a project is a human call).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.config import CONFIG_FILENAMES
from reconciler.errors import ItwinAccessError
from reconciler.export.documents import RoleDef, project_mapping, role_def
from reconciler.export.drift import adopt_project, adoption_notes
from reconciler.export.yamlout import dump
from reconciler.model import Project, ProjectState, State
from reconciler.plan import Operation


@dataclass
class Adoption:
    files: dict[str, str] = field(default_factory=dict)  # path relative to DIR -> text
    notes: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)  # project numbers rewritten


def manifest_files(paths: Sequence[Path]) -> dict[Path, str]:
    """Every manifest file under ``paths`` -> its path relative to the argument naming it."""
    found: dict[Path, str] = {}
    for root in paths:
        if root.is_dir():
            # The manifest loader's rule: no config file, nothing under a hidden directory.
            for file in sorted(root.rglob("*")):
                rel = file.relative_to(root)
                if (
                    file.is_file()
                    and file.suffix in (".yaml", ".yml")
                    and file.name not in CONFIG_FILENAMES
                    and not any(part.startswith(".") for part in rel.parts)
                ):
                    found[file.resolve()] = rel.as_posix()
        else:
            found[root.resolve()] = root.name
    return found


def _load(path: Path) -> tuple[list[str], dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ItwinAccessError(
            f"{path}: cannot re-read the manifest to adopt drift: {exc}"
        ) from exc
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(line[1:].removeprefix(" "))
    if not isinstance(data, dict):
        raise ItwinAccessError(f"{path}: not a manifest mapping; cannot adopt drift into it")
    return header, data


def _role_sets(documents: Iterable[Mapping[str, Any]]) -> dict[str, list[RoleDef | None]]:
    sets: dict[str, list[RoleDef | None]] = {}
    for doc in documents:
        for name, roles in (doc.get("roleSets") or {}).items():
            defs: list[RoleDef | None] = []
            for role in roles or []:
                defs.append(
                    (
                        str(role.get("displayName")),
                        role.get("description"),
                        frozenset(role.get("permissions") or []),
                    )
                    if isinstance(role, dict)
                    else None
                )
            sets[str(name)] = defs
    return sets


def _kept_uses(
    entry: Mapping[str, Any], adopted: Project, sets: Mapping[str, list[RoleDef | None]]
) -> tuple[list[str], frozenset[RoleDef]]:
    """Role-set includes still true of the adopted roles, and the definitions they provide."""
    live = {r.display_name: role_def(r) for r in adopted.roles}
    kept: list[str] = []
    covered: set[RoleDef] = set()
    for item in entry.get("roles") or []:
        if not (isinstance(item, dict) and "use" in item):
            continue
        name = str(item["use"])
        provided = []
        for definition in sets.get(name, [None]):
            if definition is None or definition[0] not in live:
                break
            have = live[definition[0]]
            # A role set's role without description leaves the description unmanaged.
            if have[2] != definition[2] or definition[1] not in (None, have[1]):
                break
            provided.append(have)
        else:
            kept.append(name)
            covered.update(provided)
    return kept, frozenset(covered)


def _adopted_entry(
    entry: dict[str, Any], want: Project, live: Project, sets: Mapping[str, list[RoleDef | None]]
) -> dict[str, Any]:
    adopted = adopt_project(want, live)
    uses, shared = _kept_uses(entry, adopted, sets) if "roles" in want.manage else ([], frozenset())
    fresh = project_mapping(adopted, uses, shared).mapping
    out: dict[str, Any] = {}
    for key, value in entry.items():  # keep the author's key order, `manage` and unmanaged keys
        if key in fresh and key != "manage":
            out[key] = fresh[key]
        elif key in want.attributes:
            continue  # the attribute is unset live: drop it
        else:
            out[key] = value
    for key, value in fresh.items():
        if key not in out and key != "manage":
            out[key] = value
    return out


def adoption_edits(
    paths: Sequence[Path], desired: State, actual: State, operations: Iterable[Operation]
) -> Adoption:
    """The rewritten manifest files that make the drifted projects describe live state."""
    drifted = sorted({op.project for op in operations})
    result = Adoption()
    if not drifted:
        return result
    files = manifest_files(paths)
    loaded = {path: _load(path) for path in files}
    sets = _role_sets(doc for _, doc in loaded.values())
    live = {p.number: p for p in actual.projects}
    touched: set[Path] = set()
    for number in drifted:
        want = desired.project(number)
        if want is None or want.source is None:
            continue
        path = Path(want.source.file).resolve()
        if path not in loaded:
            result.notes.append(f"project {number}: declared in {want.source.file}, not adopted")
            continue
        doc = loaded[path][1]
        entries = doc.get("projects") or []
        index = next((i for i, e in enumerate(entries) if str(e.get("number")) == number), None)
        if index is None:
            continue
        have = live.get(number)
        if want.state is ProjectState.ABSENT:
            result.notes.append(
                f"project {number}: declared absent but exists live; left for you to decide"
            )
            continue
        if have is None:
            del entries[index]
            result.notes.append(
                f"project {number}: missing live; its declaration was removed from "
                f"{files[path]} (restore it to recreate the project instead)"
            )
        else:
            entries[index] = _adopted_entry(entries[index], want, have, sets)
            result.notes += adoption_notes(want, have)
        result.adopted.append(number)
        touched.add(path)
    for path in sorted(touched):
        header, doc = loaded[path]
        result.files[files[path]] = dump(doc, header)
    return result
