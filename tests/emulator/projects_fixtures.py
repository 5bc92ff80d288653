"""Shared seed and helpers for the Projects API tests (test_projects_*.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from reconciler.emulator.app import create_app
from reconciler.emulator.identity import user_id_for

SEEDED_ID = "5e3c0a52-0000-4000-8000-000000000001"
MANAGER_ROLE = "5e3c0a52-0000-4000-8000-0000000000a1"
VIEWER_ROLE = "5e3c0a52-0000-4000-8000-0000000000a2"
MISSING_USER = "5e3c0a52-0000-4000-8000-0000000000ff"
MANAGER_PERMS = [
    "administration_invite_member",
    "administration_remove_member",
    "administration_manage_roles",
    "imodels_read",
]

SEED: dict[str, Any] = {
    "organizations": [
        {
            "name": "Contoso",
            "users": [
                {"email": "alice@contoso.com", "givenName": "Alice", "surname": "Admin",
                 "orgAdmin": True},
                {"email": "bob@contoso.com", "givenName": "Bob", "surname": "Builder"},
                {"email": "carol@contoso.com", "givenName": "Carol", "surname": "Carter"},
                {"email": "dana@contoso.com", "givenName": "Dana", "surname": "Designer"},
                {"email": "eli@contoso.com", "givenName": "Eli", "surname": "Engineer"},
            ],
        },
        {
            "name": "Fabrikam",
            "users": [
                {"email": "xena@fabrikam.com", "givenName": "Xena", "surname": "External"},
                {"email": "yuri@fabrikam.com", "givenName": "Yuri", "surname": "Admin",
                 "orgAdmin": True},
            ],
        },
    ],
    "tokens": {
        "alice": "alice@contoso.com",
        "bob": "bob@contoso.com",
        "carol": "carol@contoso.com",
        "dana": "dana@contoso.com",
        "yuri": "yuri@fabrikam.com",
        "solo": "solo@example.com",  # in no organization: may create and own projects
    },
    "projects": [
        {
            "id": SEEDED_ID,
            "displayName": "Seeded Bridge",
            "projectNumber": "S-1",
            "latitude": "40.0",
            "longitude": "-75.5",
            "timeZone": "EST",
            "allowExternalTeamMembers": False,
            "roles": [
                {"id": MANAGER_ROLE, "displayName": "Manager", "description": "Runs the team",
                 "permissions": MANAGER_PERMS},
                {"id": VIEWER_ROLE, "displayName": "Viewer", "description": "Reads",
                 "permissions": ["imodels_read"]},
            ],
            "members": [
                {"email": "bob@contoso.com", "roles": ["Team Member", "Manager"]},
                {"email": "carol@contoso.com", "roles": ["Viewer"]},
                {"id": MISSING_USER, "email": None, "roles": ["Viewer"]},
            ],
        }
    ],
}  # fmt: skip

BOB_ID = user_id_for("bob@contoso.com")
CAROL_ID = user_id_for("carol@contoso.com")


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


FULL = {"Prefer": "return=representation"}


def serve(db_path: Path) -> Iterator[TestClient]:
    """Body of each test module's ``client`` fixture: the app over a fresh database."""
    with TestClient(create_app(db_path, seed=SEED)) as test_client:
        yield test_client


def error(response: httpx.Response) -> dict[str, Any]:
    """The error object of an error answer (asserting the envelope on the way)."""
    body = response.json()
    assert set(body) == {"error"}, body
    err: dict[str, Any] = body["error"]
    return err


def detail_of(response: httpx.Response) -> tuple[str, str | None]:
    details = error(response)["details"]
    assert len(details) == 1, details
    return details[0]["code"], details[0].get("target")


def create(client: TestClient, token: str = "alice", **body: Any) -> dict[str, Any]:
    body.setdefault("displayName", f"Project {body.get('projectNumber', 'X')}")
    response = client.post("/projects/", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()["project"]
    return project
