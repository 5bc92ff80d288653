"""Review-first plans on the enterprise example (issue 16): the access impact first, a change
to a shared role set shown once with its projects, new projects marked, JSON's impact key."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from reconciler.emulator import create_app
from reconciler.emulator.seed import demo_seed

if TYPE_CHECKING:  # the fixtures' types only: which `conftest` a bare import finds depends on
    from conftest import Invoke  # the files collected before (tests/manifest has one too)

ENTERPRISE = Path(__file__).resolve().parents[2] / "examples" / "enterprise"
CONFIG = "api: http://testserver\nbackend: itwins\npolicies:\n  domains: [contoso.com]\n"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[TestClient]:
    """The demo seed plus every Contoso person the enterprise example names (its groups need
    them in the directory)."""
    seed = demo_seed()
    contoso = next(o for o in seed["organizations"] if o["name"] == "Contoso")
    known = {u["email"] for u in contoso["users"]}
    names = re.findall(r"[a-z0-9.]+@contoso\.com", _all_text(ENTERPRISE))
    contoso["users"] += [{"email": e} for e in sorted(set(names) - known)]
    with TestClient(create_app(tmp_path / "emulator.db", seed, admin=True)) as client:
        yield client


def _all_text(tree: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(tree.rglob("*.yaml")))


@pytest.fixture
def enterprise(tmp_path: Path, run: Invoke) -> Path:
    """The enterprise example applied to the emulator, then one role of its shared set edited:
    Engineer gains forms_read and loses issues_write, and a new project is declared."""
    tree = tmp_path / "enterprise"
    shutil.copytree(ENTERPRISE, tree)
    (tree / "itwin-access.yaml").write_text(CONFIG)
    # One apply creates the program and, once it exists, its 50 projects under it.
    applied = run("apply", tree, "--auto-approve")
    assert applied.code == 0, applied.stderr
    role_sets = tree / "role-sets.yaml"
    text = role_sets.read_text()
    engineer = "storage_write, issues_read, issues_write, changedelements_read,"
    assert engineer in text
    role_sets.write_text(
        text.replace(engineer, "storage_write, issues_read, forms_read, changedelements_read,")
    )
    new = (ENTERPRISE / "projects" / "metro-010.yaml").read_text()
    new = new.replace("METRO-010", "METRO-099").replace("Station 10", "Station 99")
    new = new.replace("- engineer28@contoso.com", "- reviewer@partner.example")
    new = new.replace("frank@contoso.com", "guest@partner.example")
    (tree / "projects" / "metro-099.yaml").write_text(new)
    return tree


def test_a_shared_role_change_is_shown_once_with_its_projects_after_the_impact(
    enterprise: Path, run: Invoke
) -> None:
    planned = run("plan", enterprise, "--format", "markdown")
    assert planned.code == 0, planned.stderr
    text = planned.stdout
    # The impact comes first, right after the plan's headline.
    assert text.index("**Access changes: ") < text.index("| Project | Add |")
    # The role change: once, as a delta, with its projects (51: the program has the role too).
    assert text.count("~ update role 'Engineer'") == 1
    assert re.search(r"~ update role 'Engineer' in 51 projects  # \S*role-sets.yaml:8:7\n", text)
    assert "    permissions: +forms_read -issues_write" in text
    # The projects, wrapped so no line of the code block runs off the right edge.
    assert "    projects: METRO-001, METRO-002," in text
    block = text[
        text.index("~ update role 'Engineer'") : text.index("```\n", text.index("~ update role"))
    ]
    assert "METRO-050, METRO-PRG" in block
    assert all(len(line) <= 92 for line in block.splitlines()[1:])
    # The new project is marked in the summary table, and keeps its own section.
    assert "| `METRO-099` | " in text
    assert re.search(r"\| `METRO-099` \| \d+ \| 0 \| 0 \| \*\*new\*\* \|", text)
    assert "<code>METRO-099:" in text
    # Projects whose only change is the shared one have no section of their own.
    assert "<code>METRO-001:" not in text
    # The external guest becomes Project Administrator of the new project: flagged.
    warning = text[text.index("> [!WARNING]") : text.index("| Who |")]
    assert "guest@partner.example (outside the organization) gains " in warning
    assert "`administration_remove_member`" in warning
    assert "in `METRO-099`" in warning


def test_the_json_plan_carries_the_impact_and_the_text_plan_says_it_first(
    enterprise: Path, run: Invoke
) -> None:
    planned = run("plan", enterprise, "--format", "json")
    document = json.loads(planned.stdout)
    impact = document["impact"]
    assert impact["format_version"] == 1
    assert impact["domains"] == ["contoso.com"]
    assert impact["createdProjects"] == ["METRO-099"]
    teams = [g for g in impact["groups"] if g["gained"] == ["forms_read"]]
    assert teams
    assert all(g["lost"] == ["issues_write"] for g in teams)
    guest = next(p for p in impact["people"] if p["name"] == "guest@partner.example")
    assert guest["external"] is True
    assert guest["projects"] == ["METRO-099"]
    # Invited (outside the organization): what the invitation grants is pending.
    assert "administration_remove_member" in guest["pending"]
    assert {f["flag"] for f in impact["flags"]} >= {"external-admin", "new-owner"}
    text = run("plan", enterprise).stdout
    # First after the target line (issue 13): API, backend, identity, config.
    assert text.split("\n\n", 1)[1].startswith("Access changes: ")
    assert text.index("Access changes: ") < text.index("itwin-access will perform")
