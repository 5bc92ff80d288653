"""A reader for the plain block YAML that manifests are written in, without YAML nodes.

Composing nodes with libyaml through PyYAML (a Python object and callbacks per node) and then
converting them was half of ``validate``'s time on 1,000 projects x 100 members (issue 17).
Reading the same files here takes 0.87 s of CPU instead of 2.42 s (block style, as
``benchmarks/validate.py`` writes them), 0.68 s instead of 1.20 s for 1,000 x 50 members
written one flow mapping a line (``benchmarks/common.py``); minimum of three runs each, the
same busy machine for both readers. The commonest lines (``key: value``, ``- key: value``,
``- {...}``) are read by one regex match (``_SIMPLE``) rather than step by step.

``parse(text, name)`` returns the ``Document`` that ``yamlsource`` would return, the same values
at the same lines and columns, or ``None`` whenever the text holds anything outside the subset
below; the caller then reads it with libyaml, which also words every error. So this module never
reports a problem: a file that is wrong in any way (duplicate keys, tabs, bad indentation...)
falls through to the full reader and its messages.

The subset: block mappings and sequences (a sequence may sit at its key's indentation), a
mapping starting on a ``- `` line; plain scalars on one line (resolved as YAML 1.1 does: ``yes``
is true, ``10`` an integer, a date stays text), ``'single'`` and ``"double"`` quoted scalars
without escapes, one-line flow sequences of plain scalars (``[a, b]``) and one-line flow
mappings of those (``{email: a@b.c, roles: [Viewer]}``); full-line and trailing comments. Not
in it (left to libyaml): anchors, aliases, tags, block scalars (``|``, ``>``), nested flow
mappings, multi-line scalars, empty values, quoted keys, ``---``, tabs, CR line ends, and the
characters libyaml refuses or reads as line breaks (NEL, LS, PS). Other non-ASCII text is read
(``Zoë``): libyaml counts columns in characters, as Python's ``str`` does.
tests/manifest/test_fastyaml.py checks that both readers agree on generated documents.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from reconciler.manifest.document import Document, Entry, Pos

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_RESOLVERS = yaml.SafeLoader.yaml_implicit_resolvers
_CONSTRUCTOR = yaml.SafeLoader("")  # only its scalar constructors are used (int, float, bool...)
_CONSTRUCTED = frozenset(
    ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
)
# A plain scalar may not start with these (YAML's indicators; '-', '?', ':' are left out too,
# although YAML allows them before a non-space: rare in manifests).
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# A value starting with one of these may be more than its text (a flow, a quote, 10, yes, ~).
_NOT_PLAIN_TEXT = _INDICATORS | frozenset(_RESOLVERS)
_MAX_DEPTH = 64  # deeper documents go to yamlsource, which reports them
_FLOW_REFUSED = re.compile(r"[\[\]{}:'\"#]")
_FLOW_MAPPING_REFUSED = re.compile(r"[{}'\"#]|\[[^\]]*\[")
_FLOW_KEY_REFUSED = re.compile(r"[\[\],:]")
# ``key: value``, ``- key: value`` or ``- {...}`` (groups: indent, dash, key, value, flow
# mapping): a key of letters and digits, one space after the colon, a value that starts and ends
# with a non-space, no '#' anywhere.
_SIMPLE = re.compile(r"( *)(- )?(?:([A-Za-z][A-Za-z0-9]*): (\S(?:[^#]*\S)?)|(\{[^#]*\}))").fullmatch
# Tabs, CRs, what libyaml refuses (characters outside YAML's printable set) and what it reads
# as a line break where Python's split does not (NEL, LS, PS); a BOM, which it treats apart.
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
# Printable ASCII and the line feed: the bytes an ASCII text may hold without _CONTROL finding one.
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def _controlled(text: str) -> bool:
    """Whether ``text`` holds a character of _CONTROL. An ASCII text (Python knows at once) is
    checked as bytes, deleting the allowed ones: _CONTROL's search, a class test per character,
    was a tenth of the reading time."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _PLAIN_ASCII))
    return _CONTROL.search(text) is not None


class _Outside(Exception):
    """The text is outside the subset: read it with libyaml instead."""


