"""With 20 % of requests failing and a server-side rate limit, apply still converges, and
changes nothing outside the plan."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

V1 = "application/vnd.bentley.itwin-platform.v1+json"
V2 = "application/vnd.bentley.itwin-platform.v2+json"


def _get(base: str, path: str, accept: str = V2, **params: str) -> Any:
    """GET as alice, retrying the emulator's injected faults (this is the test's own reader)."""
    headers = {"Authorization": "Bearer alice-token", "Accept": accept}
    for _ in range(50):
        try:
            response = httpx.get(base + path, headers=headers, params=params, timeout=30)
        except httpx.TransportError:
            continue
        if response.status_code == 200:
            return response.json()
        if response.status_code not in (429, 500, 502, 503, 504):
            raise AssertionError(response.text)
        time.sleep(float(response.headers.get("Retry-After", "0.2")))
    raise AssertionError(f"GET {path} kept failing")


def _send(base: str, method: str, path: str, body: Any, accept: str = V2) -> Any:
    headers = {"Authorization": "Bearer alice-token", "Accept": accept}
    response = httpx.request(method, base + path, json=body, headers=headers, timeout=30)
    response.raise_for_status()
    return response.json() if response.content else None


def _snapshot(base: str, itwin: str) -> dict[str, Any]:
    ac = f"/accesscontrol/itwins/{itwin}"
    return {
        "itwin": _get(base, f"/itwins/{itwin}", V1),
        "roles": _get(base, f"{ac}/roles"),
        "users": _get(base, f"{ac}/members/users"),
        "owners": _get(base, f"{ac}/members/owners"),
        "groups": _get(base, f"{ac}/groups"),
    }


def test_faults_and_rate_limits_converge_and_touch_nothing_else(
    cli_against, faulty, served, quickstart: Path
) -> None:
    # A project outside the manifests, made by hand before the faults matter (on `served`
    # there are none; it shares nothing with `faulty`, so make it on `faulty` with retries).
    base = faulty.base_url
    for _ in range(50):
        try:
            created = _send(base, "POST", "/itwins", {
                "class": "Endeavor", "subClass": "Project", "displayName": "Outsider",
                "number": "OUT-1",
            }, V1)  # fmt: skip
            break
        except (httpx.HTTPStatusError, httpx.TransportError):
            time.sleep(0.2)
    else:
        raise AssertionError("could not create the outsider project")
    outsider = created["iTwin"]["id"]
    before = _snapshot(base, outsider)

    cli = cli_against(faulty)
    # Convergence is the property, not the number of runs: create POSTs are not resent after an
    # ambiguous failure, so a run may end partly applied (4) and the next one finishes.
    codes = []
    for _ in range(8):
        result = cli("apply", quickstart, "--auto-approve")
        codes.append(result.code)
        if result.code == 0:
            break
        assert result.code in (1, 4), result.stderr  # partly applied, or a read gave up
    assert codes[-1] == 0, codes
    # The check itself reads through the faults: a read that gives up (exit 1) is retried; a
    # plan with changes (exit 2) fails the test.
    for _ in range(3):
        plan = cli("plan", quickstart, "--detailed-exitcode")
        if plan.code != 1:
            break
    assert plan.code == 0, plan.stdout + plan.stderr
    assert _snapshot(base, outsider) == before
    counters = httpx.get(base + "/__emulator/counters", timeout=30).json()["routes"]
    statuses = {s for route in counters.values() for s in route["statuses"]}
    assert statuses & {"500", "503", "drop"}  # faults really happened
    assert "429" in statuses  # and the rate limit bit
