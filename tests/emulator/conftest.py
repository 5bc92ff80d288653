"""Fixtures for the emulator tests: a fresh emulator (demo seed, admin on) per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emu_helpers import Emu
from starlette.applications import Starlette
from starlette.testclient import TestClient

from reconciler.emulator import Clock, create_app


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "emulator.db"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(db_path: Path, clock: Clock) -> Starlette:
    return create_app(db_path, admin=True, clock=clock)


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://emu.test") as c:
        yield c
    app.state.emu.store.close()


@pytest.fixture
def emu(client: TestClient) -> Emu:
    return Emu(client)