def parse(text: str, name: str, entries: bool = False) -> Document | None:
    """The document, or None when the text is outside the subset (see module docstring).

    Where a mapping's keys and values were written is recorded only with ``entries``: the
    document otherwise reads the text again, with them, the first time one is asked for (an
    error's position; see ``Document.entries_from``). Sequence items' positions are always
    recorded: every member, owner and project keeps where it was declared.
    """
    if _controlled(text):
        return None
    doc = Document(file=name, data=None)
    try:
        root = _read(text, doc, entries)
    except _Outside:
        return None
    if root is None:
        return None
    if not entries:
        doc.entries_from = lambda: parse(text, name, entries=True)
    return doc


def _read(text: str, doc: Document, entries: bool) -> Any:
    """One pass over the lines with a stack of the open blocks (see module docstring).

    Without ``entries``, a mapping's positions (key -> ``Entry``) are not written: they were a
    third of the reading time of 100,000 members, for positions only an error ever shows.
    """
    maps = doc._maps
    seqs = doc._seqs
    # Open blocks, innermost last: [indent, container, its positions (a mapping's key ->
    # Entry, a sequence's item positions)].
    stack: list[list[Any]] = []
    # A key or dash with nothing after it: the next line opens its block.
    # (container, key or None for a sequence item, key position, indent of the key or dash)
    pending: tuple[Any, str | None, Pos, int] | None = None
    root: Any = None
    keys: set[str] = set()  # keys already found to be plain scalars
    lines = text.split("\n")
    count = len(lines)
    number = 0  # of the line being read (1-based), and the index of the next one
    while number < count:
        raw = lines[number]
        number += 1
        # The commonest lines first (``key: value`` in the open mapping, ``- key: value`` or
        # ``- {flow mapping}`` in the open sequence, a key already seen, no comment): one regex
        # match instead of the steps below, which they would take to the same end. Anything
        # else goes on below.
        simple = _SIMPLE(raw) if pending is None and stack else None
        if simple is not None:
            spaces, dashed, key, value, flow = simple.groups()
            indent = len(spaces)
            top = stack[-1]
            if key is None:
                ok = False
                if dashed is not None:
                    while top[0] > indent and len(stack) > 1:
                        stack.pop()  # as below: the blocks this line is outside of end here
                        top = stack[-1]
                    if top[0] == indent and type(top[1]) is list:
                        top[1].append(_flow_mapping(flow, number, indent + 3, doc, entries))
                        top[2].append((number, indent + 3))
                        if len(stack) < _MAX_DEPTH:  # the items below may open blocks
                            number, item = _items(
                                lines, number, indent, top, None, keys, doc, entries
                            )
                            if item is not None:
                                stack.append(item)
                        continue
            elif key not in keys:
                ok = False
            elif dashed is None:
                ok = top[0] == indent and type(top[1]) is dict
                column = indent + 1
            else:
                while top[0] > indent and len(stack) > 1:
                    stack.pop()
                    top = stack[-1]
                ok = top[0] == indent and type(top[1]) is list and len(stack) < _MAX_DEPTH
                column = indent + 3
                if ok:
                    block: Any = {}
                    top[1].append(block)
                    top[2].append((number, column))
                    if entries:
                        places: Any = {}
                        maps[id(block)] = places
                    else:
                        places = None
                    top = [indent + 2, block, places]
                    stack.append(top)
            if ok:
                if key in top[1]:
                    raise _Outside  # a duplicate key: yamlsource words it
                value_column = column + len(key) + 2
                top[1][key] = _value(value, number, value_column, doc, entries)
                if entries:
                    top[2][key] = (number, column, number, value_column)
                if dashed is not None:
                    # The first line of an item of a sequence of mappings (members): read the
                    # rest of the run at once; the last item read stays open on the stack.
                    number, item = _items(lines, number, indent, stack[-2], top, keys, doc, entries)
                    if item is None:
                        stack.pop()  # the last item was a flow mapping: no block is open
                    else:
                        stack[-1] = item
                continue
        content = raw.lstrip(" ")
        if not content or content[0] == "#":
            continue
        indent = len(raw) - len(content)
        if "#" in content:
            if "'" in content or '"' in content:
                raise _Outside  # a '#' inside quotes is no comment: not worth telling apart
            cut = content.find(" #")
            if cut >= 0:
                content = content[:cut]
        if content[-1] == " ":
            content = content.rstrip(" ")
        if indent == 0 and content.startswith(("---", "...", "%")):
            raise _Outside
        dash = content[:2] == "- " or content == "-"
        # Close or open blocks so that the top of the stack is the block this line belongs to.
        if pending is not None:
            parent, key, key_at, at = pending
            pending = None
            if not (indent > at or (dash and key is not None and indent == at)):
                raise _Outside  # an empty value (null): rare, and libyaml places it
            block, places = _open(dash, maps if entries else None, seqs)
            if key is None:
                parent[1].append(block)
                parent[2].append((number, indent + 1))
            else:
                parent[1][key] = block
                if entries:
                    parent[2][key] = (*key_at, number, indent + 1)
            stack.append([indent, block, places])
        elif not stack:
            if root is not None or indent:
                raise _Outside
        else:
            while stack[-1][0] > indent:
                stack.pop()
                if not stack:
                    raise _Outside
            top = stack[-1]
            if top[0] < indent:
                raise _Outside  # deeper than the block it would belong to
            if not dash and isinstance(top[1], list) and len(stack) > 1:
                stack.pop()  # a sequence at its key's indentation ends at the next key
                if stack[-1][0] != indent:
                    raise _Outside
        if not stack:
            block, places = _open(dash, maps if entries else None, seqs)
            doc.root = (number, indent + 1)
            root = doc.data = block
            stack.append([indent, block, places])
        column = indent + 1
        at = -1
        # Dashes: each opens a sequence item; the rest of the line is the item's value.
        while dash:
            top = stack[-1]
            if not isinstance(top[1], list):
                raise _Outside
            rest = content[1:].lstrip(" ")
            column += len(content) - len(rest)
            content = rest
            if not content:
                pending = (top, None, (number, column), top[0])
                break
            dash = content[:2] == "- " or content == "-"
            if not dash:
                at = _key_at(content)
                if at < 0:
                    top[1].append(_scalar_or_flow(content, number, column, doc, entries))
                    top[2].append((number, column))
                    content = ""
                    break
            block, places = _open(dash, maps if entries else None, seqs)
            top[1].append(block)
            top[2].append((number, column))
            stack.append([column - 1, block, places])
            if len(stack) > _MAX_DEPTH:
                raise _Outside
        if not content:
            continue
        top = stack[-1]
        if not isinstance(top[1], dict):
            raise _Outside
        if at < 0:
            at = _key_at(content)
            if at < 0:
                raise _Outside  # a scalar where a key was expected
        key = content[:at]
        if key not in keys:
            if not key or key[-1] == " ":
                raise _Outside
            _plain(key)  # only to refuse what is not a plain scalar; the key is its text
            keys.add(key)
        if key in top[1]:
            raise _Outside  # a duplicate key: yamlsource words it
        value = content[at + 1 :].lstrip(" ")
        if not value:
            pending = (top, key, (number, column), top[0])
            continue
        value_column = column + len(content) - len(value)
        top[1][key] = _value(value, number, value_column, doc, entries)
        if entries:
            top[2][key] = (number, column, number, value_column)
    if pending is not None or len(stack) > _MAX_DEPTH:
        raise _Outside
    return root


def _items(
    lines: list[str],
    number: int,
    indent: int,
    seq: list[Any],
    item: list[Any] | None,
    keys: set[str],
    doc: Document,
    entries: bool,
) -> tuple[int, Any]:
    """Read on from line ``number + 1`` while the lines are items of the sequence ``seq`` (a
    stack entry, its dashes at ``indent``) written ``- key: value`` or ``- {...}``, and the
    ``key: value`` lines of the open item ``item`` (a stack entry; None after a flow mapping).

    The same steps as ``_read``'s for these lines (a member is two of them), without the stack
    and with string methods rather than a regex match (a third of the time): 100,000 members
    are 200,000 such lines. Only a key ``_read`` already accepted is taken, with one space after
    its colon, a value without spaces around it and no ``#`` on the line. Returns the number of
    the last line read and the open item's stack entry. Anything else (a comment, a nested
    block, another indentation, a duplicate key) is left to ``_read``.
    """
    dash = " " * indent + "- "
    start = indent + 2  # where an item's key, or a key of the item, starts
    below = " " * start
    column = start + 1
    items, places = seq[1], seq[2]
    block: Any = None if item is None else item[1]  # the open item's mapping
    block_places: Any = None if item is None else item[2]
    count = len(lines)
    seqs = doc._seqs
    while number < count:
        raw = lines[number]
        if "#" in raw:
            break
        if raw.startswith(dash):
            if raw[start : start + 1] == "{":
                if raw[-1] != "}":
                    break
                items.append(_flow_mapping(raw[start:], number + 1, column, doc, entries))
                places.append((number + 1, column))
                block = block_places = item = None
                number += 1
                continue
            opens = True
        elif block is not None and raw.startswith(below):
            opens = False
        else:
            break
        at = raw.find(": ", start)
        if at < 0:
            break
        key = raw[start:at]
        value = raw[at + 2 :]
        if key not in keys or not value or value[0] == " " or value[-1] == " ":
            break  # not a key _read accepted, or spaces to strip: _read sees to both
        number += 1
        if opens:
            block = {}
            items.append(block)
            places.append((number, column))
            if entries:
                block_places = {}
                doc._maps[id(block)] = block_places
            item = [start, block, block_places]
        elif key in block:
            number -= 1
            break  # a duplicate key: _read words it
        value_column = at + 3
        first = value[0]
        if first == "[":
            known = _FLOW_CACHE.get(value)  # _flow written out: a call less for each member
            if known is None or len(known[1]) != 1:
                block[key] = _flow(value, number, value_column, seqs)
            else:
                block[key] = roles = list(known[0])
                seqs[id(roles)] = [(number, value_column + known[1][0])]
        elif first in _NOT_PLAIN_TEXT or value[-1] == ":" or ": " in value:
            block[key] = _scalar_or_flow(value, number, value_column, doc, entries)
        else:
            block[key] = value
        if entries:
            block_places[key] = (number, column, number, value_column)
    return number, item


def _open(dash: bool, maps: dict[int, Any] | None, seqs: dict[int, Any]) -> tuple[Any, Any]:
    """A new block (a sequence when ``dash``) and where its positions go (None: not recorded)."""
    if dash:
        items: list[Any] = []
        places: list[Pos] = []
        seqs[id(items)] = places
        return items, places
    block: dict[str, Any] = {}
    if maps is None:
        return block, None
    entries: dict[str, Entry] = {}
    maps[id(block)] = entries
    return block, entries


def _value(text: str, line: int, column: int, doc: Document, entries: bool) -> Any:
    """The value after ``key: `` (``text`` without spaces around it)."""
    first = text[0]
    if first == "[":  # a list of roles: the commonest value after plain text
        return _flow(text, line, column, doc._seqs)
    if first in _NOT_PLAIN_TEXT or text[-1] == ":" or ": " in text:
        return _scalar_or_flow(text, line, column, doc, entries)
    return text  # a plain string (the commonest value), as _plain would say


def _key_at(text: str) -> int:
    """Where the ``:`` of ``key: value`` or ``key:`` is; -1 for anything else."""
    if text[0] in "'\"[{":
        return -1
    at = text.find(": ")
    if at >= 0:
        return at
    return len(text) - 1 if text[-1] == ":" else -1


def _scalar_or_flow(text: str, line: int, column: int, doc: Document, entries: bool) -> Any:
    first = text[0]
    if first == "[":
        return _flow(text, line, column, doc._seqs)
    if first == "{":
        return _flow_mapping(text, line, column, doc, entries)
    if first == "'":
        if len(text) < 2 or text[-1] != "'" or "'" in text[1:-1]:
            raise _Outside
        return text[1:-1]
    if first == '"':
        if len(text) < 2 or text[-1] != '"' or '"' in text[1:-1] or "\\" in text:
            raise _Outside
        return text[1:-1]
    return _plain(text)


