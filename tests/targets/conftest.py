"""An in-process emulator (Starlette TestClient over a tmp SQLite db) and targets on it."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from reconciler.api import RetryPolicy
from reconciler.emulator import create_app
from reconciler.targets.itwins import ItwinsTarget

CONTOSO = {
    "name": "Contoso",
    "users": [
        {"email": "alice@contoso.com", "givenName": "Alice", "surname": "A", "orgAdmin": True},
        {"email": "bob@contoso.com", "givenName": "Bob", "surname": "B"},
        {"email": "carol@contoso.com", "givenName": "Carol", "surname": "C"},
        {"email": "dana@contoso.com", "givenName": "Dana", "surname": "D"},
        {"email": "eli@contoso.com", "givenName": "Eli", "surname": "E"},
        {"email": "frank@contoso.com", "givenName": "Frank", "surname": "F"},
    ],
    "serviceApps": [
        {
            "clientId": "itwin-access-demo",
            "clientSecret": "demo-secret",
            "email": "itwin-access-demo@apps.contoso.com",
            "orgAdmin": True,
        }
    ],
}

BRIDGE = {
    "class": "Endeavor",
    "subClass": "Project",
    "number": "P-1",
    "displayName": "Bridge",
    "status": "Active",
    "createdBy": "alice@contoso.com",
    "roles": [
        {"displayName": "Viewer", "description": "Read", "permissions": ["imodels_read"]},
        {
            "displayName": "Editor",
            "description": "Write",
            "permissions": ["imodels_read", "imodels_write"],
        },
    ],
    "owners": ["alice@contoso.com"],
    "members": [
        {"email": "bob@contoso.com", "roles": ["Viewer"]},
        {"email": "carol@contoso.com", "roles": ["Viewer", "Editor"]},
    ],
    "groups": [
        {"name": "Team", "description": "The team", "members": ["dana@contoso.com"]},
    ],
    "groupMembers": [{"group": "Team", "roles": ["Editor"]}],
    "invitations": [{"email": "xena@fabrikam.com", "roles": ["Viewer"]}],
}


def seed(*itwins: dict[str, Any]) -> dict[str, Any]:
    return {
        "organizations": [
            CONTOSO,
            {"name": "Fabrikam", "users": [{"email": "xena@fabrikam.com"}]},
        ],
        "tokens": {"alice-token": "alice@contoso.com", "bob-token": "bob@contoso.com"},
        "itwins": list(itwins),
    }


Emulator = Callable[..., TestClient]


@pytest.fixture
def base_seed() -> dict[str, Any]:
    """The directory and tokens of every target test, with no iTwins."""
    return seed()


@pytest.fixture
def bridge() -> dict[str, Any]:
    """A seeded iTwin P-1 with two roles, members, a group, a group member, an invitation."""
    return copy.deepcopy(BRIDGE)


@pytest.fixture
def itwin() -> Callable[..., dict[str, Any]]:
    """``itwin(number, **fields)``: a bare seeded project owned by alice."""

    def make(number: str, **extra: Any) -> dict[str, Any]:
        return {
            "class": "Endeavor",
            "subClass": "Project",
            "number": number,
            "displayName": f"Project {number}",
            "createdBy": "alice@contoso.com",
            "owners": ["alice@contoso.com"],
            **extra,
        }

    return make


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Emulator]:
    """``emulator(*itwins)``: a TestClient over a fresh emulator seeded with those iTwins."""
    clients: list[TestClient] = []

    def make(*itwins: dict[str, Any], **options: Any) -> TestClient:
        app = create_app(tmp_path / f"emu{len(clients)}.db", seed=seed(*itwins), **options)
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


IDENTITIES = {"alice-token": "alice@contoso.com", "bob-token": "bob@contoso.com"}
MakeTarget = Callable[..., ItwinsTarget]


@pytest.fixture
def make_target() -> MakeTarget:
    """``make_target(http, token="alice-token", **options)``: an ItwinsTarget over ``http``
    that never sleeps between retries. Seeded static tokens are opaque, so the identity is
    given as the config's ``identity:`` would (unless ``identity`` is passed)."""

    def make(http: TestClient, token: str = "alice-token", **options: Any) -> ItwinsTarget:
        options.setdefault("identity", IDENTITIES.get(token))
        target = ItwinsTarget.connect(http, token=token, rate_limit=None, **options)
        target.client.retry = RetryPolicy(sleep=lambda _s: None)
        return target

    return make
