"""schemas/plan.schema.json describes the plan document (issue 13 item 7); tests/conftest.py
validates every plan the suite makes against it, and these check that it can fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

from reconciler.model import LiveContext, Manage, Project, State, UserMember
from reconciler.plan.build import GuardSettings, build_plan
from reconciler.render import render_json

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
AUTH = {"members": Manage.AUTHORITATIVE}


def sample() -> dict[str, object]:
    desired = Project("P", manage=AUTH, members=(UserMember("a@x.com", frozenset({"V"})),))
    actual = Project(
        "P", manage=AUTH, id="i", members=(UserMember("b@x.com", frozenset({"V"}), id="m"),)
    )
    plan = build_plan(State((desired,)), State((actual,)), LiveContext("me@x.com"), GuardSettings())
    document: dict[str, object] = json.loads(
        render_json(plan, extras=frozenset({"P/remove_member/b@x.com"}))
    )
    return document


def test_the_schema_is_valid_and_accepts_a_drift_document() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    Draft202012Validator(SCHEMA).validate(sample())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("format_version", 1),
        ("digest", "not-a-digest"),
        ("allow", ["last-owner"]),  # never liftable
        ("operations", [{"id": "P/explode/x"}]),
        ("unexpected", True),
    ],
)
def test_the_schema_refuses_what_is_not_a_plan(key: str, value: object) -> None:
    document = sample()
    document[key] = value
    with pytest.raises(ValidationError):
        Draft202012Validator(SCHEMA).validate(document)
