"""Invitations as state (in-process CLI against the emulator): plans say "invite" when the API
will send an invitation, and a person's pending invitations count together, as accepting them
merges them (contract C4, C7)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
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


def test_a_service_app_plan_says_invite_for_each_person_a_group_lists_anew(
    run: Invoke, workdir: Path
) -> None:
    out = run("plan", workdir, "--no-color", "--project", "BR-2024-001").stdout
    lines = [line.strip() for line in out.splitlines()]
    at = lines.index(next(x for x in lines if x.startswith("+ create group 'Structural Team'")))
    assert "invite dana@contoso.com (in the group once they accept)" in lines[at:]
    assert "invite eli@contoso.com (in the group once they accept)" in lines[at:]
    assert run("apply", workdir, "--auto-approve").code == 0
    bridges = workdir / "bridges.yaml"
    bridges.write_text(
        bridges.read_text().replace(
            "members: [dana@contoso.com, eli@contoso.com]",
            "members: [dana@contoso.com, eli@contoso.com, frank@contoso.com]",
        )
    )
    out = run("plan", workdir, "--no-color", "--project", "BR-2024-001").stdout
    assert "members: +frank@contoso.com" in out
    assert "invite frank@contoso.com (in the group once they accept)" in out
    assert "invite dana@contoso.com" not in out  # listed before: nobody is invited again
    document = json.loads(run("plan", workdir, "--format", "json").stdout)
    [update] = [op for op in document["operations"] if op["kind"] == "update_group"]
    assert update["after"]["invitesMembers"] is True


def test_a_user_plan_says_add(run: Invoke, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", "alice-token")
    out = run("plan", workdir, "--no-color").stdout
    assert "  + add member bob@contoso.com with roles [Project Admin]  # " in out
    assert "invite" not in out.replace("administration_invite_member", "")


def test_a_plan_shows_a_pending_invitations_dates(run: Invoke, workdir: Path, hand: Any) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    bridges = workdir / "bridges.yaml"
    bridges.write_text(
        bridges.read_text().replace(
            "someone@fabrikam.com   # external: gets an invitation\n        roles: [Viewer]",
            "someone@fabrikam.com   # external: gets an invitation\n        roles: [Contributor]",
        )
    )
    created = hand.get("/__emulator/clock")
    plan = run("plan", workdir, "--no-color", "--project", "BR-2024-001")
    assert plan.code == 0
    lines = [line.strip() for line in plan.stdout.splitlines()]
    at = lines.index(
        next(x for x in lines if x.startswith("~ re-invite member someone@fabrikam.com"))
    )
    match = re.fullmatch(
        r"pending invitation sent (\d{4}-\d\d-\d\d), expires (\d{4}-\d\d-\d\d)", lines[at + 3]
    )
    assert match, lines[at : at + 4]
    sent, expires = (date.fromisoformat(d) for d in match.groups())
    assert (expires - sent).days == 7  # contract C7
    assert sent.isoformat() == created["now"][:10]
