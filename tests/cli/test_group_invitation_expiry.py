"""Expired group-member invitations (issue 15 item 4), in-process CLI against the emulator with
its admin clock advanced past expiry: a service application's group update invites everyone it
lists anew (contract C4, §7.16); unaccepted, the invitation expires and the person vanishes from
the group. The invitation ledger tells that from a removal by hand (see
tests/cli/test_invitation_expiry.py for members and owners)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Invoke = Callable[..., Any]  # tests/cli/conftest.py: run(...) -> Run(code, stdout, stderr)

MANIFEST = """\
projects:
  - number: GINV-1
    displayName: Group invitations
    class: Endeavor
    subClass: Project
    groups:
      - name: Reviewers
        description: Reviews models
        members: [xena@fabrikam.com]   # external
"""
EIGHT_DAYS = 8 * 86400
LEDGER = Path(".itwin-access") / "invitations.json"


@pytest.fixture
def invited(run: Invoke, tmp_path: Path, hand: Any) -> tuple[Path, str]:
    """The manifest applied by the demo service application (so the group member it lists is
    invited), then the emulator clock moved 8 days on: the invitation expired. Returns the
    manifest directory and the date the invitation was sent."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "itwin-access.yaml").write_text("api: http://testserver\n")
    (root / "inv.yaml").write_text(MANIFEST)
    sent = hand.get("/__emulator/clock")["now"][:10]
    result = run("apply", root, "--auto-approve")
    assert result.code == 0, result.stderr
    hand.client.post("/__emulator/clock", json={"advanceSeconds": EIGHT_DAYS})
    return root, sent


def _group(hand: Any) -> tuple[str, dict[str, Any]]:
    itwin = hand.itwin_id("GINV-1")
    [group] = hand.get(f"/accesscontrol/itwins/{itwin}/groups")["groups"]
    return itwin, group


def _pending(hand: Any) -> set[str]:
    itwin, group = _group(hand)
    path = f"/accesscontrol/itwins/{itwin}/groups/{group['id']}/invitations"
    return {i["email"].lower() for i in hand.get(path)["invitations"]}


def test_apply_records_the_group_invitations_it_sent(
    run: Invoke, invited: tuple[Path, str]
) -> None:
    root, sent = invited
    rows = json.loads((root / LEDGER).read_text())["invitations"]
    [row] = [e for e in rows if e["kind"] == "group"]
    assert row["project"] == "GINV-1"
    assert row["group"] == "Reviewers"
    assert row["email"] == "xena@fabrikam.com"
    assert row["invitedOn"].startswith(sent)


def test_a_read_records_group_invitations_with_the_apis_dates(
    run: Invoke, tmp_path: Path, hand: Any
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "itwin-access.yaml").write_text("api: http://testserver\n")
    (root / "inv.yaml").write_text(MANIFEST)
    assert run("apply", root, "--auto-approve").code == 0
    (root / LEDGER).unlink()  # as if the apply ran elsewhere: the next read records it
    assert run("plan", root, "--detailed-exitcode").code == 0
    [row] = json.loads((root / LEDGER).read_text())["invitations"]
    itwin, group = _group(hand)
    path = f"/accesscontrol/itwins/{itwin}/groups/{group['id']}/invitations"
    [live] = hand.get(path)["invitations"]
    assert (row["kind"], row["group"], row["email"]) == ("group", "Reviewers", live["email"])
    assert (row["invitedOn"], row["expires"]) == (live["createdDate"], live["expirationDate"])


