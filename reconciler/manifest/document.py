"""A parsed manifest document and where each of its parts was written.

``Document.data`` holds plain JSON-like values; positions are looked up lazily from the composed
YAML nodes kept per container (keyed by the container's ``id``; the containers live as long as
``data``), so loading pays nothing per node for locations nobody asks about.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

Pos = tuple[int, int]  # 1-based line, column
# A mapping entry's key line and column, then its value's: one flat tuple, not a pair of Pos
# (fastyaml writes one per key; three tuples each were 200,000 more objects for 100,000 members).
Entry = tuple[int, int, int, int]
PathPart = str | int


@dataclass
class Document:
    """One parsed file: its data (JSON-like values) and where every part of it was written.

    Positions are looked up lazily from the composed nodes kept per container (keyed by the
    container's ``id``; the containers live as long as ``data``), so loading pays nothing per
    node for locations nobody asks about.
    """

    file: str
    data: Any
    root: Pos = (1, 1)
    # Per container: the composed node (yamlsource), or positions already worked out
    # (fastyaml: a mapping's key -> ``Entry``, a sequence's item positions).
    _maps: dict[int, yaml.MappingNode | dict[str, Entry]] = field(default_factory=dict, repr=False)
    _seqs: dict[int, list[yaml.Node] | list[Pos]] = field(default_factory=dict, repr=False)

    _index: dict[int, dict[str, Entry]] = field(default_factory=dict, repr=False)
    # fastyaml's documents leave mappings' positions out (a third of reading 100,000 members,
    # for positions only an error shows): this reads the same text again with them, once.
    entries_from: Callable[[], Document | None] | None = field(default=None, repr=False)

    def _entries(self, container: object) -> Any:
        """The node or key -> ``Entry`` of a mapping of ``data``; None when unknown."""
        node = self._maps.get(id(container))
        if node is None and self.entries_from is not None:
            self._fill_entries(self.entries_from())
            node = self._maps.get(id(container))
        return node

    def _fill_entries(self, full: Document | None) -> None:
        """Take the mappings' positions from ``full``, the same text read with them: walk both
        documents side by side (the same shape: the same text, the same reader)."""
        self.entries_from = None
        if full is None:
            return
        pairs: list[tuple[Any, Any]] = [(self.data, full.data)]
        while pairs:
            mine, theirs = pairs.pop()
            if isinstance(mine, dict) and isinstance(theirs, dict):
                node = full._maps.get(id(theirs))
                if node is not None:
                    self._maps.setdefault(id(mine), node)
                pairs.extend((value, theirs.get(key)) for key, value in mine.items())
            elif isinstance(mine, list) and isinstance(theirs, list):
                pairs.extend(zip(mine, theirs, strict=False))

    def _entry(self, container: object, name: str) -> tuple[Pos, Pos] | None:
        """(position of the key, position of the value) of ``container[name]``."""
        # Indexed once per mapping: a scan per lookup made a file of 40,000 role sets or
        # 20,000 unknown keys quadratic (issue 12). The first of a repeated key wins, as before.
        index = self._index.get(id(container))
        if index is None:
            node = self._entries(container)
            if node is None:
                return None
            if isinstance(node, dict):
                index = node
            else:
                index = {}
                for key_node, value_node in node.value:
                    if isinstance(key_node.value, str):
                        index.setdefault(key_node.value, (*pos(key_node), *pos(value_node)))
            self._index[id(container)] = index
        entry = index.get(name)
        return None if entry is None else ((entry[0], entry[1]), (entry[2], entry[3]))

    def locate(self, path: tuple[PathPart, ...], key: bool = False) -> Pos:
        """Position of the value at ``path`` (of its key when ``key``); the nearest known parent
        position when the path does not exist (e.g. a missing required key)."""
        here = self.root
        node = self.data
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                entry = self._entry(node, part)
                if entry is None:
                    return here
                here = entry[0] if (key and last) else entry[1]
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                seq = self._seqs.get(id(node))
                if seq is None:
                    return here
                here = _place(seq[part])
                node = node[part]
            else:
                return here
        return here

    def alias(self, copy: dict[str, Any], original: dict[str, Any]) -> None:
        """Let ``copy`` (a filtered copy of a mapping of ``data``) share its positions."""
        node = self._entries(original)
        if node is not None:
            self._maps[id(copy)] = node

    def child(self, container: object, part: PathPart) -> Pos:
        """Position of ``container[part]``, for containers taken from ``data``."""
        if isinstance(part, int):
            seq = self._seqs.get(id(container))
            if seq is not None and 0 <= part < len(seq):
                return _place(seq[part])
        else:
            entry = self._entry(container, part)
            if entry is not None:
                return entry[1]
        return self.root

    def places(self, container: list[Any]) -> list[Pos]:
        """Position of each item of a sequence taken from ``data`` (the root's when unknown)."""
        seq = self._seqs.get(id(container))
        if seq is None:
            return [self.root] * len(container)
        if seq and isinstance(seq[0], tuple):  # fastyaml's, already positions
            return seq
        return [_place(item) for item in seq]

    def key(self, container: object, name: str) -> Pos:
        """Position of the key ``name`` of a mapping taken from ``data``."""
        entry = self._entry(container, name)
        return entry[0] if entry is not None else self.root


def _place(item: yaml.Node | Pos) -> Pos:
    return item if isinstance(item, tuple) else pos(item)


def json_path(path: tuple[PathPart, ...] | list[PathPart]) -> str:
    """``("projects", 0, "members")`` -> ``projects[0].members``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += f".{part}"
        else:
            out = part
    return out


def pos(node: yaml.Node) -> Pos:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)


# difflib compares the word with every choice; past this many choices only those sharing the
# word's first letter are compared, so 1,000 misspelt roles against 1,000 roles stay fast.
_FULL_SCAN = 64


@functools.lru_cache(maxsize=64)
def _choices(choices: frozenset[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    by_lower = {choice.lower(): choice for choice in sorted(choices, reverse=True)}
    by_first: dict[str, list[str]] = {}
    for lower in sorted(by_lower):
        by_first.setdefault(lower[:1], []).append(lower)
    return by_lower, by_first


def suggest(word: str, choices: list[str] | tuple[str, ...] | set[str] | frozenset[str]) -> str:
    """``; did you mean 'x'?`` or ``""``: a case-insensitive match first, then difflib's."""
    by_lower, by_first = _choices(frozenset(choices))
    lower = word.lower()
    if lower in by_lower:
        return f"; did you mean '{by_lower[lower]}'?"
    pool = sorted(by_lower) if len(by_lower) <= _FULL_SCAN else by_first.get(lower[:1], [])
    if len(pool) > _FULL_SCAN:  # still many: compare only names of a similar length
        pool = [c for c in pool if abs(len(c) - len(lower)) <= max(2, len(lower) // 3)]
    match = difflib.get_close_matches(lower, pool, n=1, cutoff=0.6)
    return f"; did you mean '{by_lower[match[0]]}'?" if match else ""
