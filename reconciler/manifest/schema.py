"""The shipped JSON Schemas, compiled once, and their errors as located, actionable Problems.

Speed: jsonschema spends ~0.1 ms per member object and ~0.5 ms per project without its members,
which is seconds for 1,000 projects x 100 members. So jsonschema only words errors: a document
first goes through the schema's gate (``schemagate``, the schema compiled to closures that say
yes or no), and one the gate accepts has no schema problem. A document it refuses is checked
one project at a time, each member and the rest of each project gated again; only the parts
refused there are handed to jsonschema, which then produces the precise messages. jsonschema
(~80 ms to import) is imported only then.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from reconciler.errors import Problem
from reconciler.manifest.document import Document, PathPart, json_path, suggest
from reconciler.manifest.schemagate import Check, compile_gate

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

MANIFEST_SCHEMA = "manifest.schema.json"
CONFIG_SCHEMA = "config.schema.json"
PLAN_SCHEMA = "plan.schema.json"

_TYPE_NAMES = {
    "string": "a string",
    "array": "a list",
    "object": "a mapping",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "null",
}


@cache
def schema_text(name: str) -> str:
    """The schema file's text as shipped (``reconciler/_schemas`` -> ``schemas/``)."""
    return resources.files("reconciler").joinpath("_schemas", name).read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(schema_text(name))
    return schema


def _subschema(name: str, pointer: str) -> dict[str, Any]:
    """The whole schema, or one of its ``$defs`` as a schema of its own."""
    schema = load_schema(name)
    if pointer:
        schema = {"$ref": f"#/$defs/{pointer}", "$defs": schema["$defs"]}
    return schema


@cache
def _validator(name: str, pointer: str = "") -> jsonschema.Draft202012Validator:
    """A compiled validator for the whole schema, or for one of its ``$defs``."""
    import jsonschema  # only when the gate refused something (see module docstring)

    return jsonschema.Draft202012Validator(_subschema(name, pointer))


@cache
def _gate(name: str, pointer: str = "") -> Check:
    return compile_gate(_subschema(name, pointer))


def _check(
    doc: Document, instance: object, prefix: tuple[PathPart, ...], name: str, pointer: str = ""
) -> list[Problem]:
    """The schema problems of ``instance`` (at ``prefix``): none when the gate accepts it."""
    if _gate(name, pointer)(instance):
        return []
    return _problems(doc, _validator(name, pointer).iter_errors(instance), prefix)


def validate_manifest(doc: Document) -> list[Problem]:
    """Every schema problem of one manifest document, located."""
    data = doc.data
    if _gate(MANIFEST_SCHEMA)(data):
        return []  # the common case: nothing to word
    problems: list[Problem] = []
    projects = data.get("projects") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(projects, list):
        top = {**data, "projects": []}
        problems += _check(doc, top, (), MANIFEST_SCHEMA)
        for index, project in enumerate(projects):
            prefix: tuple[PathPart, ...] = ("projects", index)
            members = project.get("members") if isinstance(project, dict) else None
            if isinstance(members, list):
                member_ok = _gate(MANIFEST_SCHEMA, "member")
                bad = [j for j, item in enumerate(members) if not member_ok(item)]
                slim = {**project, "members": []}
                problems += _check(doc, slim, prefix, MANIFEST_SCHEMA, "project")
                for j in bad:
                    member = (*prefix, "members", j)
                    problems += _check(doc, members[j], member, MANIFEST_SCHEMA, "member")
            else:
                problems += _check(doc, project, prefix, MANIFEST_SCHEMA, "project")
    else:
        problems += _check(doc, data, (), MANIFEST_SCHEMA)
    return problems


def validate_config(doc: Document) -> list[Problem]:
    return _check(doc, doc.data, (), CONFIG_SCHEMA)


