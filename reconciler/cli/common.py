"""What the commands share: exit codes, the options several take, the scrubbing writers,
the injected connection, and reading config and live state.

Kept apart from the commands so that each imports this and none imports another's module for
it (``plan`` and ``export`` used to import each other).
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from reconciler.cli.session import Connection, Session, environment, read_config
from reconciler.cli.terminal import Progress, use_color
from reconciler.config import Config
from reconciler.model import LiveContext, State
from reconciler.redact import redact

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2
EXIT_BLOCKED = 3
EXIT_PARTIAL = 4

# Reading more projects than this draws a progress bar (on a terminal, or with --progress).
PROGRESS_MINIMUM = 6

FORMATS = ("text", "markdown", "json")


@dataclass
class Output:
    """stdout/stderr writers that never let a secret of the session through."""

    secrets: tuple[str, ...] = ()

    def scrub(self, text: str) -> str:
        return redact(text, self.secrets)

    def out(self, text: str, nl: bool = True) -> None:
        click.echo(self.scrub(text), nl=nl)

    def err(self, text: str) -> None:
        click.echo(self.scrub(text), err=True)


def connection() -> Connection | None:
    """The HTTP connection injected by tests as the click context object, if any."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return obj if isinstance(obj, Connection) else None


def load_setup(config_path: Path | None, paths: Sequence[Path]) -> Config:
    return read_config(config_path, tuple(paths), environment(connection()))


def read_live(
    session: Session,
    numbers: Sequence[str],
    progress: bool | None,
    sections: Mapping[str, Sequence[str]] | None = None,
    deleting: Sequence[str] = (),
) -> tuple[State, LiveContext]:
    """Read ``numbers`` live; ``sections`` (number -> managed sections) reads only those."""
    bar = Progress("Reading projects", enabled=progress, minimum=PROGRESS_MINIMUM)
    try:
        read = session.target.read(list(numbers), bar, sections, deleting)
    finally:
        bar.close()
    keep_for_the_run()
    return read


def keep_for_the_run() -> None:
    """Everything made so far (the manifests' state, the live state read) lives until the
    command ends: take it out of the cyclic GC's generations, so that each later collection
    does not rescan it all (issue 17: 1,000 projects of 50 members are millions of objects).
    Given back to the GC when the command's context closes (a test process runs many)."""
    gc.freeze()
    ctx = click.get_current_context(silent=True)
    if ctx is not None and not ctx.meta.get(_FROZEN):
        ctx.meta[_FROZEN] = True
        ctx.call_on_close(gc.unfreeze)


_FROZEN = "itwin-access.gc-frozen"


def use_color_stdout(no_color: bool) -> bool:
    # sys.stdout at call time: what click.echo writes to (CliRunner swaps it in tests).
    return use_color(sys.stdout, no_color)


paths_argument = click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="itwin-access.yaml to use (default: ITWIN_ACCESS_CONFIG, else the nearest "
    "itwin-access.yaml from the first PATH up to the repository root).",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="markdown: a pull-request comment; json: the saved-plan document.",
)
project_option = click.option(
    "--project", "projects", multiple=True, metavar="NUMBER", help="Only this project (repeatable)."
)
no_color_option = click.option("--no-color", is_flag=True, help="No ANSI colour (also: NO_COLOR).")
# Selecting projects (issue 17; reconciler/cli/selection.py).
changed_since_option = click.option(
    "--changed-since",
    "changed_since",
    metavar="REF",
    help="Plan only the projects whose manifest entries changed since git REF (and those "
    "using a changed role set).",
)
exclude_option = click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="NUMBER",
    help="Leave out projects whose number matches this glob (repeatable).",
)
shard_option = click.option(
    "--shard",
    "shard",
    metavar="I/N",
    help="Only shard I of N of the projects, split by a stable hash of their number.",
)
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress on stderr (default: only on a terminal).",
)