def test_drift_lists_an_expired_group_invitation_apart_and_exits_0(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, sent = invited
    _, group = _group(hand)
    assert group["members"] == []  # expired: gone from the API
    assert _pending(hand) == set()
    result = run("drift", root, "--no-color")
    assert result.code == 0, result.stdout
    out = result.stdout
    assert "  changed outside the manifests:" not in out
    assert (
        f"    invitation expired: xena@fabrikam.com (group 'Reviewers'), invited on {sent}\n" in out
    )
    assert f"re-invite xena@fabrikam.com (invitation of {sent} expired)" in out
    assert "Drift: 0 changed outside the manifests, 0 unmanaged extras, 1 invitation expired" in (
        out
    )
    document = json.loads(run("drift", root, "--format", "json").stdout)["drift"]
    assert document["summary"] == {"changed": 0, "extras": 0, "expired": 1}
    assert document["expired"] == ["GINV-1/update_group/Reviewers"]
    markdown = run("drift", root, "--format", "markdown").stdout
    assert "| `GINV-1` | 0 | 0 | 1 invitation(s) expired |" in markdown
    assert f"invitation expired: xena@fabrikam.com (group 'Reviewers'), invited on {sent}" in (
        markdown
    )


def test_a_group_update_with_other_changes_stays_changed_and_names_the_expired_one(
    run: Invoke, invited: tuple[Path, str]
) -> None:
    root, sent = invited
    (root / "inv.yaml").write_text(MANIFEST.replace("Reviews models", "Reviews all models"))
    result = run("drift", root, "--no-color")
    assert result.code == 2
    out = result.stdout
    changed = out.index("  changed outside the manifests:")
    assert "Live state was changed outside the manifests. Applying the manifests would:" in out
    assert "invitations expired unaccepted" not in out
    assert out.index("~ update group 'Reviewers'") > changed
    assert "description: 'Reviews models' -> 'Reviews all models'" in out
    assert f"re-invite xena@fabrikam.com (invitation of {sent} expired)" in out
    assert "Drift: 1 changed outside the manifests, 0 unmanaged extras" in out


def test_apply_reinvites_the_expired_group_member(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, sent = invited
    plan = run("plan", root, "--no-color")
    assert "~ update group 'Reviewers'" in plan.stdout
    assert f"re-invite xena@fabrikam.com (invitation of {sent} expired)" in plan.stdout
    assert run("apply", root, "--auto-approve").code == 0
    assert _pending(hand) == {"xena@fabrikam.com"}
    again = run("plan", root, "--no-color", "--detailed-exitcode")
    assert again.code == 0, again.stdout


def test_a_saved_plan_reinviting_a_group_member_applies(
    run: Invoke, invited: tuple[Path, str], tmp_path: Path, hand: Any
) -> None:
    root, _ = invited
    saved = tmp_path / "plan.json"
    assert run("plan", root, "--out", saved).code == 0
    result = run("apply", "--plan", saved, "--auto-approve")
    assert result.code == 0, result.stderr
    assert _pending(hand) == {"xena@fabrikam.com"}


def test_reinvite_expired_false_leaves_the_group_member_out_and_says_why_once(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, sent = invited
    (root / "itwin-access.yaml").write_text(
        "api: http://testserver\ninvitations: {reinviteExpired: false}\n"
    )
    plan = run("plan", root, "--no-color", "--detailed-exitcode")
    assert plan.code == 0, plan.stdout
    assert "update group" not in plan.stdout
    [line] = [x for x in plan.stdout.splitlines() if "reinviteExpired" in x]
    assert f"xena@fabrikam.com as member of group 'Reviewers' in GINV-1 (invited on {sent})" in line
    writes = hand.writes()
    assert run("apply", root, "--auto-approve").code == 0
    assert hand.writes() == writes
    drift = run("drift", root, "--no-color")
    assert drift.code == 0, drift.stdout
    assert "invitations that expired unaccepted are not sent again" in drift.stdout
    before = (root / "inv.yaml").read_text()
    assert run("drift", root, "--write", root).code == 0
    assert (root / "inv.yaml").read_text() == before
    # Another change to the group goes, without re-listing the expired one.
    (root / "inv.yaml").write_text(MANIFEST.replace("Reviews models", "Reviews all models"))
    assert run("apply", root, "--auto-approve").code == 0
    _, group = _group(hand)
    assert group["description"] == "Reviews all models"
    assert _pending(hand) == set()


def test_drift_write_never_removes_an_expired_group_member(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, _ = invited
    before = (root / "inv.yaml").read_text()
    assert run("drift", root, "--write", root).code == 0
    assert (root / "inv.yaml").read_text() == before  # expired alone: nothing to adopt
    itwin, group = _group(hand)
    hand.send(
        "PATCH", f"/accesscontrol/itwins/{itwin}/groups/{group['id']}", {"description": "By hand"}
    )
    result = run("drift", root, "--write", root)
    assert result.code == 2
    after = (root / "inv.yaml").read_text()
    assert "description: By hand" in after  # the real drift is adopted
    assert "members: [xena@fabrikam.com]   # external" in after  # the expired one stays


def test_without_the_ledger_an_expired_group_member_reads_as_drift(
    run: Invoke, invited: tuple[Path, str]
) -> None:
    root, _ = invited
    (root / LEDGER).unlink()
    result = run("drift", root, "--no-color")
    assert result.code == 2
    assert "  changed outside the manifests:" in result.stdout
    assert "members: +xena@fabrikam.com" in result.stdout


def test_the_quickstart_eight_days_on_has_no_drift_only_expired_invitations(
    run: Invoke, workdir: Path, hand: Any
) -> None:
    # The case: the demo service application applies the quickstart (everyone, group
    # members too, is invited), nobody accepts, and the week passes.
    assert run("apply", workdir, "--auto-approve").code == 0
    hand.client.post("/__emulator/clock", json={"advanceSeconds": EIGHT_DAYS})
    result = run("drift", workdir, "--no-color")
    assert result.code == 0, result.stdout
    assert "changed outside the manifests:" not in result.stdout
    assert (
        "Nothing was changed outside the manifests, but invitations expired unaccepted. "
        "Applying the manifests would:\n" in result.stdout
    )
    assert "invitation expired: dana@contoso.com (group 'Structural Team'), invited on" in (
        result.stdout
    )
    # Counted in people: one group update re-invites two of them.
    assert "Drift: 0 changed outside the manifests, 0 unmanaged extras, 14 invitations expired" in (
        result.stdout
    )
    markdown = run("drift", workdir, "--format", "markdown").stdout
    assert "| `BR-2024-001` | 0 | 0 | 6 invitation(s) expired |" in markdown
    assert "BR-2024-001: 0 changed, 0 extras, 6 invitation(s) expired" in markdown
    before = {p.name: p.read_text() for p in workdir.glob("*.yaml")}
    assert run("drift", workdir, "--write", workdir).code == 0
    assert {p.name: p.read_text() for p in workdir.glob("*.yaml")} == before
