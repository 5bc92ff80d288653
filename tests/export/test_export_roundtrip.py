"""The export round trip: manifests exported from live state, loaded by the manifest loader and
planned against the same live state, give an empty plan. On the emulator, over HTTP, for the
quickstart example applied by the reconciler and for generated 200-project tenants of both
backends (roles shared and not, members, pending invitations, groups, owners).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from reconciler.apply import apply_plan
from reconciler.emulator.app import create_app
from reconciler.emulator.seed import demo_seed
from reconciler.export import ROLE_SETS_FILE, export_state, write_files
from reconciler.manifest import load_state
from reconciler.model import State
from reconciler.plan.build import GuardSettings, Plan, build_plan
from reconciler.targets.itwins import ItwinsTarget
from reconciler.targets.projects import ProjectsTarget

ROOT = Path(__file__).resolve().parents[2]
USERS = [f"{n}@contoso.com" for n in ("alice", "bob", "carol", "dana", "eli", "frank")]
STANDARD = [
    {"displayName": "Viewer", "description": "Read only", "permissions": ["imodels_read"]},
    {
        "displayName": "Contributor",
        "description": "Edits models",
        "permissions": ["imodels_read", "imodels_write", "storage_write"],
    },
    {
        "displayName": "Project Admin",
        "description": "Manages members",
        "permissions": ["administration_invite_member", "administration_remove_member"],
    },
]


def _roles(rng: random.Random, i: int) -> list[dict[str, Any]]:
    roles = [dict(r) for r in STANDARD]
    if i % 7 == 0:  # a project whose Viewer was edited by hand: not shared with the others
        roles[0]["permissions"] = ["imodels_read", "imodels_webview"]
    if i % 5 == 0:  # a role only this project has
        roles.append({"displayName": f"Lead {i}", "description": "Leads", "permissions": []})
    if i % 11 == 0:  # a role shared by a handful of projects
        roles.append({"displayName": "Auditor", "description": "Audits", "permissions": []})
    return roles


def _members(rng: random.Random, roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = [r["displayName"] for r in roles]
    return [
        {"email": email, "roles": sorted(rng.sample(names, rng.randint(1, 2)))}
        for email in sorted(rng.sample(USERS[1:], rng.randint(1, 5)))
    ]


def _itwins_seed(count: int) -> dict[str, Any]:
    rng = random.Random(7)
    seed = demo_seed()
    itwins = []
    for i in range(count):
        roles = _roles(rng, i)
        entry: dict[str, Any] = {
            "class": "Endeavor",
            "subClass": "Project",
            "number": f"T-{i:04d}",
            "displayName": f"Tenant project {i}",
            "status": "Active" if i % 9 else "Inactive",
            "ianaTimeZone": "Europe/London",
            "roles": roles,
            "owners": ["alice@contoso.com"] + (["bob@contoso.com"] if i % 4 == 0 else []),
            "members": _members(rng, roles),
        }
        if i % 3 == 0:
            entry["groups"] = [
                {"name": "Team", "description": "The team", "members": USERS[2:4], "imsGroups": []}
            ]
            entry["groupMembers"] = [{"group": "Team", "roles": ["Viewer"]}]
        if i % 6 == 0:
            entry["invitations"] = [{"email": f"guest{i}@example.com", "roles": ["Viewer"]}]
        itwins.append(entry)
    seed["itwins"] = itwins
    return seed


def _projects_seed(count: int) -> dict[str, Any]:
    rng = random.Random(11)
    seed = demo_seed()
    projects = []
    for i in range(count):
        roles = _roles(rng, i)
        members = _members(rng, roles)
        for member in members:
            member["roles"] = ["Team Member", *member["roles"]]
        projects.append(
            {
                "projectNumber": f"L-{i:04d}",
                "displayName": f"Legacy project {i}",
                "timeZone": "Europe/Vilnius",
                "latitude": "54.5",
                "longitude": "25.25",
                "roles": roles,
                "members": members,
            }
        )
    seed["projects"] = projects
    return seed


def _plan(target: ItwinsTarget | ProjectsTarget, desired: State) -> Plan:
    actual, context = target.read(desired.numbers())
    return build_plan(desired, actual, context, GuardSettings())


def _export_and_replan(
    target: ItwinsTarget | ProjectsTarget, numbers: list[str], out: Path, backend: str
) -> tuple[Plan, dict[str, str]]:
    actual, _ = target.read(numbers)
    assert actual.numbers() == tuple(sorted(numbers))
    files = export_state(actual).files
    write_files(files, out)
    exported = load_state([out], backend=backend)
    return _plan(target, exported), files


@pytest.fixture
def emulator(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    seed = getattr(request, "param", None)
    with TestClient(create_app(tmp_path / "emulator.db", seed=seed)) as client:
        yield client


def test_quickstart_applied_then_exported_plans_nothing(
    emulator: TestClient, tmp_path: Path
) -> None:
    target = ItwinsTarget.connect(
        emulator, client_id="itwin-access-demo", client_secret="demo-secret"
    )
    desired = load_state([ROOT / "examples" / "quickstart"])
    report = apply_plan(_plan(target, desired).operations, target)
    assert report.complete, [o.to_dict() for o in report.failed]

    plan, files = _export_and_replan(target, list(desired.numbers()), tmp_path / "out", "itwins")
    assert plan.operations == ()
    # The three projects share the quickstart's "standard" roles: one role set, used by all.
    sets = yaml.safe_load(files[ROLE_SETS_FILE])["roleSets"]
    assert [sorted(r["displayName"] for r in roles) for roles in sets.values()] == [
        ["Contributor", "Project Admin", "Viewer"]
    ]


@pytest.mark.parametrize("emulator", [_itwins_seed(200)], indirect=True, ids=["itwins-200"])
def test_a_200_project_itwins_tenant_round_trips(emulator: TestClient, tmp_path: Path) -> None:
    target = ItwinsTarget.connect(emulator, token="alice-token", rate_limit=None)
    numbers = [f"T-{i:04d}" for i in range(200)]
    plan, files = _export_and_replan(target, numbers, tmp_path / "out", "itwins")
    assert [op.id for op in plan.operations] == []
    assert len(files) == 202  # one per project + role-sets.yaml + manifest.schema.json
    assert "Auditor" in files[ROLE_SETS_FILE]  # shared by projects 0, 11, 22...: a role set
    assert "Lead 5" in files["projects/T-0005.yaml"]  # used once: stays inline


@pytest.mark.parametrize("emulator", [_projects_seed(200)], indirect=True, ids=["projects-200"])
def test_a_200_project_projects_api_tenant_round_trips(
    emulator: TestClient, tmp_path: Path
) -> None:
    target = ProjectsTarget.connect(emulator, token="alice-token", rate_limit=None)
    numbers = target.all_numbers()
    assert len(numbers) == 200
    plan, files = _export_and_replan(target, numbers, tmp_path / "out", "projects")
    assert [op.id for op in plan.operations] == []
    text = files["projects/L-0001.yaml"]
    assert "Team Member" not in text
    assert "groups" not in text
    assert "owners" not in text


def test_export_is_deterministic_across_reads(tmp_path: Path) -> None:
    seed = _projects_seed(20)
    texts = []
    for run in range(2):
        with TestClient(create_app(tmp_path / f"e{run}.db", seed=seed)) as http:
            target = ProjectsTarget.connect(http, token="alice-token", rate_limit=None)
            actual, _ = target.read(target.all_numbers())
            texts.append(export_state(actual).files)
    assert texts[0] == texts[1]
