"""Safe YAML reading that keeps the file, line and column of every node.

PyYAML's ``safe_load`` forgets where things were and silently keeps the last of two equal keys.
Here a document is *composed* (nodes with marks, no object construction, so no unsafe tags can
run) and converted by hand into plain JSON-like values, remembering positions per container.

Bounds, so a hostile or broken file costs one error line and not the machine:

- ``MAX_FILE_BYTES`` (5 MB) per file, checked before reading it whole;
- ``MAX_NODES`` (2,000,000): the nodes that aliases add when expanded (the document itself is
  bounded by the file size). Aliases are converted once and shared; the expanded size of an
  aliased node is computed once in linear time, so a "billion laughs" file is refused before
  anything walks it;
- ``MAX_DEPTH`` (64) levels of nesting. libyaml's composer recurses in C and crashes the process
  (not a RecursionError) past roughly 10,000 levels, so files whose nesting *might* be deep
  (a cheap upper bound from the text) are composed by the pure-Python composer instead, whose
  recursion is caught.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from reconciler.manifest import fastyaml
from reconciler.manifest.document import Document, PathPart, json_path
from reconciler.manifest.document import pos as _pos

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 2_000_000
MAX_DEPTH = 64
# Past this upper bound on nesting, compose with the pure-Python loader (see module docstring).
_C_COMPOSER_SAFE_DEPTH = 4000

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_CONSTRUCTOR = yaml.SafeLoader("")  # only its scalar constructors are used (int, float, bool...)


class YamlProblem(Exception):
    """A file cannot be read as YAML; ``line``/``column`` are 1-based, ``path`` a JSON path."""

    def __init__(self, message: str, line: int = 1, column: int = 1, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.path = path


def read_document(path: Path, display: str | None = None) -> Document:
    """Read one manifest file; raises YamlProblem with a position and what to do."""
    return parse_bytes(read_bytes(path), display or str(path))


def read_bytes(path: Path) -> bytes:
    """A manifest file's bytes (at most ``MAX_FILE_BYTES``); raises YamlProblem."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            limit = MAX_FILE_BYTES // 1024 // 1024
            raise YamlProblem(
                f"file is {size / 1024 / 1024:.1f} MB, over the {limit} MB limit per manifest; "
                "split it into several files"
            )
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise YamlProblem(f"cannot read file: {exc.strerror or exc}") from exc
    if len(raw) > MAX_FILE_BYTES:  # grew while we looked, or a special file
        raise YamlProblem(
            f"file is over the {MAX_FILE_BYTES // 1024 // 1024} MB limit per manifest"
        )
    return raw


def parse_bytes(raw: bytes, name: str) -> Document:
    text = _decode(raw)
    fast = fastyaml.parse(text, name)  # plain block YAML: no nodes (see fastyaml)
    if fast is not None:
        return fast
    node = _compose(text)
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        raise YamlProblem("file is empty; add `projects:` or `roleSets:`, or delete it")
    return _Converter(name).document(node)


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise YamlProblem("file is UTF-16; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlProblem(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
            line,
            column,
        ) from exc


def _depth_bound(text: str) -> int:
    # Sound, cheap upper bound on nesting: every flow level needs a bracket; block levels need
    # indentation or an indicator on the line, so they are bounded by the longest line.
    longest = max((len(line) for line in text.split("\n")), default=0)
    return text.count("[") + text.count("{") + 2 * longest + 4


# First characters of plain scalars that some implicit resolver (bool, int, float, null, merge,
# value, timestamp) might claim; anything else is a string.
_RESOLVER_CHARS = frozenset(
    ch for ch in yaml.SafeLoader.yaml_implicit_resolvers if ch is not None and ch != ""
)


if getattr(yaml, "__with_libyaml__", False):

    class _FastCLoader(yaml.CSafeLoader):
        """libyaml's loader with a shortcut for the commonest plain scalars (plain text)."""

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if (
                kind is yaml.ScalarNode
                and implicit[0]
                and value
                and value[0] not in _RESOLVER_CHARS
            ):
                return _STR
            tag: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            return tag


