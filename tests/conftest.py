"""Suite-wide fixtures: the hermetic guard (no test reads a file another machine lacks), and
every plan document the suite makes validated against schemas/plan.schema.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.plan.build import Plan

pytest_plugins = ["hermetic", "pytester"]

ROOT = Path(__file__).resolve().parent.parent
PLAN_SCHEMA = Draft202012Validator(
    json.loads((ROOT / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
)


def check_plan_document(document: Any) -> None:
    """Fail with the first violation of schemas/plan.schema.json (issue 13 item 7)."""
    errors = sorted(PLAN_SCHEMA.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise AssertionError(
            f"plan document violates plan.schema.json at {where}: {errors[0].message}"
        )


@pytest.fixture(autouse=True, scope="session")
def every_plan_matches_the_plan_schema() -> Iterator[None]:
    """Every plan document the suite produces in this process (saved plans, --format json,
    show) goes through Plan.to_dict: each is validated against the schema as it is made."""
    original = Plan.to_dict

    def checked(self: Plan) -> dict[str, Any]:
        document = original(self)
        check_plan_document(json.loads(json.dumps(document)))
        return document

    Plan.to_dict = checked  # type: ignore[method-assign]
    yield
    Plan.to_dict = original  # type: ignore[method-assign]
