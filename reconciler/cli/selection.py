"""Which declared projects a run plans (issue 17): ``--changed-since REF``, ``--exclude``,
``--shard I/N``. The CLI narrows the desired State with ``select`` before reading anything
live, so a run reads only the projects it plans.

- ``--changed-since REF`` (plan only): the projects whose manifest entry differs between the
  git commit ``REF`` and the working tree, compared as expanded models (so a changed role set
  selects every project that uses it, and moving an entry to another file selects nothing),
  plus the projects new since ``REF``. Projects whose entry was removed since ``REF`` are named
  in the note: nothing is planned for them, since a project absent from the manifests is
  never touched (``state: absent`` deletes). The manifests at ``REF`` come from ``git show``,
  read with the same loader; when they do not load, every project is planned and the note
  says why.
- ``--exclude PATTERN`` (repeatable): shell-style globs on project numbers (``BR-*``).
- ``--shard I/N``: the projects whose number hashes (sha256) to ``I-1`` modulo ``N``, the same
  on every machine and run, so N runners split a tenant with no overlap and no gap.

``Selection.note`` says in one line which projects were planned and why: the text plan prints
it on stderr, the Markdown plan in its header.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import ItwinAccessError
from reconciler.manifest import load_manifests
from reconciler.model import State

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
    paths: Sequence[Path],
    backend: str,
    *,
    changed_since: str | None = None,
    exclude: Sequence[str] = (),
    shard: Shard | None = None,
) -> Selection:
    """``desired`` narrowed by the options; the note names what was planned and why."""
    projects = list(desired.projects)
    total = len(projects)
    notes: list[str] = []
    if changed_since is not None:
        changed, removed, why = _changed(desired, paths, backend, changed_since)
        if changed is not None:
            projects = [p for p in projects if p.number in changed]
        notes.append(why)
        if removed:
            notes.append(
                f"removed from the manifests since `{changed_since}` (left as they are): "
                + _some(sorted(removed))
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
    head = f"Planned {len(planned)} of {total} declared project(s)"
    body = f": {_some(planned)}" if planned else ""
    return Selection(State(tuple(projects)), f"{head}{body}. " + "; ".join(notes) + ".")


def _some(numbers: Sequence[str]) -> str:
    more = f" and {len(numbers) - SHOWN} more" if len(numbers) > SHOWN else ""
    return ", ".join(numbers[:SHOWN]) + more


def _changed(
    desired: State, paths: Sequence[Path], backend: str, ref: str
) -> tuple[set[str] | None, set[str], str]:
    """(numbers to plan or None for all, numbers removed since ref, the reason)."""
    with tempfile.TemporaryDirectory(prefix="itwin-access-") as tmp:
        old_paths = _checkout(paths, ref, Path(tmp))
        result = load_manifests(old_paths, backend=backend) if old_paths else None
        if result is not None and result.errors:
            return None, set(), (
                f"the manifests at `{ref}` do not load ({len(result.errors)} error(s)), "
                "so every project was planned"
            )  # fmt: skip
        old = {p.number: p for p in result.state.projects} if result is not None else {}
    changed = {p.number for p in desired.projects if old.get(p.number) != p}
    new = {n for n in changed if n not in old}
    removed = set(old) - set(desired.numbers())
    why = (
        f"changed since `{ref}`: {len(changed) - len(new)} changed (their entry or a role set "
        f"they use), {len(new)} new"
    )
    return changed, removed, why


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


def _checkout(paths: Sequence[Path], ref: str, into: Path) -> list[Path]:
    """The manifest files of ``paths`` as they were at ``ref``, written under ``into``
    (same relative layout); the copies of the paths that existed then."""
    out: list[Path] = []
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
        rel = where.relative_to(root)
        # One `git archive` for the whole tree: a `git show` per file costs seconds at 1,000.
        listed = _git(root, "ls-tree", "--name-only", sha, "--", str(rel) or ".")
        if listed.strip():
            archive = _git(root, "archive", "--format=tar", sha, "--", str(rel) or ".")
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                for member in tar.getmembers():
                    if member.isfile() and _inside(into, member.name):
                        source = tar.extractfile(member)
                        if source is not None:
                            target = into / member.name
                            target.parent.mkdir(parents=True, exist_ok=True)
                            target.write_bytes(source.read())
        copy = into / rel
        if copy.exists():
            out.append(copy)
    return out


def _inside(root: Path, name: str) -> bool:
    """A tar member name that stays under ``root`` (git writes none other; be sure)."""
    return (root / name).resolve().is_relative_to(root.resolve())
