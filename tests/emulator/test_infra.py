"""Cross-cutting behaviour: auth, tokens, versions, paths, 204s, persistence, admin surface."""

from __future__ import annotations

import base64
import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from emu_helpers import AC, V1, Emu, error_code, h
from starlette.testclient import TestClient

from reconciler.emulator import Clock, create_app
from reconciler.emulator.server import start_background


def test_missing_authorization_header_is_401_header_not_found(client: TestClient) -> None:
    r = client.get("/itwins")
    assert r.status_code == 401
    assert error_code(r) == "HeaderNotFound"
    assert r.headers["content-type"] == "application/json"


def test_unknown_token_is_401_unauthorized(client: TestClient) -> None:
    r = client.get("/itwins", headers=h("nope"))
    assert (r.status_code, error_code(r)) == (401, "Unauthorized")
    r = client.get("/itwins", headers={"Authorization": "Basic abc"})
    assert (r.status_code, error_code(r)) == (401, "Unauthorized")


def test_client_credentials_token_is_jwt_shaped_and_works(emu: Emu, client: TestClient) -> None:
    token = emu.app_token()
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert payload["email"] == "itwin-access-demo@apps.contoso.com"
    assert payload["client_id"] == "itwin-access-demo"
    assert payload["exp"] - payload["iat"] == 3600
    assert client.get("/itwins", headers=h(token)).status_code == 200


def test_token_endpoint_refuses_bad_secret_and_grant(client: TestClient) -> None:
    r = client.post("/connect/token", data={"grant_type": "client_credentials",
                                            "client_id": "itwin-access-demo",
                                            "client_secret": "wrong"})  # fmt: skip
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    r = client.post("/connect/token", data={"grant_type": "password"})
    assert r.json()["error"] == "unsupported_grant_type"


def test_tampered_token_is_refused(emu: Emu, client: TestClient) -> None:
    header, payload, sig = emu.app_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    r = client.get("/itwins", headers=h(f"{header}.{forged}.{sig}"))
    assert (r.status_code, error_code(r)) == (401, "Unauthorized")


class StoppedClock(Clock):
    """An emulator clock that moves only when advanced, from a whole second.

    On the wall clock the test raced the machine: a token's ``exp`` is its whole issuing second
    plus 3600, so a token issued at .9 s had 0.1 s of margin left after advancing 3599 s, and a
    loaded CI machine took longer than that between two requests.
    """

    def __init__(self) -> None:
        super().__init__()
        self._start = float(int(time.time()))

    def now(self) -> float:
        return self._start + self.offset


@pytest.mark.parametrize("clock", [pytest.param(StoppedClock(), id="stopped")])
def test_token_expires_after_3600_seconds_of_emulator_clock(emu: Emu, client: TestClient) -> None:
    token = emu.app_token()
    client.post("/__emulator/clock", json={"advanceSeconds": 3599.5})
    assert client.get("/itwins", headers=h(token)).status_code == 200
    client.post("/__emulator/clock", json={"advanceSeconds": 0.5})
    r = client.get("/itwins", headers=h(token))
    assert (r.status_code, error_code(r)) == (401, "Unauthorized")
    # Static seed tokens do not expire.
    assert client.get("/itwins", headers=h("alice-token")).status_code == 200


def test_unknown_accept_version_is_404_resource_not_found(client: TestClient) -> None:
    accept = {"Accept": "application/vnd.bentley.itwin-platform.v9+json"}
    r = client.get(f"{AC}/permissions", headers={**h("alice-token"), **accept})
    assert r.status_code == 404
    assert error_code(r) == "ResourceNotFound"
    assert "Accept header" in r.json()["error"]["message"]


