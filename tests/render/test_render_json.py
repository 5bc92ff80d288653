"""render.json: the versioned saved-plan document, round-tripping and refusing foreign input."""

from __future__ import annotations

import json

import pytest

from reconciler.errors import PlanError
from reconciler.model import SECTIONS, LiveContext, Manage, Project, State, UserMember
from reconciler.plan.build import GuardSettings, build_plan
from reconciler.render import load_json, render_json

AUTH = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)


def test_json_is_the_plan_dict_and_loads_back_to_the_same_plan() -> None:
    desired = Project("P", manage=AUTH, members=(UserMember("a@x.com", frozenset({"V"})),))
    actual = Project(
        "P", manage=AUTH, id="i", members=(UserMember("b@x.com", frozenset({"V"}), id="m"),)
    )
    plan = build_plan(State((desired,)), State((actual,)), LiveContext("me@x.com"), GuardSettings())
    text = render_json(plan)
    assert text.endswith("}\n")
    data = json.loads(text)
    assert data == plan.to_dict()
    assert data["format_version"] == 2
    assert set(data) == {
        "format_version",
        "target",
        "facts",
        "digest",
        "identity",
        "allow",
        "summary",
        "blocked",
        "fingerprints",
        "sections",  # the sections read live, per project (issue 17)
        "operations",
        "guards",
        "problems",
    }
    assert data["sections"] == {"P": ["roles", "groups", "members", "owners"]}
    assert load_json(text) == plan


def test_not_json_or_another_version_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="not valid JSON"):
        load_json("{oops")
    with pytest.raises(PlanError, match="format_version 1"):
        load_json('{"format_version": 1}')


def test_drift_json_adds_a_versioned_split_and_still_loads_as_a_plan() -> None:
    desired = Project("P", manage=AUTH, members=(UserMember("a@x.com", frozenset({"V"})),))
    actual = Project(
        "P", manage=AUTH, id="i", members=(UserMember("b@x.com", frozenset({"V"}), id="m"),)
    )
    plan = build_plan(State((desired,)), State((actual,)), LiveContext("me@x.com"), GuardSettings())
    extras = frozenset({"P/remove_member/b@x.com"})
    data = json.loads(render_json(plan, extras=extras))
    assert data["drift"] == {
        "format_version": 2,
        "summary": {"changed": 1, "extras": 1, "expired": 0},
        "changed": ["P/add_member/a@x.com"],
        "extras": ["P/remove_member/b@x.com"],
        "expired": [],
    }
    assert {k: v for k, v in data.items() if k != "drift"} == plan.to_dict()
    assert load_json(json.dumps(data)) == plan
    assert "drift" not in json.loads(render_json(plan))