def _compose(text: str) -> yaml.Node | None:
    loader_cls: type[Any] = yaml.SafeLoader
    if getattr(yaml, "__with_libyaml__", False) and _depth_bound(text) < _C_COMPOSER_SAFE_DEPTH:
        loader_cls = _FastCLoader
    loader = loader_cls(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    except yaml.MarkedYAMLError as exc:
        raise _yaml_problem(exc, text) from exc
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        raise YamlProblem(
            f"control character U+{code:04X} is not allowed in YAML; remove it", line, column
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}") from exc
    except RecursionError as exc:
        raise YamlProblem(f"nested too deeply (the limit is {MAX_DEPTH} levels)") from exc
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    problem = exc.problem or "invalid YAML"
    context = f" {exc.context}" if exc.context else ""
    lines = text.split("\n", line)
    at = lines[line - 1][column - 1 : column] if len(lines) >= line else ""
    if at == "\t" or "'\\t'" in problem:
        message = "tab character; YAML indentation must use spaces, not tabs"
    elif "expected a single document" in context or "expected a single document" in problem:
        message = "more than one YAML document (`---`); put each document in its own file"
    elif "found undefined alias" in context or "found undefined alias" in problem:
        message = f"invalid YAML: {problem} (an alias `*name` needs an anchor `&name` before it)"
    else:
        message = f"invalid YAML: {problem}{context}".rstrip()
    return YamlProblem(message, line, column)


class _Converter:
    """Nodes -> plain values; duplicate keys, the alias budget and cycles checked.

    A node met a second time is an alias: its value is shared, and its expanded size (computed
    once per node, linear in the graph) is added to the budget, so "billion laughs" is refused
    after a few thousand steps instead of being walked.
    """

    def __init__(self, name: str) -> None:
        self.doc = Document(file=name, data=None)
        self.values: dict[int, Any] = {}  # id(container node) -> converted value
        self.sizes: dict[int, int] = {}  # id(node) -> size as expanded through aliases
        self.active: set[int] = set()  # containers being converted: a repeat is a cycle
        self.total = 0  # nodes added by expanding aliases (a consumer walks them all)

    def document(self, node: yaml.Node) -> Document:
        self.doc.root = _pos(node)
        self.doc.data = self.convert(node, [], 0)
        return self.doc

    def convert(self, node: yaml.Node, path: list[PathPart], depth: int) -> Any:
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _STR:
                return node.value
            return self.scalar(node, path)
        key = id(node)
        if key in self.values:
            self.total += self.size(node)
            self.check_budget(node, path)
            return self.values[key]
        if key in self.active:
            line, column = _pos(node)
            raise YamlProblem("recursive alias (refers to itself)", line, column, json_path(path))
        if depth > MAX_DEPTH:
            line, column = _pos(node)
            where = json_path(path[:4]) + ("..." if len(path) > 4 else "")
            raise YamlProblem(f"nested more than {MAX_DEPTH} levels deep", line, column, where)
        self.active.add(key)
        if isinstance(node, yaml.SequenceNode):
            value: Any = self.sequence(node, path, depth)
        elif isinstance(node, yaml.MappingNode):
            value = self.mapping(node, path, depth)
        else:  # pragma: no cover - PyYAML has no other node kind
            raise YamlProblem("unsupported YAML node", *_pos(node))
        self.active.discard(key)
        self.values[key] = value
        return value

    def size(self, node: yaml.Node) -> int:
        """Nodes under ``node`` with aliases expanded (memoized; only called for aliases)."""
        key = id(node)
        known = self.sizes.get(key)
        if known is not None:
            return known
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(self.size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(1 + self.size(v) for _, v in node.value)
        else:
            total = 1
        self.sizes[key] = total
        return total

    def check_budget(self, node: yaml.Node, path: list[PathPart]) -> None:
        if self.total > MAX_NODES:
            line, column = _pos(node)
            raise YamlProblem(
                f"aliases expand to more than {MAX_NODES:,} nodes (an alias bomb?); "
                "write the data out or use fewer aliases",
                line,
                column,
                json_path(path),
            )

    def scalar(self, node: yaml.ScalarNode, path: list[PathPart]) -> Any:
        tag = node.tag
        if tag == _TIMESTAMP:
            # YAML 1.1 turns 2024-01-31 into a date; a manifest means the text.
            return node.value
        constructor = _CONSTRUCTOR.yaml_constructors.get(tag)
        if constructor is None or tag == "tag:yaml.org,2002:binary":
            line, column = _pos(node)
            raise YamlProblem(_tag_message(tag), line, column, json_path(path))
        try:
            return constructor(_CONSTRUCTOR, node)
        except (yaml.YAMLError, ValueError) as exc:
            line, column = _pos(node)
            raise YamlProblem(f"invalid {tag} value", line, column, json_path(path)) from exc

    def sequence(self, node: yaml.SequenceNode, path: list[PathPart], depth: int) -> list[Any]:
        if node.tag != "tag:yaml.org,2002:seq":
            line, column = _pos(node)
            raise YamlProblem(_tag_message(node.tag), line, column, json_path(path))
        items: list[Any] = []
        append = items.append
        for index, child in enumerate(node.value):
            if child.tag == _STR and isinstance(child, yaml.ScalarNode):  # the common case
                append(child.value)
                continue
            path.append(index)
            append(self.convert(child, path, depth + 1))
            path.pop()
        self.doc._seqs[id(items)] = node.value
        return items

    def mapping(self, node: yaml.MappingNode, path: list[PathPart], depth: int) -> dict[str, Any]:
        if node.tag != "tag:yaml.org,2002:map":
            line, column = _pos(node)
            raise YamlProblem(_tag_message(node.tag), line, column, json_path(path))
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                line, column = _pos(key_node)
                raise YamlProblem(
                    "a mapping key must be a plain string", line, column, json_path(path)
                )
            if key_node.tag == _MERGE:
                line, column = _pos(key_node)
                raise YamlProblem(
                    "merge keys (`<<`) are not supported; share roles with `roleSets` and `use`",
                    line,
                    column,
                    json_path(path),
                )
            name = str(key_node.value)
            if name in result:
                line, column = _pos(key_node)
                first = next(_pos(k) for k, _ in node.value if k.value == name)
                raise YamlProblem(
                    f"duplicate key '{name}' (first at line {first[0]}, column {first[1]}); "
                    "YAML would silently keep only the last one",
                    line,
                    column,
                    json_path([*path, name]),
                )
            if value_node.tag == _STR and isinstance(value_node, yaml.ScalarNode):
                result[name] = value_node.value
                continue
            path.append(name)
            result[name] = self.convert(value_node, path, depth + 1)
            path.pop()
        self.doc._maps[id(result)] = node
        return result


def _tag_message(tag: str) -> str:
    short = tag.replace("tag:yaml.org,2002:", "!!")
    return f"unsupported YAML tag '{short}'; manifests hold plain data only: remove the tag"
