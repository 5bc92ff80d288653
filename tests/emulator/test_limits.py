"""Rate limiting (429 + Retry-After) and fault injection reproducible from a seed number."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from emu_helpers import AC, Emu, error_code, h
from starlette.testclient import TestClient

from reconciler.emulator import Clock, Faults, create_app
from reconciler.emulator.server import start_background


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    clock = Clock()
    app = create_app(tmp_path / "rl.db", faults=Faults(rate_limit=3), admin=True, clock=clock)
    with TestClient(app) as c:
        token = Emu(c).app_token()  # the token endpoint is not limited
        statuses = [c.get("/itwins", headers=h(token)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        r = c.get("/itwins", headers=h(token))
        assert error_code(r) == "RateLimitExceeded"
        assert int(r.headers["Retry-After"]) >= 1
        assert r.headers["ITwinPlatform-RateLimited-Application"] == "itwin-access-demo"
        assert r.headers["ITwinPlatform-RateLimited-Operation"] == "GET /itwins"
        # Another client has its own budget.
        assert c.get("/itwins", headers=h("bob-token")).status_code == 200
        # v1 access control documents the older code.
        for _ in range(2):
            c.get(f"{AC}/permissions", headers=h("bob-token", 1))
        r = c.get(f"{AC}/permissions", headers=h("bob-token", 1))
        assert (r.status_code, error_code(r)) == (429, "TooManyRequests")
        # The bucket refills with time.
        clock.advance(60)
        assert c.get("/itwins", headers=h(token)).status_code == 200
        # The admin surface is never limited.
        assert c.get("/__emulator/counters").status_code == 200
    app.state.emu.store.close()


def _statuses(db: Path, seed: int, n: int = 40) -> list[int]:
    faults = Faults(fault_rate=0.4, seed=seed, kinds=("500", "503"))
    app = create_app(db, faults=faults)
    with TestClient(app) as c:
        out = [c.get(f"{AC}/permissions", headers=h("bob-token")).status_code for _ in range(n)]
    app.state.emu.store.close()
    return out


def test_faults_are_reproducible_from_the_seed(tmp_path: Path) -> None:
    first = _statuses(tmp_path / "a.db", seed=7)
    again = _statuses(tmp_path / "b.db", seed=7)
    other = _statuses(tmp_path / "c.db", seed=8)
    assert first == again
    assert first != other
    assert set(first) == {200, 500, 503}
    assert 5 <= sum(s != 200 for s in first) <= 30


def test_fault_bodies_are_json(tmp_path: Path) -> None:
    app = create_app(tmp_path / "f.db", faults=Faults(fault_rate=1.0, kinds=("503",)))
    with TestClient(app) as c:
        r = c.get("/itwins", headers=h("bob-token"))
        assert (r.status_code, error_code(r)) == (503, "ServiceUnavailable")
        assert r.headers["Retry-After"] == "1"
    app.state.emu.store.close()


def test_invalid_fault_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="fault_rate"):
        Faults(fault_rate=1.5)
    with pytest.raises(ValueError, match="kinds"):
        Faults(kinds=("teapot",))


@pytest.mark.e2e
def test_dropped_connection_is_a_transport_error(tmp_path: Path) -> None:
    faults = Faults(fault_rate=1.0, kinds=("drop",))
    with start_background(tmp_path / "d.db", faults=faults, admin=True) as running:
        with httpx.Client(base_url=running.base_url) as c, pytest.raises(httpx.TransportError):
            c.get("/itwins", headers=h("bob-token"))
        counters = httpx.get(f"{running.base_url}/__emulator/counters").json()
        assert counters["routes"]["GET /itwins"]["statuses"] == {"drop": 1}
