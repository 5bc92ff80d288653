"""``itwin-access show PLAN``: render a saved plan, offline.

A pull-request comment is cut at 60,000 characters; the saved plan beside it holds the whole
plan, and this prints it in full (text for a terminal, Markdown, or the JSON document). The plan
is read as ``apply --plan`` reads it: an edited file is refused. The access impact is computed
again from the live facts the plan stores, with the ``policies.domains`` of the config found by
the usual rule (``--config``, ``ITWIN_ACCESS_CONFIG``, the nearest ``itwin-access.yaml``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli.apply import read_saved
from reconciler.cli.common import (
    FORMATS,
    config_option,
    load_setup,
    no_color_option,
    use_color_stdout,
)
from reconciler.cli.plan import render
from reconciler.facts import project_from_facts
from reconciler.impact import compute_impact
from reconciler.model import State


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
@config_option
@no_color_option
def show_command(plan_path: Path, fmt: str, config_path: Path | None, no_color: bool) -> int:
    """Print a saved plan (from `plan --out`) in full."""
    plan = read_saved(plan_path)
    config = load_setup(config_path, ())
    actual = State(tuple(project_from_facts(f) for f in plan.live.values() if f is not None))
    impact = compute_impact(plan.operations, actual, config.policies.domains)
    color = use_color_stdout(no_color)
    text = render(plan, fmt, drift=False, color=color, max_chars=sys.maxsize, impact=impact)
    click.echo(text, nl=False)
    return 0