def _problems(
    doc: Document, errors: Iterator[ValidationError], prefix: tuple[PathPart, ...]
) -> list[Problem]:
    found = list(errors)
    # A misspelt key also makes a required key "missing": the unknown-key line (with its
    # did-you-mean) says it all, so the missing-key line for the same object is dropped.
    misspelt = {tuple(e.absolute_path) for e in found if e.validator == "additionalProperties"}
    out: list[Problem] = []
    for error in found:
        if error.validator == "required" and tuple(error.absolute_path) in misspelt:
            continue
        out.extend(_translate(doc, error, prefix))
    return out


def _translate(
    doc: Document, error: ValidationError, prefix: tuple[PathPart, ...]
) -> Iterator[Problem]:
    path: tuple[PathPart, ...] = (*prefix, *error.absolute_path)
    keyword = str(error.validator)
    schema = error.schema if isinstance(error.schema, dict) else {}
    custom = schema.get("x-message", {}).get(keyword) if isinstance(schema, dict) else None
    instance = error.instance

    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = set(schema.get("properties", {}))
        for extra in sorted(set(instance) - allowed):
            hint = suggest(extra, allowed) or f" (allowed: {', '.join(sorted(allowed))})"
            if {extra} | allowed >= {"email", "group"}:
                hint = "; a member is either a user (`email`) or a group (`group`), not both"
            line, column = doc.locate((*path, extra), key=True)
            yield Problem(
                doc.file, line, column, json_path((*path, extra)), f"unknown key '{extra}'{hint}"
            )
        return
    if "propertyNames" in error.absolute_schema_path:
        # The instance is the offending key itself (jsonschema descends into names with no
        # path step): point at the key.
        name = str(instance)
        line, column = doc.locate((*path, name), key=True)
        message = str(custom or error.message)
        yield Problem(doc.file, line, column, json_path((*path, name)), f"'{name}': {message}")
        return

    line, column = doc.locate(path)
    if custom:
        message = str(custom)
        if keyword == "required" and isinstance(instance, dict) and len(schema["required"]) > 1:
            missing = [k for k in schema.get("required", []) if k not in instance]
            message += f" (missing: {', '.join(missing)})"
    elif keyword == "type":
        message = _type_message(schema.get("type"), instance)
    elif keyword == "required":
        message = error.message.replace(" is a required property", "")
        message = f"missing required key {message}"
    elif keyword == "enum":
        choices = [str(c) for c in schema.get("enum", [])]
        hint = suggest(str(instance), choices) if isinstance(instance, str) else ""
        message = f"{instance!r} is not one of: {', '.join(choices)}{hint}"
    elif keyword == "minLength" and schema.get("minLength") == 1:
        message = "must not be empty"
    elif keyword in ("minLength", "maxLength"):
        bound = schema.get(keyword)
        word = "at least" if keyword == "minLength" else "at most"
        message = f"must be {word} {bound} characters long"
    elif keyword == "uniqueItems" and isinstance(instance, list):
        message = f"duplicate items: {', '.join(_duplicates(instance))}"
    elif keyword in ("minimum", "maximum"):
        word = "at least" if keyword == "minimum" else "at most"
        message = f"{instance!r} must be {word} {schema.get(keyword)}"
    else:
        message = error.message
    yield Problem(doc.file, line, column, json_path(path), message)


def _type_message(expected: object, instance: object) -> str:
    names = [expected] if isinstance(expected, str) else [str(n) for n in _as_list(expected)]
    want = " or ".join(_TYPE_NAMES.get(str(n), str(n)) for n in names)
    got = _describe(instance)
    hint = ""
    if "string" in names and isinstance(instance, bool):
        hint = " (YAML reads yes/no/on/off/true/false as booleans: quote the value)"
    elif "string" in names and isinstance(instance, int | float):
        hint = " (quote the value to keep it as text)"
    elif "string" in names and instance is None:
        hint = " (the value is empty)"
    return f"expected {want}, got {got}{hint}"


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _duplicates(items: list[Any]) -> list[str]:
    seen: set[str] = set()
    dups: set[str] = set()
    for item in items:
        text = json.dumps(item)
        (dups if text in seen else seen).add(text)
    return sorted(dups)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []
