"""``RouteTable`` routes every request exactly as Starlette's walk through the routes does:
over every route of the emulator (the admin surface too), each method, and paths whose
parameters take the values of other routes' literal segments (``/itwins/favorites`` is also
``/itwins/{itwin_id}``), the first full match is the same route with the same parameters."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import BaseRoute, Match, Route
from starlette.testclient import TestClient

from reconciler.emulator.app import create_app
from reconciler.emulator.routing import RouteTable

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_PARAM = re.compile(r"\{[^}]+\}")


def scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def starlette_first_full(routes: list[BaseRoute], s: dict[str, Any]) -> Any:
    for route in routes:
        match, child = route.matches(s)
        if match is Match.FULL:
            return route, child
    return None


def paths(routes: list[BaseRoute]) -> set[str]:
    """Each route's path with its parameters filled: all with a made-up id, then each in turn
    with every literal segment any route has."""
    templates = [r.path for r in routes if isinstance(r, Route)]
    literals = {seg for t in templates for seg in t.split("/") if seg and "{" not in seg}
    out: set[str] = set()
    for template in templates:
        pieces = _PARAM.split(template)  # the literal text between the parameters
        count = len(pieces) - 1
        for i in range(-1, count):  # -1: no parameter takes a literal
            for value in literals if i >= 0 else {"x-1"}:
                values = [value if j == i else "x-1" for j in range(count)]
                out.add("".join(p + v for p, v in zip(pieces, [*values, ""], strict=True)))
    return out | {"/", "/nope", "/itwins/x-1/nope", "/accesscontrol/itwins/x-1/members/x-2/nope"}


@pytest.fixture
def router(tmp_path: Path) -> RouteTable:
    app = create_app(tmp_path / "r.db", admin=True)
    assert isinstance(app.router, RouteTable)
    assert app.router.candidates("GET", "/itwins") is not None  # the index is on
    return app.router


def test_every_request_finds_the_route_starlettes_walk_finds(router: RouteTable) -> None:
    routes = list(router.routes)
    assert len(routes) > 80
    checked = matched = 0
    for path in sorted(paths(routes)):
        for method in METHODS:
            s = scope(method, path)
            expected = starlette_first_full(routes, s)
            assert router.full_match(s) == expected, (method, path)
            checked += 1
            matched += expected is not None
    assert matched > 300  # the check above compared routes, not only misses
    assert checked > 2000


def test_requests_through_the_app_still_route_as_before(tmp_path: Path) -> None:
    app = create_app(tmp_path / "a.db")
    with TestClient(app) as client:
        auth = {"Authorization": "Bearer alice-token"}
        # A literal before a parameter of the same depth: /itwins/favorites is the list.
        r = client.get("/itwins/favorites", headers=auth)
        assert (r.status_code, r.json()["iTwins"]) == (200, [])
        # A path of another method, and no path at all: the gateway's 404 (contract §2.1).
        for method, path in (("PUT", "/itwins"), ("GET", "/nowhere")):
            r = client.request(method, path, headers=auth)
            assert (r.status_code, r.json()["error"]["code"]) == (404, "ResourceNotFound")
