"""Deterministic YAML text for exported manifests.

PyYAML's safe dumper already quotes every string that would read back as something else
("yes", "0012", "1.5", "null"), so what the manifest loader reads is what export wrote. We only
add: short lists (permissions, role names) in flow style, block lists indented under their key,
and header comments (the schema modeline and notes about what was left out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from reconciler.visible import visible


class Flow(list[Any]):
    """A list written in flow style: ``[a, b, c]``."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent block sequences under their mapping key, as people write them by hand.
        super().increase_indent(flow, False)


def _represent_flow(dumper: yaml.SafeDumper, data: Flow) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)


_Dumper.add_representer(Flow, _represent_flow)


def dump(document: Mapping[str, Any], comments: Iterable[str] = ()) -> str:
    """``document`` as YAML text, preceded by one ``# ...`` line per comment."""
    body = yaml.dump(
        dict(document),
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    # A comment line holds live text (a project number): a newline, ESC or NUL in it must not
    # end the comment and inject YAML, so it is written escaped (visible).
    header = "".join(f"# {visible(line)}\n" if line else "#\n" for line in comments)
    return header + body
