"""Where every subcommand of ``itwin-access`` lives.

Commands are imported only when invoked (click's lazy-group pattern): ``validate`` then never
pays for httpx, starlette and uvicorn, which only the commands that talk to an API need.
Add a command with one line in ``COMMANDS``: its name, module and attribute.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("reconciler.cli.validate", "validate"),  # issue 4
    "schema": ("reconciler.cli.validate", "schema"),  # issue 4
    "plan": ("reconciler.cli.plan", "plan_command"),  # issue 5
    "drift": ("reconciler.cli.plan", "drift_command"),  # issue 5
    "apply": ("reconciler.cli.apply", "apply_command"),  # issue 6
    "export": ("reconciler.cli.export", "export_command"),  # issue 7
    "emulator": ("reconciler.cli.emulator", "emulator"),  # issue 3
    "show": ("reconciler.cli.show", "show_command"),  # issue 13
}


def load(name: str) -> click.Command:
    module, attribute = COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)


def register(group: click.Group) -> None:
    """Attach every command now (tests that drive ``cli`` through CliRunner with ``obj``)."""
    for name in COMMANDS:
        group.add_command(load(name), name)
