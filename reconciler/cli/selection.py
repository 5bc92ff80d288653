"""Which declared projects a run plans (issue 17): ``--changed-since REF``, ``--exclude``,
``--shard I/N``. The CLI narrows the desired State with ``select`` before reading anything
live, so a run reads only the projects it plans.

- ``--changed-since REF`` (plan only): the projects whose manifest entry differs between the
  git commit ``REF`` and the working tree, entry by entry (a changed role set selects every
  project that uses it, and moving an entry to another file selects nothing),
  plus the projects new since ``REF``. Projects whose entry was removed since ``REF`` are named
  in the note: nothing is planned for them, since a project absent from the manifests is
  never touched (``state: absent`` deletes). Only the files git reports changed are read at
  ``REF`` (``git cat-file``) and now, as plain YAML (see ``changes``); when one does not read,
  or the config file (``itwin-access.yaml``: guards, backend, identity) changed, every project
  is planned and the note says why.
- ``--exclude PATTERN`` (repeatable): shell-style globs on project numbers (``BR-*``).
- ``--shard I/N``: the projects whose number hashes (sha256) to ``I-1`` modulo ``N``, the same
  on every machine and run, so N runners split a tenant with no overlap and no gap.

``Selection.note`` says in one line which projects were planned and why: the text plan prints
it on stderr, the Markdown plan in its header.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from reconciler.errors import ItwinAccessError
from reconciler.manifest import CONFIG_FILENAMES, is_manifest, manifest_files
from reconciler.model import Project, State

SHOWN = 20  # numbers listed in a note before "and N more"


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        parts = text.split("/")
        try:
            index, count = (int(p) for p in parts)
        except ValueError:
            index, count = 0, 0
        if len(parts) != 2 or count < 1 or not 1 <= index <= count:
            raise ItwinAccessError(
                f"--shard {text}: expected I/N with 1 <= I <= N (e.g. --shard 2/4)"
            )
        return cls(index, count)

    def holds(self, number: str) -> bool:
        digest = hashlib.sha256(number.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


@dataclass(frozen=True)
class Selection:
    desired: State
    note: str | None = None  # None: every declared project, nothing to say


def select(
    desired: State,
    *,
    change: Change | None = None,
    exclude: Sequence[str] = (),
    shard: Shard | None = None,
) -> Selection:
    """``desired`` narrowed by the options; the note names what was planned and why."""
    projects = list(desired.projects)
    total: int | None = len(projects)
    notes: list[str] = []
    if change is not None:
        if change.numbers is not None:
            total = None  # only the files of the change were loaded: no total to give
            projects = [p for p in projects if change.selects(p)]
            new = sum(1 for p in projects if p.number in change.new)
            notes.append(
                f"changed since `{change.ref}`: {len(projects) - new} changed (their entry or "
                f"a role set they use), {new} new"
            )
        else:
            notes.append(change.reason or "every project was planned")
        if change.removed:
            notes.append(
                f"removed from the manifests since `{change.ref}` (left as they are): "
                + _some(sorted(change.removed))
            )
    if exclude:
        dropped = [p.number for p in projects if any(fnmatch.fnmatchcase(p.number, g)
                                                     for g in exclude)]  # fmt: skip
        projects = [p for p in projects if p.number not in set(dropped)]
        notes.append(f"excluded by --exclude {' '.join(exclude)}: " + (_some(dropped) or "none"))
    if shard is not None:
        projects = [p for p in projects if shard.holds(p.number)]
        notes.append(f"shard {shard.index}/{shard.count} of the projects by number hash")
    if not notes:
        return Selection(desired)
    planned = [p.number for p in projects]
    of = f" of {total} declared" if total is not None else ""
    head = f"Planned {len(planned)}{of} project(s)"
    body = f": {_some(planned)}" if planned else ""
    return Selection(State(tuple(projects)), f"{head}{body}. " + "; ".join(notes) + ".")


def _some(numbers: Sequence[str]) -> str:
    more = f" and {len(numbers) - SHOWN} more" if len(numbers) > SHOWN else ""
    return ", ".join(numbers[:SHOWN]) + more


@dataclass(frozen=True)
class Change:
    """What changed in the manifests since a git commit (``changes``)."""

    ref: str
    numbers: frozenset[str] | None  # projects whose entry differs; None: unknown, plan all
    role_sets: frozenset[str] = frozenset()  # role sets whose definition differs
    new: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    files: tuple[Path, ...] | None = None  # the manifest files to load; None: every one
    reason: str | None = None  # why every project is planned, when it is

    def selects(self, project: Project) -> bool:
        if self.numbers is None or project.number in self.numbers:
            return True
        prefixes = tuple(f"roleSets.{name}[" for name in self.role_sets)
        return bool(prefixes) and any(
            r.source is not None and r.source.path.startswith(prefixes) for r in project.roles
        )


def changes(paths: Sequence[Path], ref: str) -> Change:
    """What changed under ``paths`` between the commit ``ref`` and the working tree.

    Only the manifest files git reports changed (tracked or new) are read, as plain YAML, then
    and now: a project is selected when its entry differs, and so is every project using a
    role set whose definition differs (a role from a set carries the set's location,
    ``roleSets.<name>[i]``). The files to load for the plan are then the changed ones, those
    defining role sets, and, for a changed set, those naming it: unchanged files hold no
    changed entry, so the cost is that of the change, not of the repository. (Checks across
    files, such as a number declared twice, are ``validate``'s, which CI runs on every file.)
    """
    old_projects: dict[str, object] = {}
    new_projects: dict[str, object] = {}
    old_sets: dict[str, object] = {}
    new_sets: dict[str, object] = {}
    changed_files: list[Path] = []
    for root, sha, names in _changed_files(paths, ref):
        configs = [n for n in names if Path(n).name in CONFIG_FILENAMES]
        if configs:  # guards, backend, identity: every plan may differ
            why = f"{configs[0]} changed since `{ref}`, so every project was planned"
            return Change(ref, None, reason=why)
        before = _show(root, sha, names)
        for name in names:
            current = root / name
            try:
                _entries(before.get(name), old_projects, old_sets)
                _entries(current.read_bytes() if current.is_file() else None,
                         new_projects, new_sets)  # fmt: skip
            except (yaml.YAMLError, OSError):
                why = (
                    f"{name} does not read as YAML at `{ref}` or now, so every project was planned"
                )
                return Change(ref, None, reason=why)
            if current.is_file():
                changed_files.append(current)
    numbers = {n for n in old_projects.keys() | new_projects.keys()
               if old_projects.get(n) != new_projects.get(n)}  # fmt: skip
    role_sets = {n for n in old_sets.keys() | new_sets.keys() if old_sets.get(n) != new_sets.get(n)}
    files = dict.fromkeys(changed_files)
    for file in manifest_files(paths):
        text = file.read_text(encoding="utf-8", errors="replace")
        if _ROLE_SETS.search(text) or any(
            re.search(rf"\b{re.escape(n)}\b", text) for n in role_sets
        ):
            files[file] = None
    return Change(
        ref,
        frozenset(numbers),
        frozenset(role_sets),
        new=frozenset(n for n in new_projects if n not in old_projects),
        removed=frozenset(n for n in old_projects if n not in new_projects),
        files=tuple(files),
    )


_ROLE_SETS = re.compile(r"^roleSets\s*:", re.MULTILINE)


def _entries(text: bytes | None, projects: dict[str, object], sets: dict[str, object]) -> None:
    """The raw project entries (by number) and role sets (by name) of one manifest file."""
    if text is None:
        return
    data = yaml.load(text, Loader=_Loader)  # a safe loader: CSafeLoader, else SafeLoader
    if not isinstance(data, dict):
        return
    entries = data.get("projects")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and "number" in entry:
            projects[str(entry["number"])] = entry
    role_sets = data.get("roleSets")
    if isinstance(role_sets, dict):
        sets.update({str(k): v for k, v in role_sets.items()})


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _changed_files(paths: Sequence[Path], ref: str) -> list[tuple[Path, str, list[str]]]:
    """Per PATH: (repository root, the commit ``ref`` names, the manifest files under PATH,
    relative to the root, that differ between it and the working tree, new ones included)."""
    out: list[tuple[Path, str, list[str]]] = []
    for path in paths:
        where = path.resolve()
        cwd = where if where.is_dir() else where.parent
        try:
            root = Path(_git(cwd, "rev-parse", "--show-toplevel").decode().strip())
        except ItwinAccessError:
            raise ItwinAccessError(
                f"--changed-since {ref}: {path} is not in a git repository"
            ) from None
        try:
            commit = _git(cwd, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        except ItwinAccessError:
            raise ItwinAccessError(
                f"--changed-since {ref}: no such commit in the repository of {path}; "
                "fetch it first (CI: `git fetch origin main`, then `--changed-since origin/main`)"
            ) from None
        sha = commit.decode().strip()
        rel = str(where.relative_to(root)) or "."
        changed = _git(root, "diff", "--name-only", "-z", "--no-renames", sha, "--", rel)
        fresh = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", rel)
        names = sorted(
            {n for n in (changed + fresh).decode("utf-8").split("\0")
             if _read_by_plan(PurePosixPath(n), rel, where.is_dir())}
        )  # fmt: skip
        out.append((root, sha, names))
    return out


def _read_by_plan(name: PurePosixPath, rel: str, under_dir: bool) -> bool:
    """Whether the plan reads the file git names ``name`` (relative to the repository root)
    given the PATH ``rel``: the config file (which changes every plan), or a manifest by the
    loader's rule below a directory PATH (``.github/`` and ``.pre-commit-config.yaml`` are not
    manifests), or the file PATH itself."""
    if name.name in CONFIG_FILENAMES or not under_dir:
        return True
    return is_manifest(name.relative_to(rel) if rel != "." else name)


def _show(root: Path, sha: str, names: Sequence[str]) -> dict[str, bytes]:
    """The contents of ``names`` at ``sha`` (absent: not there then), in one git process."""
    if not names:
        return {}
    request = "".join(f"{sha}:{name}\n" for name in names).encode("utf-8")
    try:
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input=request,
                              capture_output=True, check=True)  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ItwinAccessError(f"git cat-file failed in {root}: {exc}") from exc
    out: dict[str, bytes] = {}
    data, at = done.stdout, 0
    for name in names:
        end = data.index(b"\n", at)
        header = data[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            out[name] = data[at : at + size]
            at += size + 1
    return out


def _git(cwd: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except OSError as exc:
        raise ItwinAccessError(f"--changed-since needs git, which could not run: {exc}") from exc
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ItwinAccessError(
            f"git {' '.join(args[:2])} failed in {cwd}: {reason[-1] if reason else 'error'}"
        )
    return done.stdout
