"""The schema's gate (issue 17) says yes only where jsonschema finds no error: generated
manifests, valid and broken in every way the schema words, and the shipped examples (which it
must accept, or validate is slow again)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.manifest import CONFIG_SCHEMA, MANIFEST_SCHEMA, load_schema, manifest_files
from reconciler.manifest.schemagate import compile_gate
from reconciler.manifest.yamlsource import read_document

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = load_schema(MANIFEST_SCHEMA)
GATE = compile_gate(MANIFEST)
JSONSCHEMA = jsonschema.Draft202012Validator(MANIFEST)

VALID: dict[str, Any] = {
    "roleSets": {
        "standard": [
            {"displayName": "Viewer", "permissions": ["itwins_read", "imodels_read"]},
            {"displayName": "Admin", "renamedFrom": "Boss"},
        ]
    },
    "projects": [
        {
            "number": "BR-1",
            "displayName": "Bridge",
            "class": "Endeavor",
            "subClass": "Project",
            "status": "Active",
            "dataCenterLocation": "East US",
            "latitude": 47.5,
            "longitude": -122,
            "ianaTimeZone": "America/New_York",
            "parent": "PRG-1",
            "state": "present",
            "manage": {"roles": "authoritative", "members": "additive"},
            "roles": [{"use": "standard"}, {"displayName": "Auditor", "permissions": []}],
            "groups": [{"name": "Designers", "members": ["d@x.com"], "imsGroups": ["G"]}],
            "members": [
                {"email": "a@x.com", "roles": ["Viewer"]},
                {"group": "Designers", "roles": ["Viewer", "Admin"]},
            ],
            "owners": ["o@x.com"],
        }
    ],
}

# Values that break some rule somewhere (or look as if they might): wrong types, empty and long
# text, NaN, bools among numbers, duplicates, unknown keys.
ODD = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        1.0,
        -91,
        200.5,
        math.nan,
        math.inf,
        "",
        "x",
        "ab",
        "a@b",
        "Endeavor",
        "Thing",
        "additive",
        "Bad/Zone/",
        "Europe/Paris",
        "x" * 256,
        "-bad",
        [],
        ["Viewer", "Viewer"],
        ["Viewer", 1],
        [1, 1.0],
        [True, 1],
        [""],
        {},
        {"use": "standard"},
        {"group": "G", "roles": ["Viewer"]},
        {"email": "a@x.com", "roles": ["Viewer"], "group": "G"},
        {"bogus": 1},
    ]
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*here, index))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """VALID with one to three changes: a value replaced, a key added or removed."""
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.integers(0, 2))
        if action == 0:
            parent[path[-1]] = copy.deepcopy(draw(ODD))
        elif action == 1 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            key = draw(st.sampled_from(["email", "group", "roles", "use", "displayName", "x"]))
            parent[key] = copy.deepcopy(draw(ODD))
    return doc


def test_accepts_a_document_using_every_keyword() -> None:
    assert not list(JSONSCHEMA.iter_errors(VALID))
    assert GATE(VALID)


@settings(max_examples=1500, deadline=None)
@given(mutated())
def test_says_yes_only_where_jsonschema_finds_no_error(doc: Any) -> None:
    errors = list(JSONSCHEMA.iter_errors(doc))
    if GATE(doc):
        assert not errors, errors[0].message
    elif not errors:
        # A refusal jsonschema does not share is allowed (it is only slower) where the gate
        # leaves the value to jsonschema on purpose: NaN, infinities, non-strings in a set.
        text = repr(doc)
        assert "nan" in text or "inf" in text or "1.0" in text or "True" in text, doc


def test_accepts_the_shipped_examples() -> None:
    manifests = manifest_files([ROOT / "examples"])
    assert len(manifests) > 3
    for file in manifests:
        assert GATE(read_document(file).data), file
    config_schema = load_schema(CONFIG_SCHEMA)
    for config in sorted((ROOT / "examples").rglob("itwin-access.yaml")):
        data = read_document(config).data
        assert not list(jsonschema.Draft202012Validator(config_schema).iter_errors(data))
        assert compile_gate(config_schema)(data), config


def test_a_keyword_it_does_not_know_makes_it_refuse_everything() -> None:
    gate = compile_gate(
        {"type": "object", "properties": {"a": {"type": "string", "format": "email"}}}
    )
    assert not gate({})
    assert not gate({"a": "x@y.z"})
    assert compile_gate({"type": "object"})({})


def test_refuses_what_jsonschema_refuses_among_numbers_and_sets() -> None:
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "number", "minimum": -1, "maximum": 1},
            "i": {"type": "integer"},
            "s": {"type": "array", "uniqueItems": True},
        },
    }
    gate = compile_gate(schema)
    assert gate({"n": 0.5, "i": 2, "s": ["a", "b"]})
    assert gate({"i": 2.0})
    for bad in ({"n": True}, {"n": 2}, {"n": "1"}, {"i": 1.5}, {"i": False}, {"s": ["a", "a"]}):
        assert not gate(bad), bad
        assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad)), bad


def test_remembered_verdicts_on_lists_tell_equal_values_of_other_types_apart() -> None:
    # Issue 17: an array's verdict is remembered by its items when they are strings; 1, 1.0,
    # True and "1" must still each get jsonschema's own answer, asked in either order.
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 1}
    validator = jsonschema.Draft202012Validator(schema)
    cases: list[Any] = [["1"], [1], [True], [1.0], ["1"], [True], [1], [[1]], [{"a": 1}], []]
    for order in (cases, cases[::-1]):
        gate = compile_gate(schema)
        for value in order + order:
            assert gate(value) == (not list(validator.iter_errors(value))), value
    roles = compile_gate(load_schema(MANIFEST_SCHEMA)["$defs"]["memberRoles"])
    for value in (["Viewer"], ["Viewer"], ["Viewer", "Viewer"], [""], ["Viewer", "Admin"]):
        assert roles(value) == (value in (["Viewer"], ["Viewer", "Admin"])), value


CONFIGS: list[dict[str, Any]] = [
    {"api": "emulator", "rateLimit": "standard"},
    {"api": "emulator", "rateLimit": 10},
    {"rateLimit": 0},
    {"rateLimit": "fast"},
    {"rateLimit": True},
    {"rateLimit": 2.0},
    {"maxWait": -1},
    {"maxWait": 10},
    {"lock": ""},
    {"bogus": 1},
    {"policies": [{"rule": "min-owners"}]},
    {"policies": [{"rule": "min-owners", "count": 2}]},
]


def test_the_config_gate_agrees_with_jsonschema() -> None:
    schema = load_schema(CONFIG_SCHEMA)
    gate = compile_gate(schema)
    validator = jsonschema.Draft202012Validator(schema)
    said_yes = 0
    for config in CONFIGS:
        errors = list(validator.iter_errors(config))
        if gate(config):
            said_yes += 1
            assert not errors, (config, errors[0].message)
        else:
            assert errors or config == {"rateLimit": 2.0}, config
    assert said_yes >= 3
