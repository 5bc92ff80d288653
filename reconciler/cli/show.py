"""``itwin-access show PLAN``: render a saved plan, offline.

A pull-request comment is cut at 60,000 characters; the saved plan beside it holds the whole
plan, and this prints it in full (text for a terminal, Markdown, or the JSON document). The plan
is read as ``apply --plan`` reads it: an edited file is refused.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli.apply import read_saved
from reconciler.cli.plan import _NO_COLOR, FORMATS, render, use_color_stdout


@click.command("show")
@click.argument("plan_path", metavar="PLAN", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="markdown: in full, never cut; json: the saved-plan document.",
)
@_NO_COLOR
def show_command(plan_path: Path, fmt: str, no_color: bool) -> int:
    """Print a saved plan (from `plan --out`) in full."""
    plan = read_saved(plan_path)
    text = render(plan, fmt, drift=False, color=use_color_stdout(no_color), max_chars=sys.maxsize)
    click.echo(text, nl=False)
    return 0
