"""Migration off the deprecated Projects API, end to end: the real `itwin-access` executable
against the emulator served by uvicorn on 127.0.0.1.

``export --all`` from a ``backend: projects`` config, then ``apply`` of the exported manifests
with a ``backend: itwins`` config, reproduces the projects, their roles and their members as
iTwins with Access Control; afterwards both backends plan nothing for the same manifests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.emulator.seed import demo_seed
from reconciler.emulator.server import RunningEmulator, start_background
from reconciler.model import Project, State
from reconciler.targets.itwins import ItwinsTarget
from reconciler.targets.projects import ProjectsTarget

pytestmark = pytest.mark.e2e

STANDARD = [
    {"displayName": "Viewer", "description": "Read only", "permissions": ["imodels_read"]},
    {
        "displayName": "Modeler",
        "description": "Edits models",
        "permissions": ["imodels_read", "imodels_write"],
    },
]


def _legacy_seed() -> dict[str, Any]:
    seed = demo_seed()
    seed["projects"] = [
        {
            "projectNumber": "LEG-001",
            "displayName": "Harbour Wall",
            "timeZone": "Europe/London",
            "latitude": "51.5",
            "longitude": "-0.12",
            "geographicLocation": "London",
            "dataCenterLocation": "UK South",
            "roles": STANDARD,
            "members": [
                {"email": "bob@contoso.com", "roles": ["Team Member", "Viewer"]},
                {"email": "carol@contoso.com", "roles": ["Team Member", "Modeler", "Viewer"]},
                # A basic team member: only the API's own role, which iTwins cannot express.
                {"email": "frank@contoso.com", "roles": ["Team Member"]},
            ],
        },
        {
            "projectNumber": "LEG-002",
            "displayName": "Ring Road",
            "status": "inactive",
            "roles": [
                *STANDARD,
                {
                    "displayName": "Surveyor",
                    "description": "Uploads surveys",
                    "permissions": ["realitydata_read", "realitydata_modify"],
                },
            ],
            "members": [
                {"email": "dana@contoso.com", "roles": ["Team Member", "Surveyor"]},
                {"email": "eli@contoso.com", "roles": ["Team Member", "Viewer"]},
            ],
        },
        {
            "projectNumber": "LEG-003",
            "displayName": "Depot",
            "roles": [{"displayName": "Reader", "description": "Reads", "permissions": []}],
            "members": [{"email": "bob@contoso.com", "roles": ["Team Member", "Reader"]}],
        },
    ]
    return seed


@pytest.fixture
def legacy(tmp_path: Path) -> Iterator[RunningEmulator]:
    with start_background(str(tmp_path / "legacy.db"), seed=_legacy_seed()) as emulator:
        yield emulator


def _essence(project: Project) -> dict[str, Any]:
    """What a migration must carry over, in manifest terms."""
    keep = ("displayName", "status", "ianaTimeZone", "latitude", "longitude",
            "geographicLocation", "dataCenterLocation", "class", "subClass")  # fmt: skip
    return {
        "attributes": {k: v for k, v in project.attributes.items() if k in keep},
        "roles": {(r.display_name, r.description, r.permissions) for r in project.roles},
        "members": {(m.email, m.roles) for m in project.members},
    }


def _read(target: ItwinsTarget | ProjectsTarget, numbers: list[str]) -> State:
    return target.read(numbers)[0]


def test_export_from_projects_then_apply_to_itwins_reproduces_access(
    legacy: RunningEmulator, tmp_path: Path, cli_with_env: Callable[..., Any]
) -> None:
    old, new = tmp_path / "projects-api.yaml", tmp_path / "itwins.yaml"
    old.write_text(f"api: {legacy.base_url}\nbackend: projects\n")
    new.write_text(f"api: {legacy.base_url}\nbackend: itwins\n")
    token = {"ITWIN_ACCESS_TOKEN": "alice-token"}

    def itwin_access(*args: str | Path) -> Any:
        return cli_with_env(token, *args)

    manifests = tmp_path / "manifests"

    exported = itwin_access("export", "--out", manifests, "--all", "--config", old)
    assert exported.code == 0, exported.stderr
    assert "Exported 3 project(s) from the projects backend" in exported.stderr
    assert 'member frank@contoso.com holds only "Team Member"' in exported.stderr
    assert itwin_access("validate", manifests).code == 0
    # Faithful to the source: planned against the Projects API, nothing to do.
    same = itwin_access("plan", manifests, "--config", old, "--detailed-exitcode")
    assert same.code == 0, same.stdout + same.stderr

    planned = itwin_access("plan", manifests, "--config", new, "--detailed-exitcode")
    assert planned.code == 2, planned.stdout + planned.stderr
    assert all(n in planned.stdout for n in ("LEG-001", "LEG-002", "LEG-003"))
    applied = itwin_access("apply", manifests, "--config", new, "--auto-approve")
    assert applied.code == 0, applied.stdout + applied.stderr
    after = itwin_access("plan", manifests, "--config", new, "--detailed-exitcode")
    assert after.code == 0, after.stdout + after.stderr

    numbers = ["LEG-001", "LEG-002", "LEG-003"]
    with httpx.Client(base_url=legacy.base_url, timeout=30) as http:
        source = _read(ProjectsTarget.connect(http, token="alice-token"), numbers)
        migrated = _read(ItwinsTarget.connect(http, token="alice-token"), numbers)
    assert migrated.numbers() == tuple(numbers)
    for number in numbers:
        was, now = source.project(number), migrated.project(number)
        assert was is not None
        assert now is not None
        assert _essence(now) == _essence(was), number
    # The basic team member ("Team Member" only) had no role to carry over.
    first = migrated.project("LEG-001")
    assert first is not None
    assert "frank@contoso.com" not in {m.email for m in first.members}
