"""The shipped JSON Schemas, compiled once, and their errors as located, actionable Problems.

Speed: jsonschema spends ~0.1 ms per member object, which is 10 s for 1,000 projects x 100
members. Members are by far the most numerous objects, so each one first goes through
``_member_ok``, a hand-written check of exactly the member rules of the schema; only members it
rejects are handed to jsonschema, which then produces the precise message. Everything else is
validated by jsonschema, one project at a time, with validators compiled once per process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from reconciler.errors import Problem
from reconciler.manifest.document import Document, PathPart, json_path, suggest

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


@cache
def _validator(name: str, pointer: str = "") -> jsonschema.Draft202012Validator:
    """A compiled validator for the whole schema, or for one of its ``$defs``."""
    schema = load_schema(name)
    if pointer:
        schema = {"$ref": f"#/$defs/{pointer}", "$defs": schema["$defs"]}
    return jsonschema.Draft202012Validator(schema)


def _member_ok(item: object) -> bool:
    """True only for a member the schema accepts (userMember or groupMember); see docstring."""
    if not isinstance(item, dict) or len(item) != 2:
        return False
    roles = item.get("roles")
    if not isinstance(roles, list) or not roles:
        return False
    for role in roles:
        if not isinstance(role, str) or not role:
            return False
    if len(set(roles)) != len(roles):
        return False
    email = item.get("email")
    if email is not None:
        return isinstance(email, str) and 3 <= len(email) <= 254
    group = item.get("group")
    return isinstance(group, str) and bool(group)


def validate_manifest(doc: Document) -> list[Problem]:
    """Every schema problem of one manifest document, located."""
    data = doc.data
    problems: list[Problem] = []
    projects = data.get("projects") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(projects, list):
        top = {**data, "projects": []}
        problems += _problems(doc, _validator(MANIFEST_SCHEMA).iter_errors(top), ())
        project_validator = _validator(MANIFEST_SCHEMA, "project")
        member_validator = _validator(MANIFEST_SCHEMA, "member")
        for index, project in enumerate(projects):
            prefix: tuple[PathPart, ...] = ("projects", index)
            members = project.get("members") if isinstance(project, dict) else None
            if isinstance(members, list):
                bad = [j for j, item in enumerate(members) if not _member_ok(item)]
                slim = {**project, "members": []}
                problems += _problems(doc, project_validator.iter_errors(slim), prefix)
                for j in bad:
                    errors = member_validator.iter_errors(members[j])
                    problems += _problems(doc, errors, (*prefix, "members", j))
            else:
                problems += _problems(doc, project_validator.iter_errors(project), prefix)
    else:
        problems += _problems(doc, _validator(MANIFEST_SCHEMA).iter_errors(data), ())
    return problems


def validate_config(doc: Document) -> list[Problem]:
    return _problems(doc, _validator(CONFIG_SCHEMA).iter_errors(doc.data), ())


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