def _plain(text: str) -> Any:
    """A one-line plain scalar's value, resolved as PyYAML's SafeLoader does."""
    if text[0] in _INDICATORS or text[-1] == ":" or ": " in text:
        raise _Outside
    resolvers = _RESOLVERS.get(text[0])
    if resolvers is None:
        return text
    for tag, pattern in resolvers:
        if pattern.match(text):
            if tag == _TIMESTAMP:
                return text  # a manifest means the text (as yamlsource)
            if tag not in _CONSTRUCTED:
                raise _Outside  # null, merge, value...
            node = yaml.ScalarNode(tag, text)
            return _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, node)
    return text


# ``[...]`` text -> its items and their offsets from the ``[``: the same few role lists are
# written on every member line (100,000 times in the benchmark), and parsing one is the same work
# every time. Bounded so that a file of distinct lists cannot grow it without end.
_FLOW_CACHE: dict[str, tuple[tuple[Any, ...], tuple[int, ...]]] = {}
_FLOW_CACHE_SIZE = 4096


def _flow(text: str, line: int, column: int, seqs: dict[int, Any]) -> list[Any]:
    """``[a, b]`` of plain scalars on one line."""
    known = _FLOW_CACHE.get(text)
    if known is None:
        known = _flow_parse(text)
        if len(_FLOW_CACHE) < _FLOW_CACHE_SIZE:
            _FLOW_CACHE[text] = known
    values, offsets = known
    items = list(values)
    if len(offsets) == 1:  # one role: no comprehension (a call of its own in Python 3.11)
        seqs[id(items)] = [(line, column + offsets[0])]
    else:
        seqs[id(items)] = [(line, column + offset) for offset in offsets]
    return items


def _flow_parse(text: str) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """The items of ``[a, b]`` and the offset of each from the ``[``; raises _Outside."""
    inner = text[1:-1]
    if text[-1] != "]" or _FLOW_REFUSED.search(inner):
        raise _Outside
    items: list[Any] = []
    offsets: list[int] = []
    if "," not in inner and inner and inner[0] != " " and inner[-1] != " ":
        items.append(_plain(inner))  # one item, the commonest list of roles
        offsets.append(1)
    elif inner.strip(" "):
        offset = 1
        for part in inner.split(","):
            item = part.strip(" ")
            if not item:
                raise _Outside
            items.append(_plain(item))
            offsets.append(offset + len(part) - len(part.lstrip(" ")))
            offset += len(part) + 1
    return tuple(items), tuple(offsets)


def _flow_mapping(
    text: str, line: int, column: int, doc: Document, entries: bool
) -> dict[str, Any]:
    """``{key: value, key: [a, b]}`` on one line: plain keys, plain scalars or ``[...]`` of
    plain scalars as values (the style of one member per line)."""
    inner = text[1:-1]
    if text[-1] != "}" or _FLOW_MAPPING_REFUSED.search(inner):
        raise _Outside
    result: dict[str, Any] = {}
    index: dict[str, Entry] = {}
    size = len(inner)
    offset = column + 1  # the column of inner[0]
    at = 0
    while inner[at:].strip(" "):
        colon = inner.find(": ", at)
        if colon < 0:
            raise _Outside
        key = inner[at:colon].lstrip(" ")
        if not key or key[-1] == " " or key in result or _FLOW_KEY_REFUSED.search(key):
            raise _Outside
        _plain(key)  # only to refuse what is not a plain scalar; the key is its text
        key_column = offset + colon - len(key)
        start = colon + 2
        while start < size and inner[start] == " ":
            start += 1
        if start == size:
            raise _Outside  # an empty value
        if inner[start] == "[":
            end = inner.find("]", start) + 1
            if not end:
                raise _Outside
            value: Any = _flow(inner[start:end], line, offset + start, doc._seqs)
        else:
            end = inner.find(",", start)
            end = size if end < 0 else end
            plain = inner[start:end].rstrip(" ")
            if not plain or _FLOW_KEY_REFUSED.search(plain):
                raise _Outside
            value = _plain(plain)
        result[key] = value
        if entries:
            index[key] = (line, key_column, line, offset + start)
        while end < size and inner[end] == " ":
            end += 1
        if end == size:
            break
        if inner[end] != ",":
            raise _Outside
        at = end + 1
        if not inner[at:].strip(" "):
            raise _Outside  # a trailing comma
    if entries:
        doc._maps[id(result)] = index
    return result
