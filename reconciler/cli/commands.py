"""Registers every subcommand on the ``itwin-access`` group.

One line per command module; a module exposes a click command named after it.
"""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    # Each command module is owned by the issue that builds it; add a line here when you add one.
    from reconciler.cli import validate as validate_module  # validate + schema (issue 4)

    group.add_command(validate_module.validate)
    group.add_command(validate_module.schema)
    from reconciler.cli import apply as apply_module  # apply (issue 6)
    from reconciler.cli import plan as plan_module  # plan + drift (issue 5)

    group.add_command(plan_module.plan_command)
    group.add_command(plan_module.drift_command)
    group.add_command(apply_module.apply_command)
    from reconciler.cli import export as export_module  # export (issue 7)

    group.add_command(export_module.export_command)
    from reconciler.cli import emulator as emulator_module  # emulator serve (issue 3)

    group.add_command(emulator_module.emulator)
    pass
