"""A saved plan is bound to its target (issue 13), through the real executable against two
served emulators: applied where it was made, refused naming both APIs when the environment
names another, and no API is ever assumed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from reconciler.emulator.server import RunningEmulator, start_background

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]

DEMO_ENV = {"ITWIN_CLIENT_ID": "itwin-access-demo", "ITWIN_CLIENT_SECRET": "demo-secret"}


@pytest.fixture
def other(tmp_path: Path) -> Iterator[RunningEmulator]:
    """A second tenant: another emulator with its own database."""
    with start_background(str(tmp_path / "other.db"), admin=True) as emulator:
        yield emulator


def writes(emulator: RunningEmulator) -> int:
    routes = httpx.get(f"{emulator.base_url}/__emulator/counters").json()["routes"]
    return sum(
        r["count"]
        for name, r in routes.items()
        if not name.startswith("GET ") and name != "POST /connect/token"
    )


def test_a_plan_made_against_a_is_refused_while_configured_for_b_and_applies_to_a(
    served: RunningEmulator, other: RunningEmulator, quickstart: Path, tmp_path: Path, cli_tools
) -> None:
    clean_env, itwin_access = cli_tools
    (quickstart / "itwin-access.yaml").write_text("backend: itwins\n")  # the API from the env
    saved = tmp_path / "plan.json"
    on_a = clean_env(ITWIN_ACCESS_API=served.base_url, **DEMO_ENV)
    made = itwin_access("plan", quickstart, "--out", saved, env=on_a)
    assert made.code == 0, made.stderr
    document = json.loads(saved.read_text())
    assert document["target"]["api"] == served.base_url
    schema = json.loads((ROOT / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(document)  # made by the executable, not in-process

    on_b = clean_env(ITWIN_ACCESS_API=other.base_url, **DEMO_ENV)
    refused = itwin_access("apply", "--plan", saved, "--auto-approve", env=on_b, cwd=tmp_path)
    assert refused.code == 1
    assert refused.stdout == ""
    assert refused.stderr == (
        f"Error: refusing to apply: the environment names API {other.base_url} (the plan was "
        f"made against {served.base_url}). Nothing was sent. Apply the plan with a config (or "
        "ITWIN_ACCESS_API) naming its target, or plan again against this one\n"
    )
    assert writes(other) == 0

    # Nothing names an API now (no config in the directory, none in the environment): the
    # plan is applied where it was made.
    applied = itwin_access(
        "apply", "--plan", saved, "--auto-approve", env=clean_env(**DEMO_ENV), cwd=tmp_path
    )
    assert applied.code == 0, applied.stderr
    assert applied.stdout.startswith(f"Target: API {served.base_url} | backend itwins | ")
    assert writes(served) > 0
    assert writes(other) == 0


def test_with_no_config_and_no_api_commands_that_talk_to_one_say_what_to_set(
    quickstart: Path, tmp_path: Path, cli_tools: Any
) -> None:
    clean_env, itwin_access = cli_tools
    (quickstart / "itwin-access.yaml").unlink()
    for command in ("plan", "drift", "apply"):
        result = itwin_access(command, quickstart, env=clean_env(**DEMO_ENV), cwd=tmp_path)
        assert result.code == 1, command
        assert result.stderr.startswith("Error: no API to talk to (no config found): set `api:`")
        assert "ITWIN_ACCESS_API" in result.stderr
        assert "Traceback" not in result.stderr


def test_itwin_access_config_names_the_config_for_every_command(
    served: RunningEmulator, quickstart: Path, tmp_path: Path, cli_tools: Any
) -> None:
    clean_env, itwin_access = cli_tools
    config = tmp_path / "elsewhere.yaml"
    config.write_text(f"api: {served.base_url}\nbackend: itwins\n")
    (quickstart / "itwin-access.yaml").unlink()
    env = clean_env(ITWIN_ACCESS_CONFIG=str(config), **DEMO_ENV)
    planned = itwin_access("plan", quickstart, env=env)
    assert planned.code == 0, planned.stderr
    assert planned.stdout.splitlines()[0].endswith(f"| config {config}")


def test_a_plan_made_on_the_embedded_emulator_applies_to_that_emulators_database(
    embedded_cli, quickstart: Path, tmp_path: Path
) -> None:
    # Two directories are two tenants: the plan records which database it was made against,
    # so a merge job running elsewhere applies it there, not to a fresh emulator of its own.
    saved = tmp_path / "plan.json"
    assert embedded_cli("plan", quickstart, "--out", saved).code == 0
    db = (quickstart / ".itwin-access" / "emulator.db").resolve()
    assert json.loads(saved.read_text())["target"]["api"] == f"emulator:{db}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    applied = embedded_cli("apply", "--plan", saved, "--auto-approve", cwd=elsewhere)
    assert applied.code == 0, applied.stderr
    assert not (elsewhere / ".itwin-access").exists()
    assert embedded_cli("plan", quickstart, "--detailed-exitcode").code == 0
