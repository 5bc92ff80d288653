"""``itwin-access validate PATH...`` and ``itwin-access schema [--config]``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from reconciler.config import load_config
from reconciler.errors import Problem, Severity
from reconciler.manifest import (
    BACKENDS,
    CONFIG_SCHEMA,
    MANIFEST_SCHEMA,
    PLAN_SCHEMA,
    LoadResult,
    load_manifests,
    schema_text,
)


def _summary(result: LoadResult) -> dict[str, int]:
    projects = result.state.projects
    return {
        "files": len(result.files),
        "projects": len(projects),
        "roles": sum(len(p.roles) for p in projects),
        "groups": sum(len(p.groups) for p in projects),
        "members": sum(len(p.members) + len(p.group_members) for p in projects),
        "owners": sum(len(p.owners) for p in projects),
    }


def _problem_dict(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "path": problem.path,
        "severity": str(problem.severity),
        "message": problem.message,
    }


@click.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one document on stdout, for machines.",
)
@click.option(
    "--backend",
    type=click.Choice(list(BACKENDS)),
    default=None,
    help="Check what this backend can express (default: from the config, else itwins).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Config file (default: ITWIN_ACCESS_CONFIG, else the nearest itwin-access.yaml from "
    "the first PATH up to the repository root).",
)
def validate(
    paths: tuple[Path, ...], fmt: str, backend: str | None, config_path: Path | None
) -> int:
    """Check manifests offline: YAML, schema and semantics. Exit 1 if anything is wrong."""
    if backend is None:
        first = paths[0]
        search_dir = first if first.is_dir() else first.parent
        backend = load_config(config_path, os.environ, search_dir).backend
    result = load_manifests(list(paths), backend=backend)
    summary = _summary(result)
    failed = bool(result.errors)
    if fmt == "json":
        document = {
            "valid": not failed,
            "backend": backend,
            "summary": summary,
            "problems": [_problem_dict(p) for p in result.problems],
        }
        click.echo(json.dumps(document, indent=2))
        return 1 if failed else 0
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if failed:
        errors = len(result.errors)
        click.echo(f"invalid: {errors} error{'s' if errors != 1 else ''}", err=True)
        return 1
    warnings = sum(1 for p in result.problems if p.severity is Severity.WARNING)
    tail = f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""
    click.echo(
        f"valid: {summary['projects']} projects, {summary['roles']} roles, "
        f"{summary['groups']} groups, {summary['members']} members, {summary['owners']} owners "
        f"in {summary['files']} files{tail}"
    )
    return 0


@click.command("schema")
@click.option("--config", "config", is_flag=True, help="Print the config file's schema instead.")
@click.option(
    "--plan", "plan", is_flag=True, help="Print the saved plan's (and --format json's) schema."
)
def schema(config: bool, plan: bool) -> int:
    """Print the manifest JSON Schema (for editors and CI)."""
    if config and plan:
        raise click.UsageError("--config and --plan: choose one")
    name = CONFIG_SCHEMA if config else PLAN_SCHEMA if plan else MANIFEST_SCHEMA
    click.echo(schema_text(name), nl=False)
    return 0