def test_version_routing_between_v1_and_v2_paths(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    # v2-only path under v1, v1-only path under v2 -> 404 ResourceNotFound.
    r = client.post(f"{AC}/{itwin['id']}/members/owners", json={"email": "bob@contoso.com"},
                    headers=h("alice-token", 1))  # fmt: skip
    assert (r.status_code, error_code(r)) == (404, "ResourceNotFound")
    r = client.get(f"{AC}/{itwin['id']}/members", headers=h("alice-token", 2))
    assert (r.status_code, error_code(r)) == (404, "ResourceNotFound")
    # No Accept header: v2 for access control, v1 for iTwins.
    assert client.get(f"{AC}/{itwin['id']}/members/users", headers=h("alice-token")).is_success
    assert client.get(f"{AC}/{itwin['id']}/members", headers=h("alice-token")).status_code == 404
    assert client.get(f"{AC}/{itwin['id']}/members", headers=h("alice-token", 1)).is_success
    assert client.get("/itwins", headers={**h("alice-token"), "Accept": V1}).is_success
    r = client.get("/itwins", headers=h("alice-token", 2))
    assert (r.status_code, error_code(r)) == (404, "ResourceNotFound")


def test_trailing_slash_and_leading_ampersand_are_tolerated(emu: Emu, client: TestClient) -> None:
    emu.itwin(number="A-1")
    emu.itwin(number="A-2")
    r = client.get("/itwins/?&$top=1", headers=h("alice-token"))
    assert r.status_code == 200
    assert len(r.json()["iTwins"]) == 1


def test_204_has_no_body_and_no_content_type(emu: Emu, client: TestClient) -> None:
    itwin = emu.itwin()
    r = client.post(f"/itwins/favorites/{itwin['id']}", headers=h("alice-token"))
    assert r.status_code == 204
    assert r.content == b""
    assert "content-type" not in r.headers


def test_unknown_path_is_json_404(client: TestClient) -> None:
    r = client.get("/nothing/here", headers=h("alice-token"))
    assert (r.status_code, error_code(r)) == (404, "ResourceNotFound")
    r = client.put("/itwins", headers=h("alice-token"))
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/json"


def test_state_survives_a_restart_on_the_same_database(db_path: Path) -> None:
    first = create_app(db_path)
    with TestClient(first) as c:
        r = c.post("/itwins", json={"class": "Endeavor", "subClass": "Project",
                                    "displayName": "Kept", "number": "K-1"},
                   headers=h("alice-token"))  # fmt: skip
        itwin_id = r.json()["iTwin"]["id"]
        token = Emu(c).app_token()
    first.state.emu.store.close()
    second = create_app(db_path, seed={"organizations": []})  # seed ignored: not a new db
    with TestClient(second) as c:
        r = c.get(f"/itwins/{itwin_id}", headers=h("alice-token"))
        assert r.json()["iTwin"]["number"] == "K-1"
        # A token issued before the restart is still valid (same database secret).
        assert c.get(f"/itwins/{itwin_id}", headers=h(token)).status_code == 200
    second.state.emu.store.close()


def test_admin_surface_is_absent_unless_enabled(tmp_path: Path) -> None:
    app = create_app(tmp_path / "x.db")
    with TestClient(app) as c:
        assert c.get("/__emulator/counters").status_code == 404
    app.state.emu.store.close()


def test_admin_counters_count_requests_per_route(emu: Emu, client: TestClient) -> None:
    client.delete("/__emulator/counters")
    itwin = emu.itwin()
    client.get(f"/itwins/{itwin['id']}", headers=h("alice-token"))
    client.get(f"/itwins/{itwin['id']}", headers=h("nope"))
    counters = client.get("/__emulator/counters").json()
    route = counters["routes"]["GET /itwins/{itwin_id}"]
    assert route == {"count": 2, "statuses": {"200": 1, "401": 1}}
    assert counters["routes"]["POST /itwins"]["count"] == 1


def test_admin_reset_restores_the_seed(emu: Emu, client: TestClient) -> None:
    emu.itwin()
    assert client.post("/__emulator/reset").status_code == 200
    r = client.get("/itwins", headers=h("alice-token"))
    assert r.json()["iTwins"] == []


def test_admin_seed_load_adds_users_and_tokens(client: TestClient) -> None:
    seed = "organizations:\n  - name: Initech\n    users:\n      - {email: pat@initech.com}\n"
    seed += "tokens:\n  pat-token: pat@initech.com\n"
    assert client.post("/__emulator/seed", content=seed).status_code == 200
    assert client.get("/itwins", headers=h("pat-token")).status_code == 200
    r = client.post("/__emulator/seed", content="bogus: 1")
    assert r.status_code == 422


def test_admin_clock_rejects_going_back(client: TestClient, clock: Clock) -> None:
    before = clock.now()
    r = client.post("/__emulator/clock", json={"advanceSeconds": -5})
    assert r.status_code == 422
    client.post("/__emulator/clock", json={"advanceSeconds": 100})
    assert clock.now() - before >= 100


def test_correlation_id_is_echoed_and_bad_json_is_422(client: TestClient) -> None:
    r = client.get("/itwins", headers=h("alice-token", **{"X-Correlation-Id": "abc-1"}))
    assert r.headers["X-Correlation-Id"] == "abc-1"
    r = client.post("/itwins", content=b"{not json", headers=h("alice-token"))
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["code"] == "InvalidRequestBody"


def test_date_header_follows_the_emulator_clock(client: TestClient, tmp_path: Path) -> None:
    # A client judges invitation expiry by the server's time (HTTP Date): the emulator's own.
    before = parsedate_to_datetime(client.get("/itwins", headers=h("alice-token")).headers["Date"])
    client.post("/__emulator/clock", json={"advanceSeconds": 8 * 86400})
    after = parsedate_to_datetime(client.get("/itwins", headers=h("alice-token")).headers["Date"])
    assert (after - before).days == 8
    # Served by uvicorn: one Date header, the emulator's (uvicorn's own is switched off).
    clock = Clock(offset=30 * 86400)
    running = start_background(tmp_path / "served.db", clock=clock)
    try:
        response = httpx.get(f"{running.base_url}/itwins", headers=h("alice-token"))
    finally:
        running.stop()
    [date] = response.headers.get_list("date")
    assert abs(parsedate_to_datetime(date).timestamp() - clock.now()) < 60
