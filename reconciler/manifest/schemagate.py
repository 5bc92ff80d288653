"""A yes/no form of a shipped JSON Schema, compiled to plain Python closures: the gate in
front of jsonschema.

jsonschema spent ~0.5 ms on each project of the 1,000 x 100 benchmark (its keyword dispatch,
``evolve`` and reference resolution for every node), half a second for a tree that has no error
at all (issue 17). ``compile_gate(schema)`` returns ``ok(instance) -> bool``, True only for an
instance jsonschema (Draft 2020-12) accepts; ``manifest.schema`` runs jsonschema, which words
every error, whenever the gate says False. So the gate decides speed, never a message: when in
doubt (a keyword it does not know, a value it does not model exactly, such as NaN or a list of
non-strings under ``uniqueItems``) it says False and jsonschema answers.

Supported: ``type``, ``enum`` and ``const`` of strings, ``allOf``, ``oneOf``, ``properties``,
``additionalProperties`` (false or a schema), ``required``, ``propertyNames``, ``items`` (one
schema), ``minItems``, ``uniqueItems``, ``minLength``/``maxLength``, ``pattern``,
``minimum``/``maximum``, ``if``/``then``/``else`` and ``$ref`` to ``#/$defs/...``; annotations
are ignored. Any other keyword makes the whole gate say False, so a schema edit can slow
``validate`` but not make it miss an error. tests/manifest/test_schemagate.py holds the gate
to jsonschema's verdicts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    ("$schema", "$id", "$comment", "title", "description", "examples", "default", "x-message")
)
_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    # jsonschema: a bool is neither; a float with no fraction is an integer.
    "number": lambda x: isinstance(x, int | float) and not isinstance(x, bool),
    "integer": lambda x: (
        (isinstance(x, int) and not isinstance(x, bool))
        or (isinstance(x, float) and x.is_integer())
    ),
}


# The array verdicts remembered (see ``_Compiler.arrays``): lists of at most this many strings,
# at most this many lists per array schema.
_REMEMBERED_ITEMS = 8
_REMEMBERED_LISTS = 4096


class _Unsupported(Exception):
    """The schema uses something the gate does not model: it always says False."""


def _never(_: Any) -> bool:
    return False


def compile_gate(schema: dict[str, Any]) -> Check:
    """``ok(instance)``: True only where jsonschema finds no error (see module docstring)."""
    try:
        return _Compiler(schema).node(schema)
    except _Unsupported:
        return _never


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = root.get("$defs", {})
        self.compiled: dict[str, Check] = {}
        self.active: set[str] = set()

    def ref(self, ref: object) -> Check:
        prefix = "#/$defs/"
        if (
            not isinstance(ref, str)
            or not ref.startswith(prefix)
            or ref[len(prefix) :] not in self.defs
        ):
            raise _Unsupported(ref)
        name = ref[len(prefix) :]
        if name in self.compiled:
            return self.compiled[name]
        if name in self.active:  # a recursive definition: looked up when it runs
            compiled = self.compiled
            return lambda x: compiled[name](x)
        self.active.add(name)
        check = self.compiled[name] = self.node(self.defs[name])
        self.active.discard(name)
        return check

    def node(self, schema: object) -> Check:
        if schema is True:
            return lambda x: True
        if not isinstance(schema, dict):
            raise _Unsupported(schema)
        keys = set(schema) - _ANNOTATIONS - {"$defs"}
        kind = schema.get("type")
        if "type" in keys and (not isinstance(kind, str) or kind not in _TYPES):
            raise _Unsupported(kind)
        # The checks of one type's keywords refuse other types when the type is given, so
        # then they stand for the type check too (one call less per node).
        checks = [
            *self.strings(schema, keys, kind),
            *self.numbers(schema, keys, kind),
            *self.arrays(schema, keys, kind),
            *self.objects(schema, keys, kind),
        ]
        if isinstance(kind, str) and (not checks or kind in ("integer", "boolean", "null")):
            checks.insert(0, _TYPES[kind])
        if "$ref" in keys:
            checks.append(self.ref(schema["$ref"]))
        if "enum" in keys:
            checks.append(_enum(schema["enum"]))
        if "const" in keys:
            checks.append(_enum([schema["const"]]))
        if "allOf" in keys:
            if not isinstance(schema["allOf"], list):
                raise _Unsupported(schema["allOf"])
            checks += [self.node(sub) for sub in schema["allOf"]]
        if "oneOf" in keys:
            if not isinstance(schema["oneOf"], list):
                raise _Unsupported(schema["oneOf"])
            choices = [self.node(sub) for sub in schema["oneOf"]]
            checks.append(lambda x: sum(1 for choice in choices if choice(x)) == 1)
        if "if" in keys:
            checks.append(self.condition(schema))
        if keys - _KNOWN:
            raise _Unsupported(sorted(keys - _KNOWN))
        return _all(checks)

    def condition(self, schema: dict[str, Any]) -> Check:
        test = self.node(schema["if"])
        then = self.node(schema.get("then", True))
        other = self.node(schema.get("else", True))
        key = _one_required_key(schema["if"])
        if key is not None:  # a member: ``if: {type: object, required: [group]}``, one call less
            return lambda x: then(x) if isinstance(x, dict) and key in x else other(x)
        return lambda x: then(x) if test(x) else other(x)

    def strings(self, schema: dict[str, Any], keys: set[str], kind: object) -> list[Check]:
        if kind not in (None, "string") or not keys & {"minLength", "maxLength", "pattern"}:
            return []
        low = schema.get("minLength", 0)
        high = schema.get("maxLength", math.inf)
        search = re.compile(schema["pattern"]).search if "pattern" in keys else None
        if not isinstance(low, int) or not isinstance(high, int | float):
            raise _Unsupported(schema)

        if search is None and kind == "string":  # the commonest: a length only (email, names)
            return [lambda x: isinstance(x, str) and low <= len(x) <= high]

        def string(x: Any) -> bool:
            if not isinstance(x, str):
                return kind is None  # the keywords say nothing about other types
            return low <= len(x) <= high and (search is None or search(x) is not None)

        return [string]

    def numbers(self, schema: dict[str, Any], keys: set[str], kind: object) -> list[Check]:
        if kind not in (None, "number", "integer") or not keys & {"minimum", "maximum"}:
            return []
        low = schema.get("minimum", -math.inf)
        high = schema.get("maximum", math.inf)

        def number(x: Any) -> bool:
            if isinstance(x, bool) or not isinstance(x, int | float):
                return kind is None
            # NaN and infinities: jsonschema's comparisons are left to jsonschema.
            return (isinstance(x, int) or math.isfinite(x)) and low <= x <= high

        return [number]

    def arrays(self, schema: dict[str, Any], keys: set[str], kind: object) -> list[Check]:
        if kind not in (None, "array") or not keys & {"items", "minItems", "uniqueItems"}:
            return []
        item = self.node(schema["items"]) if "items" in keys else None
        least = schema.get("minItems", 0)
        unique = schema.get("uniqueItems") is True

        # Verdicts on lists of strings, by their items: 100,000 members hold the same few lists
        # of roles. Bounded, so that distinct lists cannot grow it without end.
        verdicts: dict[tuple[str, ...], bool] = {}

        def array(x: Any) -> bool:
            if not isinstance(x, list):
                return kind is None
            try:
                key = tuple(x)
                verdict = verdicts.get(key)
            except TypeError:  # unhashable items (lists, mappings): never remembered
                return checked(x)
            if verdict is None:
                verdict = checked(x)
                # Only lists of strings are remembered: 1, 1.0 and True are equal keys.
                if (
                    len(verdicts) < _REMEMBERED_LISTS
                    and len(key) <= _REMEMBERED_ITEMS
                    and all(type(value) is str for value in key)
                ):
                    verdicts[key] = verdict
            return verdict

        def checked(x: list[Any]) -> bool:
            if len(x) < least:
                return False
            if unique:
                # Only strings are told apart here (jsonschema's equality holds 1 == 1.0 and
                # True != 1); anything else is left to it.
                for value in x:
                    if not isinstance(value, str):
                        return False
                if len(set(x)) != len(x):
                    return False
            if item is not None:
                for value in x:
                    if not item(value):
                        return False
            return True

        return [array]

    def objects(self, schema: dict[str, Any], keys: set[str], kind: object) -> list[Check]:
        used = {"properties", "additionalProperties", "required", "propertyNames"}
        if kind not in (None, "object") or not keys & used:
            return []
        properties = {name: self.node(sub) for name, sub in schema.get("properties", {}).items()}
        extra_schema = schema.get("additionalProperties", True)
        extra: Check | None = None if extra_schema is False else self.node(extra_schema)
        required = tuple(schema.get("required", ()))
        names = self.node(schema["propertyNames"]) if "propertyNames" in keys else None

        # Nothing to check per entry (``if: {type: object, required: [group]}``): skip the loop.
        entries = bool(properties) or extra_schema is not True or names is not None
        if not entries and kind == "object" and len(required) == 1:
            (only,) = required
            return [lambda x: isinstance(x, dict) and only in x]

        def mapping(x: Any) -> bool:
            if not isinstance(x, dict):
                return kind is None
            for name in required:
                if name not in x:
                    return False
            if not entries:
                return True
            for name, value in x.items():
                check = properties.get(name, extra)
                if check is None or not check(value):
                    return False
                if names is not None and not names(name):
                    return False
            return True

        return [mapping]


_KNOWN = frozenset(
    (
        "type",
        "$ref",
        "enum",
        "const",
        "allOf",
        "oneOf",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "items",
        "minItems",
        "uniqueItems",
        "properties",
        "additionalProperties",
        "required",
        "propertyNames",
        "if",
        "then",
        "else",
    )
)


def _one_required_key(schema: object) -> str | None:
    """K when ``schema`` is exactly ``{type: object, required: [K]}`` (annotations aside)."""
    if not isinstance(schema, dict) or set(schema) - _ANNOTATIONS != {"type", "required"}:
        return None
    required = schema["required"]
    if schema["type"] != "object" or not isinstance(required, list) or len(required) != 1:
        return None
    return required[0] if isinstance(required[0], str) else None


def _enum(values: object) -> Check:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _Unsupported(values)
    allowed = frozenset(values)
    return lambda x: isinstance(x, str) and x in allowed


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)

    return lambda x: all(check(x) for check in checks)
