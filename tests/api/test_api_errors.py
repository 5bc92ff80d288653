"""The typed error tree: each refusal leaves the API layer as its own ``ApiError`` subclass
(against the emulator), error bodies of every shape are read by one function, and a create
that must not be duplicated is resent by the client's one retry policy only when it is not
found (MockTransport: the emulator does not drop answers after acting)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from api_mocks import sequence
from starlette.testclient import TestClient

from reconciler.api import (
    ACCEPT_V1,
    ACCEPT_V2,
    AccessControlApi,
    ApiClient,
    ItwinsApi,
    RetryPolicy,
    StaticToken,
)
from reconciler.api.envelope import api_error, error_fields
from reconciler.emulator import create_app
from reconciler.errors import (
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Transport,
    Unauthorized,
    Unprocessable,
)

SEED = {
    "organizations": [
        {
            "name": "Contoso",
            "users": [
                {"email": "alice@contoso.com", "orgAdmin": True},
                {"email": "bob@contoso.com"},
            ],
        }
    ],
    "tokens": {"alice-token": "alice@contoso.com", "bob-token": "bob@contoso.com"},
    "itwins": [
        {
            "class": "Endeavor",
            "subClass": "Project",
            "number": "P-1",
            "displayName": "Bridge",
            "createdBy": "alice@contoso.com",
            "owners": ["alice@contoso.com"],
            "roles": [{"displayName": "Viewer", "description": "Read", "permissions": []}],
            "members": [{"email": "bob@contoso.com", "roles": ["Viewer"]}],
        }
    ],
}
NEW = {"class": "Endeavor", "subClass": "Project", "number": "P-1", "displayName": "Twin"}


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(tmp_path / "emu.db", seed=SEED)) as client:
        yield client


def client_for(http: httpx.Client, token: str) -> ApiClient:
    return ApiClient(http, StaticToken(token), retry=RetryPolicy(attempts=1))


def test_each_refusal_of_the_emulator_is_raised_as_its_own_class(http: TestClient) -> None:
    alice, bob = client_for(http, "alice-token"), client_for(http, "bob-token")
    itwin_id = str(next(iter(ItwinsApi(alice).list_pages(number="P-1")))[0]["id"])
    calls: list[tuple[type[ApiError], int, Callable[[], object]]] = [
        (Unauthorized, 401, lambda: ItwinsApi(client_for(http, "nobody")).get(itwin_id)),
        (NotFound, 404, lambda: ItwinsApi(alice).get("no-such-itwin")),
        (Forbidden, 403, lambda: AccessControlApi(bob).create_role(itwin_id, "R", "r")),
        (Conflict, 409, lambda: ItwinsApi(alice).create(NEW)),
        (Unprocessable, 422, lambda: AccessControlApi(alice).create_role(itwin_id, "", "")),
    ]
    for cls, status, call in calls:
        with pytest.raises(ApiError) as info:
            call()
        assert (type(info.value), info.value.status) == (cls, status)
        assert not info.value.may_have_acted


def mock(*answers: httpx.Response | Exception) -> tuple[ApiClient, list[httpx.Request]]:
    handler, seen = sequence(*answers)
    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test")
    retry = RetryPolicy(attempts=3, sleep=lambda _s: None, rng=random.Random(1))
    return ApiClient(http, StaticToken("t"), retry=retry), seen


def test_answers_the_emulator_cannot_give_on_demand_are_typed_too() -> None:
    client, _ = mock(httpx.Response(503))
    with pytest.raises(ServerError) as server:
        client.request("GET", "/x", accept=ACCEPT_V2)
    client, _ = mock(httpx.RemoteProtocolError("dropped"))
    with pytest.raises(Transport) as transport:
        client.request("GET", "/x", accept=ACCEPT_V2)
    assert server.value.may_have_acted
    assert transport.value.may_have_acted
    assert transport.value.status is None

    # A 429 is retried (paced, with real waits) up to MAX_RATE_LIMITED times before it is
    # raised: its class is checked on the map alone.
    assert type(api_error("GET", "/x", 429)) is RateLimited
    assert type(api_error("GET", "/x", 400)) is ApiError


def test_a_reworded_error_keeps_its_class() -> None:
    error = api_error("DELETE", "/x", 404, "RoleNotFound", "gone").with_message("named")
    assert (type(error), error.status, error.code, error.message) == (
        NotFound,
        404,
        "RoleNotFound",
        "named",
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"error": {"code": "C", "message": "M", "details": [{"code": "D", "target": "t"}]}},
            ("C", "M (D at t)", "t"),
        ),
        ({"error": "invalid_client", "error_description": "bad"}, ("invalid_client", "bad", None)),
        (
            {"code": "ProjectNotFound", "message": "no project"},
            ("ProjectNotFound", "no project", None),
        ),
        (["not", "an", "object"], (None, None, None)),
    ],
)
def test_one_reader_of_every_error_body_shape(
    body: object, fields: tuple[str | None, str | None, str | None]
) -> None:
    """The platform envelope, the token endpoint's OAuth shape, and the bare shape of the
    Projects API and of a bulk job's failed action."""
    assert error_fields(body) == fields


def test_create_once_resends_an_ambiguous_create_only_when_it_is_not_found() -> None:
    client, seen = mock(
        httpx.RemoteProtocolError("dropped"), httpx.Response(201, json={"id": "new"})
    )
    looked: list[int] = []

    def post() -> str:
        return str(
            client.json("POST", "/r", accept=ACCEPT_V1, json={}, ambiguous_retry=False)["id"]
        )

    def find_none() -> str | None:
        looked.append(1)
        return None

    assert client.create_once(post, find_none) == "new"
    assert (len(seen), len(looked)) == (2, 1)

    client, seen = mock(httpx.Response(502), httpx.Response(201, json={"id": "twin"}))
    assert client.create_once(post, lambda: "made-before-the-drop") == "made-before-the-drop"
    assert len(seen) == 1  # found: never resent, so no twin


def test_create_once_raises_refusals_at_once_and_the_last_ambiguous_failure() -> None:
    client, seen = mock(httpx.Response(409, json={"error": {"code": "Exists"}}))

    def post() -> object:
        return client.json("POST", "/r", accept=ACCEPT_V1, json={}, ambiguous_retry=False)

    def never() -> object:
        raise AssertionError("a refusal is not looked for")

    with pytest.raises(Conflict):
        client.create_once(post, never)
    assert len(seen) == 1

    client, seen = mock(httpx.Response(503))
    with pytest.raises(ServerError):
        client.create_once(post, lambda: None)
    assert len(seen) == client.retry.attempts
