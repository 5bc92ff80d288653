"""Issue 12 through the CLI against the emulator: guards that cannot be bypassed (the last
accepted owner, members removed by deleting their only role)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

PROJECT = """\
projects:
  - number: LO-1
    displayName: Last owner
    class: Endeavor
    subClass: Project
    owners: [{owners}]
    roles:
      - displayName: Keep
        permissions: [itwins_read]
"""


@pytest.fixture
def as_alice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """alice@contoso.com's opaque token, and a config that does not name the identity."""
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", "alice-token")
    tree = tmp_path / "alice"
    tree.mkdir()
    (tree / "itwin-access.yaml").write_text("api: http://testserver\nbackend: itwins\n")
    return tree


def owners(hand: Any, number: str) -> list[str]:
    itwin = hand.itwin_id(number)
    found = hand.get(f"/accesscontrol/itwins/{itwin}/members/owners")["members"]
    return sorted(str(m["email"]) for m in found)


def test_the_last_accepted_owner_is_kept_until_a_new_owner_has_accepted(
    run, hand, as_alice: Path
) -> None:
    manifest = as_alice / "p.yaml"
    manifest.write_text(PROJECT.format(owners="alice@contoso.com"))
    assert run("apply", as_alice, "--auto-approve").code == 0
    assert owners(hand, "LO-1") == ["alice@contoso.com"]
    # Replace the sole owner by someone who can only be invited: the invitation does not count.
    manifest.write_text(PROJECT.format(owners="new@elsewhere.com"))
    before = hand.writes()
    result = run("apply", as_alice, "--auto-approve", "--allow", "permission-denied")
    assert result.code == 3, result.stderr
    assert "last-owner" in result.stderr
    assert "accepted" in result.stderr
    assert "new@elsewhere.com" in result.stderr
    assert hand.writes() == before
    assert owners(hand, "LO-1") == ["alice@contoso.com"]
