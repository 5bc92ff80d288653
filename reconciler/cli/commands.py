"""Registers every subcommand on the ``itwin-access`` group.

One line per command module; a module exposes a click command named after it.
"""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    # Each command module is owned by the issue that builds it; add a line here when you add one.
    pass
