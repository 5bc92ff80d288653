"""Minimal edits to a YAML file: change the entries that differ, keep every other byte.

``drift --write`` turns live state into manifest edits for a pull request, so the diff must show
only what changed. ruamel.yaml's round-trip mode keeps comments, key order, quoting and
flow/block style of the nodes it loads; ``merge`` edits those nodes in place, touching only
values that differ (lists are matched item by item by their identity: an email, a group, a
displayName, a role-set ``use``, a value). One thing ruamel cannot keep is how a long flow list
was wrapped over lines: it writes each flow list on one line. ``render`` therefore re-dumps the
file unedited as well and takes a three-way merge (merge3) of original, unedited dump and edited
dump: lines the edit did not change come from the original text, as the author wrote them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import merge3
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.util import load_yaml_guess_indent

from reconciler.export.yamlout import Flow

__all__ = ["Document", "YAMLError", "fresh", "merge", "same"]

# Keys that name a list item, in the order they are tried (manifest lists hold mappings that
# carry exactly one of them: roles, groups, members, projects, role-set includes).
_IDENTITY_KEYS = ("number", "use", "email", "group", "displayName", "name")


class Document:
    """One YAML file loaded for round-trip editing."""

    def __init__(self, text: str) -> None:
        self.text = text
        _, indent, offset = load_yaml_guess_indent(text)
        self._yaml = YAML()  # round-trip
        self._yaml.preserve_quotes = True
        self._yaml.width = 4096  # never wrap a line we write; merge3 keeps the author's wraps
        mapping = offset if offset else (indent or 2)
        self._yaml.indent(mapping=mapping, sequence=indent or 2, offset=offset or 0)
        self.data: Any = self._yaml.load(text)
        self._base = self._dump()  # the unedited dump: what ruamel would write unchanged

    def _dump(self) -> str:
        buffer = io.StringIO()
        self._yaml.dump(self.data, buffer)
        return buffer.getvalue()

    def render(self) -> str:
        """The text with the edits made to ``data``, the rest as it was written."""
        edited = self._dump()
        if edited == self._base:
            return self.text
        if self._base == self.text:
            return edited
        base = self._base.splitlines(keepends=True)
        ours = self.text.splitlines(keepends=True)
        theirs = edited.splitlines(keepends=True)
        out: list[str] = []
        regions: list[tuple[Any, ...]] = list(merge3.Merge3(base, ours, theirs).merge_regions())
        for region in regions:
            kind = region[0]
            if kind == "unchanged":
                out += base[region[1] : region[2]]
            elif kind in ("a", "same"):
                out += ours[region[1] : region[2]]
            elif kind == "b":
                out += theirs[region[1] : region[2]]
            else:  # conflict: the edit touched lines the dump reformatted; the edit wins
                out += theirs[region[5] : region[6]]
        return "".join(out)


def _norm(value: Any) -> Any:
    # Emails compare case-insensitively (the API does); everything else exactly.
    if isinstance(value, str) and "@" in value:
        return value.casefold()
    return value


def _identity(item: Any) -> tuple[str, Any] | None:
    if isinstance(item, Mapping):
        for key in _IDENTITY_KEYS:
            if key in item:
                return key, _norm(item[key])
        return None
    if isinstance(item, str | int | float | bool):
        return "value", _norm(item)
    return None


def same(old: Any, new: Any) -> bool:
    """Whether ``old`` (a loaded node) already says ``new`` (a plain value)."""
    if isinstance(new, Mapping):
        return (
            isinstance(old, Mapping)
            and set(old) == set(new)
            and all(same(old[k], new[k]) for k in new)
        )
    if isinstance(new, list):
        if not isinstance(old, list) or len(old) != len(new):
            return False
        if all(_identity(i) is not None for i in new) and not any(
            isinstance(i, Mapping) for i in new
        ):
            return sorted(map(_norm, old), key=repr) == sorted(map(_norm, new), key=repr)
        return all(same(o, n) for o, n in zip(old, new, strict=True))
    if isinstance(new, bool) or isinstance(old, bool):
        return type(new) is type(old) and old == new
    return bool(_norm(old) == _norm(new))


def fresh(value: Any) -> Any:
    """A new node for ``value``: short lists (``Flow``) in flow style, the rest block style."""
    if isinstance(value, Mapping):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = fresh(item)
        return node
    if isinstance(value, list):
        seq = CommentedSeq(fresh(item) for item in value)
        if isinstance(value, Flow):
            seq.fa.set_flow_style()
        return seq
    return value


def merge(old: Any, new: Any) -> Any:
    """``old`` edited in place to say ``new`` where it does not already (or a new node)."""
    if same(old, new):
        return old
    if isinstance(old, CommentedMap) and isinstance(new, Mapping):
        for key in [k for k in old if k not in new]:
            del old[key]
        set_keys(old, new)
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        return _merge_list(old, new)
    return fresh(new)


def set_keys(old: CommentedMap, new: Mapping[str, Any]) -> None:
    """Merge each key of ``new`` into ``old``; a new key goes after the key before it in ``new``."""
    previous: str | None = None
    for key, value in new.items():
        if key in old:
            merged = merge(old[key], value)
            if merged is not old[key]:
                old[key] = merged
        else:
            keys = list(old)
            at = keys.index(previous) + 1 if previous in keys else 0
            old.insert(at, key, fresh(value))
        previous = key


def _merge_list(old: CommentedSeq, new: Sequence[Any]) -> Any:
    wanted = [_identity(item) for item in new]
    if None in wanted or len(set(wanted)) != len(wanted):
        return fresh(new)  # no identity to match items by: replace the list
    by_identity = dict(zip(wanted, new, strict=True))
    kept: set[tuple[str, Any] | None] = set()
    for index in reversed(range(len(old))):
        identity = _identity(old[index])
        if identity not in by_identity or identity in kept:
            del old[index]
        else:
            kept.add(identity)
    for index, item in enumerate(old):
        merged = merge(item, by_identity[_identity(item)])
        if merged is not item:
            old[index] = merged
    for identity, item in zip(wanted, new, strict=True):
        if identity not in kept:
            old.append(fresh(item))
    return old
