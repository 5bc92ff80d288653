"""``export``: write manifests that reproduce live state (design.md §6, issue 7).

``itwin-access export --out DIR (--project NUMBER... | --all) [--config FILE]`` reads the named
projects (or every project the identity can see) through the configured backend and writes one
manifest per project under ``DIR/projects/`` plus ``DIR/role-sets.yaml`` for role definitions
several projects share. Planned against the same live state, they give an empty plan. Exit 0,
or 1 on an error (one line on stderr). Notes about what no manifest can express (users deleted
from IMS) go to stderr as warnings and into the files as comments.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.session import environment, open_session, read_config
from reconciler.cli.verbose import request_logger, verbose_options
from reconciler.errors import ItwinAccessError
from reconciler.export import PROJECTS_DIR, export_state, write_files
from reconciler.export.rewrite import adoption_edits
from reconciler.manifest.build import text_problem
from reconciler.model import State
from reconciler.plan.build import Operation
from reconciler.visible import visible

if TYPE_CHECKING:
    from reconciler.cli.plan import Output

EXIT_OK = 0
MAX_NUMBER = 255  # the manifest schema's maxLength of `number`


def all_numbers(target: Any) -> list[str]:
    """Every project number the identity can see, through whichever backend (each target's
    ``all_numbers``: the iTwins one lists an organization administrator's whole organization)."""
    return sorted(str(n) for n in target.all_numbers())


def listing_warnings(target: Any, identity: str | None, count: int) -> list[str]:
    """What ``export --all`` must not keep quiet: a listing cut at the API's cap, and an empty
    one (wrong identity or scope, rather than an organization with no projects)."""
    who = identity or "the applying identity"
    scope = getattr(target, "listing_scope", "the projects it can see")
    out = []
    if getattr(target, "listing_truncated", False):
        out.append(
            f"the listing stopped at the API's cap of 10,000 iTwins (X-Max-Return): {count} "
            "project(s) exported, more may exist; export them by name with --project NUMBER"
        )
    if count == 0:
        out.append(f"no project to export: {who} sees none among {scope}")
    return out


def refused_numbers(target: Any) -> dict[str, str]:
    """The listed numbers ``export --all`` cannot export, with why: a number naming several
    iTwins (a Project and a Program) cannot be told apart (the target's ``ambiguous_numbers``)."""
    ambiguous: dict[str, list[str]] = getattr(target, "ambiguous_numbers", {})
    return {
        n: f"names {len(k)} live iTwins ({', '.join(sorted(k))}); give them distinct numbers"
        for n, k in ambiguous.items()
    }


def unexportable(number: str) -> str | None:
    """Why ``number`` cannot be the key of a valid manifest, or None."""
    if len(number) > MAX_NUMBER:
        return f"is {len(number)} characters long; a manifest takes at most {MAX_NUMBER}"
    return text_problem(number)


@click.command("export")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the manifests to (created if needed).",
)
@click.option(
    "--project",
    "projects",
    multiple=True,
    metavar="NUMBER",
    help="Export this project (repeatable).",
)
@click.option("--all", "everything", is_flag=True, help="Export every project you can see.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="itwin-access.yaml to use (default: ITWIN_ACCESS_CONFIG, else the nearest "
    "itwin-access.yaml from the current directory up to the repository root).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress on stderr (default: on a terminal)."
)
@verbose_options
def export_command(
    out_dir: Path,
    projects: tuple[str, ...],
    everything: bool,
    config_path: Path | None,
    progress: bool | None,
) -> int:
    """Write manifests that reproduce the live state of projects."""
    # Imported here: ``plan`` imports this module for ``drift --write`` (see write_adoption).
    from reconciler.cli.plan import Output, connection, read_live

    if bool(projects) == everything:
        raise click.UsageError("name projects with --project NUMBER, or export them all with --all")
    output = Output()
    config = read_config(config_path, (), environment(connection()))
    with open_session(config, connection(), request_logger(output.err)) as session:
        output.secrets = session.secrets()
        refused: dict[str, str] = {}
        if projects:
            numbers = list(dict.fromkeys(projects))
        else:
            numbers = all_numbers(session.target)
            refused = refused_numbers(session.target)
        for number in numbers:
            why = unexportable(number)
            if why is not None:
                refused[number] = why
        numbers = [n for n in numbers if n not in refused]
        actual, context = read_live(session, numbers, progress)
    missing = sorted(set(numbers) - set(actual.numbers()))
    if missing:
        who = context.identity or "the identity in use"
        raise ItwinAccessError(
            "--project " + ", ".join(missing) + f": not found live, or not visible to {who}"
        )
    result = export_state(actual)
    written = write_files(result.files, out_dir)
    warnings = list(result.warnings)
    left_out: dict[str, list[str]] = getattr(session.target, "left_out", {})
    for number in actual.numbers():
        for who in left_out.get(number, []):
            warnings.append(
                f'project {number}: member {who} holds only "Team Member" (a basic team '
                "member) and is left out: it will not be migrated; give it a role in the "
                "manifest to keep its access"
            )
    if everything:
        warnings += listing_warnings(session.target, context.identity, len(actual.projects))
    for warning in warnings:
        output.err(f"warning: {warning}")
    for number, why in sorted(refused.items()):
        output.err(f"warning: project {visible(number)!s} not exported: its number {why}")
    for stale in _stale_files(out_dir, result.files):
        output.err(
            f"warning: {stale} was not written by this export (a project not exported, or no "
            "longer live?); delete it if it is stale, or it will still be planned"
        )
    output.err(
        f"Exported {len(actual.projects)} project(s) from the {config.backend} backend to "
        f"{out_dir} ({len(written)} file(s)). Check them with: itwin-access plan {out_dir}"
        + (f" --config {config.path}" if config.path is not None else "")
        + (f"; {len(refused)} could not be exported (warnings above)" if refused else "")
    )
    return EXIT_OK


def _stale_files(out_dir: Path, files: dict[str, str]) -> list[Path]:
    """Manifests already under ``DIR/projects`` that this export did not write."""
    folder = out_dir / PROJECTS_DIR
    if not folder.is_dir():
        return []
    ours = {out_dir / rel for rel in files}
    return sorted(p for p in folder.glob("*.y*ml") if p not in ours)


# ---------------------------------------------------------------------------- drift


def write_adoption(
    output: Output,
    paths: Sequence[Path],
    desired: State,
    actual: State,
    operations: Sequence[Operation],
    write_dir: Path,
    identity: str | None = None,
) -> None:
    """``drift --write DIR``: the manifest edits that adopt live state."""
    adoption = adoption_edits(paths, desired, actual, operations, identity)
    written = write_files(adoption.files, write_dir)
    for note in adoption.notes:
        output.err(f"note: {note}")
    if written:
        output.err(
            f"Wrote {len(written)} manifest file(s) under {write_dir} adopting the live state "
            f"of {len(adoption.adopted)} project(s); review them and open a pull request."
        )
    else:
        output.err("No drift to adopt: nothing written.")
