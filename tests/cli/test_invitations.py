"""Invitations as state (in-process CLI against the emulator): plans say "invite" when the API
will send an invitation, and a person's pending invitations count together, as accepting them
merges them (contract C4, C7)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Invoke = Callable[..., Any]  # tests/cli/conftest.py: run(...) -> Run(code, stdout, stderr)


def test_a_service_app_plan_says_invite_for_every_member_and_owner_it_adds(
    run: Invoke, workdir: Path
) -> None:
    result = run("plan", workdir, "--no-color")
    assert result.code == 0
    out = result.stdout
    assert "  + invite someone@fabrikam.com with roles [Viewer]  # " in out
    assert "  + invite bob@contoso.com with roles [Project Admin]  # " in out
    assert "  + invite bob@contoso.com as owner  # " in out
    assert "add member" not in out
    assert "add owner" not in out
    document = json.loads(run("plan", workdir, "--format", "json").stdout)
    adds = [op for op in document["operations"] if op["kind"] in ("add_member", "add_owner")]
    assert adds
    assert all(op["after"]["invitation"] is True for op in adds)


def test_a_user_plan_says_add(run: Invoke, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", "alice-token")
    out = run("plan", workdir, "--no-color").stdout
    assert "  + add member bob@contoso.com with roles [Project Admin]  # " in out
    assert "invite" not in out.replace("administration_invite_member", "")
