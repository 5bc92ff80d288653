"""The fast reader of plain block YAML agrees with libyaml wherever it answers (issue 17):
the same values at the same lines and columns, and nothing libyaml would refuse. Generated
documents in the manifests' style, then the same with tricky text spliced in anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.manifest import fastyaml
from reconciler.manifest.document import Document
from reconciler.manifest.yamlsource import YamlProblem, _compose, _Converter

WORDS = st.sampled_from(
    [
        "roles",
        "members",
        "Viewer",
        "a b",
        "alice@contoso.com",
        "BR-2024-001",
        "2024-01-31",
        "10",
        "1_000",
        "0x1F",
        "1:30",
        "3.5",
        ".inf",
        "yes",
        "No",
        "on",
        "null",
        "~",
        "O'Brien",
        "C#",
        "http://x.y/z",
        "a:b",
        "-1",
        "+2",
        "x-y",
        "<<",
        "=",
    ]
)
KEYS = st.sampled_from(["number", "roles", "email", "a", "yes", "1", "x y", "e-mail", "k:v"])


def _scalar_text(word: str, style: int) -> str:
    if style == 1 and "'" not in word:
        return f"'{word}'"
    if style == 2 and '"' not in word:
        return f'"{word}"'
    return word


@st.composite
def values(draw: st.DrawFn, depth: int = 0) -> Any:
    kind = draw(st.integers(0, 3 if depth < 3 else 1))
    if kind <= 1:
        return ("s", draw(WORDS), draw(st.integers(0, 3)))
    if kind == 2:
        return ("l", draw(st.lists(values(depth + 1), min_size=1, max_size=3)), draw(st.booleans()))
    keys = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
    return ("m", [(k, draw(values(depth + 1))) for k in keys], draw(st.booleans()))


def render(
    node: Any, indent: int, out: list[str], lead: str, spaces: int, noise: list[str]
) -> None:
    """Block YAML: ``lead`` is what starts the first line (a key, a dash, or nothing)."""
    pad = " " * indent
    kind = node[0]
    comment = noise.pop() if noise else ""
    if kind == "s":
        out.append(f"{lead}{_scalar_text(node[1], node[2])}{comment}")
    elif kind == "l" and node[2] and all(v[0] == "s" and v[2] == 0 for v in node[1]):
        out.append(f"{lead}[{', '.join(v[1] for v in node[1])}]{comment}")
    elif kind == "l":
        first = True
        for item in node[1]:
            start = lead if first else pad
            if first and lead and not lead.endswith("- "):
                out.append(lead.rstrip() + comment)
                start = pad
            first = False
            render(item, len(start) + 2, out, start + "- ", spaces, noise)
            lead = ""
    elif node[2] and all(_flat(v) for _, v in node[1]):
        entries = ", ".join(f"{k}: {_flat(v)}" for k, v in node[1])
        out.append(f"{lead}{{{entries}}}{comment}")
    else:
        first = True
        for key, value in node[1]:
            if first and lead and not lead.endswith("- "):
                out.append(lead.rstrip() + comment)
                lead = ""
            start = lead if first else pad
            first = False
            if value[0] == "s" or (value[0] in "lm" and value[2]):
                render(value, indent, out, f"{start}{key}: ", spaces, noise)
            else:
                out.append(f"{start}{key}:")
                render(value, indent + spaces, out, " " * (indent + spaces), spaces, noise)


def reader_agrees(text: str) -> None:
    fast = fastyaml.parse(text, "f.yaml")
    if fast is None:
        return
    try:
        node = _compose(text)
        assert node is not None
        slow = _Converter("f.yaml").document(node)
    except YamlProblem as exc:
        raise AssertionError(f"fastyaml read what libyaml refuses: {exc.message}") from exc
    assert fast.data == slow.data
    assert type(fast.data) is type(slow.data)
    assert fast.root == slow.root
    same_places(fast, slow, slow.data, ())


def same_places(fast: Document, slow: Document, data: Any, path: tuple[Any, ...]) -> None:
    assert fast.locate(path) == slow.locate(path), path
    if isinstance(data, dict):
        for key, value in data.items():
            assert fast.locate((*path, key), key=True) == slow.locate((*path, key), key=True)
            same_places(fast, slow, value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            same_places(fast, slow, value, (*path, index))


def _flat(node: Any) -> str:
    """A value as one flow item (a plain scalar, or a list of them), or "" when it is not."""
    if node[0] == "s" and node[2] == 0:
        return str(node[1])
    if node[0] == "l" and all(v[0] == "s" and v[2] == 0 for v in node[1]):
        return f"[{', '.join(v[1] for v in node[1])}]"
    return ""


@st.composite
def documents(draw: st.DrawFn) -> str:
    top = draw(values(1).filter(lambda v: v[0] in "lm"))
    spaces = draw(st.sampled_from([2, 4]))
    noise = draw(st.lists(st.sampled_from(["", "", " # note", "  #x"]), max_size=12))
    out: list[str] = []
    render(top, 0, out, "", spaces, noise)
    blank = draw(st.sampled_from(["", "# header\n", "\n"]))
    return blank + "\n".join(out) + "\n"


SPLICES = [
    "#", " #", ": ", ":", "- ", "-", "\n", "  ", " ", "'", '"', "[", "]", ",", "&a ", "*a",
    "!!str ", "|", ">", "? ", "yes", "~", "null", "0x1", "\t", "{", "}", "%", "@", "`", "---",
    "\n---\n",
    "...", "\r", "é", "Zoë", "😀", "\u00a0", "\u3000", "\x85", "\u2028", "\ufeff", "\x9f",
    "\\", "a", "\n  ", "\n- ", "\nx: y\n", "\nx:\n", "<<: ", "\x07", ", ", ": ,",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(documents())
def test_agrees_on_manifest_shaped_documents(text: str) -> None:
    reader_agrees(text)


@settings(max_examples=1500, deadline=None)
@given(documents(), st.data())
def test_agrees_or_steps_aside_when_text_is_spliced_in(text: str, data: st.DataObject) -> None:
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.sampled_from(SPLICES)) + text[at:]
    reader_agrees(text)


def test_steps_aside_for_what_it_does_not_read() -> None:
    for text in (
        "a: &x [1]\nb: *x\n",
        "a: |\n  text\n",
        "a: 'it''s'\n",
        "a: b\na: c\n",
        "a:\n",
        "a: !!str 1\n",
        "a: {b: {c: d}}\n",
        "a: {b: c, d}\n",
        "a: {b: c,}\n",
        "a: {b: , c: d}\n",
        "a: {b: [c], d: [e}\n",
        "---\na: b\n",
        "a: b\n  c\n",
        "a:\tb\n",
        "a: x\x85b: y\n",
        "a: x\u2028b: y\n",
        "a: \ufeffx\n",
        "just text\n",
    ):
        assert fastyaml.parse(text, "f.yaml") is None, text


def test_reads_a_manifest_as_libyaml_does() -> None:
    text = (
        "# a project\n"
        "projects:\n"
        "  - number: BR-2024-001   # the number\n"
        "    displayName: 'Bridge: renewal'\n"
        "    roles:\n"
        "    - use: standard\n"
        "    members:\n"
        "      - email: Alice@Contoso.com\n"
        "        roles: [Viewer, Contributor]\n"
        "    manage: {owners: {a: b}}\n"
    )
    assert fastyaml.parse(text, "f.yaml") is None  # a nested flow mapping: libyaml's
    text = text.replace(
        "    manage: {owners: {a: b}}\n", "    attributes:\n      count: 10\n      on: yes\n"
    )
    fast = fastyaml.parse(text, "f.yaml")
    assert fast is not None
    assert fast.data["projects"][0]["attributes"] == {"count": 10, "on": True}
    assert fast.locate(("projects", 0, "members", 0, "roles", 1)) == (9, 25)
    reader_agrees(text)
    assert yaml.safe_load(text)["projects"][0]["displayName"] == "Bridge: renewal"


def test_agrees_on_every_example_manifest() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    texts = [p.read_text(encoding="utf-8") for p in sorted(examples.rglob("*.yaml"))]
    fast = [t for t in texts if fastyaml.parse(t, "f.yaml") is not None]
    assert fast  # the examples are plain block YAML: most take the fast path
    for text in texts:
        reader_agrees(text)


def test_reads_non_ascii_text_where_libyaml_counts_the_same_columns() -> None:
    text = (
        "projects:\n  - number: Zoë-1\n    displayName: Brücke über 😀 den Fluss\n"
        "    members:\n      - {email: zoë@x.com, roles: [Prüfer, Ärger]}\n"
    )
    assert fastyaml.parse(text, "f.yaml") is not None
    reader_agrees(text)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x3000)) | st.text())
def test_the_ascii_control_check_agrees_with_the_pattern(text: str) -> None:
    # An ASCII text is checked as bytes (issue 17); the answer must be the pattern's.
    assert fastyaml._controlled(text) == (fastyaml._CONTROL.search(text) is not None)


MEMBERS_RUN = (
    "projects:\n  - number: P\n    members:\n"
    "      - email: a@x.com\n        roles: [A]\n"
    "      - {email: b@x.com, roles: [B]}\n"
    "      - email: c@x.com  \n        roles: [C]\n"
    "      # a note\n"
    "      - email: d@x.com\n        roles:\n          - D\n        expires: 2024-01-31\n"
    "      - email: e@x.com\n        roles: [E] # trailing\n"
    "      - email:   f@x.com\n        roles: [F, G]\n"
    "      - email: yes\n        roles: [10, x]\n"
    "      - group: Designers\n        roles: [A]\n        note: 'quoted'\n"
    "      - {email: h@x.com, roles: [H]}\n        roles: [X]\n"
)


def test_reads_runs_of_members_with_anything_between_them() -> None:
    # fastyaml._items reads runs of `- key: value` items without the block stack and leaves
    # every other line to _read: both must give what libyaml gives, positions included.
    good = MEMBERS_RUN.rsplit("      - {email: h@x.com", 1)[0]
    fast = fastyaml.parse(good, "f.yaml")
    assert fast is not None
    assert len(fast.data["projects"][0]["members"]) == 8
    reader_agrees(good)
    # An item's key line after a flow mapping item is not YAML: libyaml's to word.
    assert fastyaml.parse(MEMBERS_RUN, "f.yaml") is None
    assert fastyaml.parse(good + "        roles: [Y]\n", "f.yaml") is None  # a duplicate key


def test_a_mappings_positions_are_read_again_only_when_one_is_asked_for() -> None:
    text = MEMBERS_RUN.rsplit("      - {email: h@x.com", 1)[0]
    lazy = fastyaml.parse(text, "f.yaml")
    full = fastyaml.parse(text, "f.yaml", entries=True)
    assert lazy is not None
    assert full is not None
    assert lazy._maps == {}  # nothing recorded while reading
    assert len(full._maps) == 10  # the root, the project and its 8 members
    member = lazy.data["projects"][0]["members"][3]
    assert lazy.key(member, "expires") == (13, 9)  # the first question reads the text again
    assert lazy.entries_from is None
    same_places(lazy, full, full.data, ())
