"""Manifest edits that adopt live state (``drift --write DIR``), as minimal edits.

For every project with drift, the manifest file that declares it is edited so that the project's
entry describes the live state (``drift.adopt_project``), changing only the entries that differ:
comments, key order, quoting, flow/block style and ``use:`` role-set references survive
(``reconciler.export.roundtrip``). A role set whose definition differs from the live roles of a
project using it is edited in its own file, not expanded into the project. The applying identity
(a service application owns the iTwins it creates) is never written as an owner. The files are
written under DIR at their path relative to the manifest root they were read from, so
``drift --write manifests/`` edits them in place, ready for a pull request.

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

from reconciler.errors import ItwinAccessError
from reconciler.export.documents import RoleDef, project_mapping, role_def
from reconciler.export.drift import adopt_project, adoption_notes
from reconciler.export.roundtrip import Document, YAMLError, merge, set_keys
from reconciler.export.yamlout import Flow
from reconciler.manifest import manifest_files as manifest_files_under
from reconciler.model import Project, ProjectState, State
from reconciler.plan.build import Operation

# libyaml's loader where PyYAML was built with it: reading every file is the slow part.
_FastLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
            for file in manifest_files_under([root]):  # the loader's rule (manifest.discovery)
                found[file.resolve()] = file.relative_to(root).as_posix()
        else:
            found[root.resolve()] = root.name
    return found


def _load(path: Path) -> Document:
    try:
        document = Document(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ItwinAccessError(
            f"{path}: cannot re-read the manifest to adopt drift: {exc}"
        ) from exc
    if document.data is None or not isinstance(document.data, dict):
        raise ItwinAccessError(f"{path}: not a manifest mapping; cannot adopt drift into it")
    return document


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


class _Tree:
    """The manifest files: read fast (PyYAML) to find role sets and who uses them, and loaded for
    round-trip editing (ruamel.yaml, several times slower) only when one is edited."""

    def __init__(self, files: Mapping[Path, str]) -> None:
        self.files = files
        self.plain = {path: _plain(path) for path in files}
        self.documents: dict[Path, Document] = {}
        self.set_files = {
            str(name): path
            for path, data in self.plain.items()
            for name in (data.get("roleSets") or {})
        }

    def document(self, path: Path) -> Document:
        if path not in self.documents:
            self.documents[path] = _load(path)
        return self.documents[path]

    def users_of(self, name: str) -> list[str]:
        users = []
        for data in self.plain.values():
            for entry in data.get("projects") or []:
                roles = entry.get("roles") or [] if isinstance(entry, dict) else []
                if any(isinstance(r, dict) and r.get("use") == name for r in roles):
                    users.append(str(entry.get("number")))
        return users


def _plain(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_FastLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ItwinAccessError(
            f"{path}: cannot re-read the manifest to adopt drift: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise ItwinAccessError(f"{path}: not a manifest mapping; cannot adopt drift into it")
    return data


def _adopt_role_sets(
    entry: Mapping[str, Any],
    adopted: Project,
    sets: dict[str, list[RoleDef | None]],
    tree: _Tree,
    result: Adoption,
) -> set[Path]:
    """Edit each role set the entry uses to say this project's live roles; the files touched."""
    live = {r.display_name: role_def(r) for r in adopted.roles}
    touched: set[Path] = set()
    for item in entry.get("roles") or []:
        if not (isinstance(item, dict) and "use" in item):
            continue
        name = str(item["use"])
        path = tree.set_files.get(name)
        definitions = sets.get(name)
        if path is None or definitions is None or None in definitions:
            continue
        if all(d is not None and _provided(d, live) for d in definitions):
            continue
        new_roles: list[dict[str, Any]] = []
        new_defs: list[RoleDef | None] = []
        for definition in definitions:
            assert definition is not None
            have = live.get(definition[0])
            if have is None:
                continue  # deleted live: the role set no longer provides it
            role: dict[str, Any] = {"displayName": have[0]}
            if definition[1] is not None and have[1] is not None:
                role["description"] = have[1]
            role["permissions"] = Flow(sorted(have[2]))
            new_roles.append(role)
            new_defs.append((have[0], role.get("description"), have[2]))
        role_sets = tree.document(path).data["roleSets"]
        merged = merge(role_sets[name], new_roles)
        if merged is not role_sets[name]:
            role_sets[name] = merged
        sets[name] = new_defs
        touched.add(path)
        others = [n for n in tree.users_of(name) if n != adopted.number]
        if others:
            result.notes.append(
                f"role set {name!r} edited to match project {adopted.number}'s live roles; "
                f"also used by {len(others)} other project(s) ({', '.join(others[:5])}"
                f"{', ...' if len(others) > 5 else ''}), whose plans will show the change"
            )
    return touched


def _provided(definition: RoleDef, live: Mapping[str, RoleDef]) -> bool:
    have = live.get(definition[0])
    # A role set's role without description leaves the description unmanaged.
    return have is not None and have[2] == definition[2] and definition[1] in (None, have[1])


def _adopt_entry(
    entry: Any,
    want: Project,
    adopted: Project,
    sets: Mapping[str, list[RoleDef | None]],
) -> None:
    uses, shared = _kept_uses(entry, adopted, sets) if "roles" in want.manage else ([], frozenset())
    fresh = project_mapping(adopted, uses, shared).mapping
    fresh.pop("manage", None)  # the author's `manage` stays as written
    for key in [k for k in entry if k in want.attributes and k not in fresh]:
        del entry[key]  # the attribute is unset live
    set_keys(entry, fresh)


def adoption_edits(
    paths: Sequence[Path],
    desired: State,
    actual: State,
    operations: Iterable[Operation],
    identity: str | None = None,
) -> Adoption:
    """The edited manifest files that make the drifted projects describe live state.

    ``identity`` (an email) is the applying identity: never adopted as an owner.
    """
    drifted = sorted({op.project for op in operations})
    result = Adoption()
    if not drifted:
        return result
    files = manifest_files(paths)
    tree = _Tree(files)
    sets = _role_sets(tree.plain.values())
    live = {p.number: p for p in actual.projects}
    me = identity.casefold() if identity else None
    touched: set[Path] = set()
    for number in drifted:
        want = desired.project(number)
        if want is None or want.source is None:
            continue
        path = Path(want.source.file).resolve()
        if path not in files:
            result.notes.append(f"project {number}: declared in {want.source.file}, not adopted")
            continue
        entries = tree.document(path).data.get("projects") or []
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
            adopted = adopt_project(want, have)
            if me is not None:
                owners = tuple(o for o in adopted.owners if (o.email or "").casefold() != me)
                adopted = adopted.evolve(owners=owners)
            if "roles" in want.manage:
                touched |= _adopt_role_sets(entries[index], adopted, sets, tree, result)
            _adopt_entry(entries[index], want, adopted, sets)
            result.notes += adoption_notes(want, have)
        result.adopted.append(number)
        touched.add(path)
    for path in sorted(touched):
        document = tree.document(path)
        text = document.render()
        if text != document.text:
            result.files[files[path]] = text
    return result
