"""Hermetic CLI runs: no itwin-access variable from the developer's shell leaks in."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("ITWIN_", "NO_COLOR")):
            monkeypatch.delenv(name)
