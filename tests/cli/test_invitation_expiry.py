"""Expired invitations (issue 15 item 4), in-process CLI against the emulator with its admin
clock advanced past expiry: an invitation that expired unaccepted vanishes from the API
(contract C7); the invitation ledger beside the config tells it from a removal, by the server's
time (the emulator's HTTP Date follows its clock: this machine's clock is 8 days behind it)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.api import ACCEPT_V1
from reconciler.cli.ledger import server_now
from reconciler.cli.session import DEMO_CLIENT_ID as DEMO_ID
from reconciler.cli.session import DEMO_CLIENT_SECRET as DEMO_SECRET
from reconciler.cli.session import Connection, open_session
from reconciler.config import Config

Invoke = Callable[..., Any]  # tests/cli/conftest.py: run(...) -> Run(code, stdout, stderr)

MANIFEST = """\
projects:
  - number: INV-1
    displayName: Invitations
    class: Endeavor
    subClass: Project
    roles:
      - displayName: Viewer
        permissions: [itwins_read]
    owners: [alice@contoso.com]
    members:
      - email: someone@fabrikam.com   # external
        roles: [Viewer]
      - email: bob@contoso.com
        roles: [Viewer]
"""
EIGHT_DAYS = 8 * 86400
LEDGER = Path(".itwin-access") / "invitations.json"


@pytest.fixture
def invited(run: Invoke, tmp_path: Path, hand: Any) -> tuple[Path, str]:
    """A manifest applied by the demo service application (so everyone it adds is invited),
    then the emulator clock moved 8 days on: every invitation expired. Returns the manifest
    directory and the date the invitations were sent."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "itwin-access.yaml").write_text("api: http://testserver\n")
    (root / "inv.yaml").write_text(MANIFEST)
    sent = hand.get("/__emulator/clock")["now"][:10]
    result = run("apply", root, "--auto-approve")
    assert result.code == 0, result.stderr
    hand.client.post("/__emulator/clock", json={"advanceSeconds": EIGHT_DAYS})
    return root, sent


def test_apply_records_the_invitations_it_sent_in_the_ledger(
    invited: tuple[Path, str],
) -> None:
    root, sent = invited
    ledger = root / LEDGER
    data = json.loads(ledger.read_text())
    rows = {(e["project"], e["kind"], e["email"]): e for e in data["invitations"]}
    assert set(rows) == {
        ("INV-1", "member", "someone@fabrikam.com"),
        ("INV-1", "member", "bob@contoso.com"),
        ("INV-1", "owner", "alice@contoso.com"),
    }
    assert all(e["invitedOn"].startswith(sent) for e in rows.values())
    assert set(next(iter(rows.values()))) == {"project", "kind", "email", "invitedOn", "expires"}
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o644
    assert "secret" not in ledger.read_text()
    assert "token" not in ledger.read_text()


def test_drift_lists_expired_invitations_apart_and_exits_0(
    run: Invoke, invited: tuple[Path, str]
) -> None:
    root, sent = invited
    result = run("drift", root, "--no-color")
    assert result.code == 0, result.stdout  # not drift: nobody is paged for it
    out = result.stdout
    assert "  changed outside the manifests:" not in out
    assert (
        "  invitations expired unaccepted (not drift; applying the manifests invites again):" in out
    )
    assert f"    invitation expired: someone@fabrikam.com, invited on {sent}\n" in out
    assert f"    invitation expired: alice@contoso.com (owner), invited on {sent}\n" in out
    assert (
        f"      + re-invite someone@fabrikam.com with roles [Viewer] (invitation of {sent} expired)"
        in out
    )
    assert (
        "Drift: 0 changed outside the manifests, 0 unmanaged extras, 3 invitations expired" in out
    )
    document = json.loads(run("drift", root, "--format", "json").stdout)["drift"]
    assert document["summary"] == {"changed": 0, "extras": 0, "expired": 3}
    assert "INV-1/add_member/someone@fabrikam.com" in document["expired"]
    markdown = run("drift", root, "--format", "markdown").stdout
    assert "| `INV-1` | 0 | 0 | 3 invitation(s) expired |" in markdown
    assert "@@ invitations expired unaccepted" in markdown
    assert f"invitation expired: bob@contoso.com, invited on {sent}" in markdown


def test_drift_beside_other_drift_exits_2_and_keeps_the_category(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, _ = invited
    hand.add_member("INV-1", "eli@contoso.com", "Viewer")  # by hand: an unmanaged extra
    result = run("drift", root, "--no-color")
    assert result.code == 2
    assert "Drift: 0 changed outside the manifests, 1 unmanaged extra, 3 invitations expired" in (
        result.stdout
    )


def test_drift_write_never_removes_a_person_whose_invitation_expired(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, _ = invited
    before = (root / "inv.yaml").read_text()
    assert run("drift", root, "--write", root).code == 0
    assert (root / "inv.yaml").read_text() == before  # expired alone: nothing to adopt
    hand.add_member("INV-1", "eli@contoso.com", "Viewer")
    result = run("drift", root, "--write", root)
    assert result.code == 2
    after = (root / "inv.yaml").read_text()
    assert "eli@contoso.com" in after  # the real drift is adopted
    for person in ("someone@fabrikam.com   # external", "bob@contoso.com", "alice@contoso.com"):
        assert person in after  # the expired ones stay declared


def test_apply_reinvites_an_expired_invitation(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, sent = invited
    plan = run("plan", root, "--no-color")
    assert (
        f"  + re-invite someone@fabrikam.com with roles [Viewer] (invitation of {sent} expired)"
        in plan.stdout
    )
    assert f"  + re-invite alice@contoso.com as owner (invitation of {sent} expired)" in plan.stdout
    assert run("apply", root, "--auto-approve").code == 0
    itwin = hand.itwin_id("INV-1")
    pending = hand.get(f"/accesscontrol/itwins/{itwin}/members/invitations")["invitations"]
    assert {i["email"].lower() for i in pending} >= {"someone@fabrikam.com", "bob@contoso.com"}
    again = run("plan", root, "--no-color", "--detailed-exitcode")
    assert again.code == 0, again.stdout


def test_a_saved_plan_reinviting_an_expired_invitation_applies(
    run: Invoke, invited: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = invited
    # As the CI apply job runs it: from the manifest repository, the ledger restored there.
    monkeypatch.chdir(root)
    saved = tmp_path / "plan.json"
    assert run("plan", root, "--out", saved).code == 0
    result = run("apply", "--plan", saved, "--auto-approve")
    assert result.code == 0, result.stderr
    assert "Apply complete: 3 operation(s) applied." in result.stderr


def test_reinvite_expired_false_leaves_them_out_and_says_why_once(
    run: Invoke, invited: tuple[Path, str], hand: Any
) -> None:
    root, sent = invited
    (root / "itwin-access.yaml").write_text(
        "api: http://testserver\ninvitations: {reinviteExpired: false}\n"
    )
    plan = run("plan", root, "--no-color", "--detailed-exitcode")
    assert plan.code == 0, plan.stdout
    assert "+ re-invite" not in plan.stdout
    [line] = [x for x in plan.stdout.splitlines() if "reinviteExpired" in x]
    assert "invitation expired, not sent again" in line
    assert f"someone@fabrikam.com in INV-1 (invited on {sent})" in line
    assert f"alice@contoso.com as owner in INV-1 (invited on {sent})" in line
    writes = hand.writes()
    result = run("apply", root, "--auto-approve")
    assert result.code == 0
    assert "Nothing to apply." in result.stderr
    assert hand.writes() == writes
    drift = run("drift", root, "--no-color")
    assert drift.code == 0
    [headline] = [x for x in drift.stdout.splitlines() if x.startswith("No drift")]
    assert headline.startswith("No drift to make, but live state differs from the manifests: ")
    assert headline.endswith(
        "; invitations that expired unaccepted are not sent again (listed under Problems)."
    )  # after the service application's own ownership, kept by self-protection
    assert "invitation expired, not sent again" in drift.stdout
    assert run("drift", root, "--write", root).code == 0
    assert "someone@fabrikam.com" in (root / "inv.yaml").read_text()


def test_a_corrupt_ledger_is_one_warning_and_read_as_empty(
    run: Invoke, invited: tuple[Path, str]
) -> None:
    root, _ = invited
    (root / LEDGER).write_text("{not json")
    result = run("drift", root, "--no-color")
    warnings = [x for x in result.stderr.splitlines() if "invitation ledger" in x]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: ")
    assert "corrupt" in warnings[0]
    assert "Traceback" not in result.stderr
    # Without the ledger the vanished people look changed by hand: drift, as before issue 15.
    assert result.code == 2
    assert "  changed outside the manifests:" in result.stdout
    assert (root / LEDGER).read_text() == "{not json"  # left for a person to look at


def test_a_symlinked_ledger_is_refused(run: Invoke, invited: tuple[Path, str]) -> None:
    root, _ = invited
    ledger = root / LEDGER
    elsewhere = root / "elsewhere.json"
    ledger.replace(elsewhere)
    os.symlink(elsewhere, ledger)
    before = elsewhere.read_text()
    result = run("plan", root, "--no-color")
    assert result.code == 0
    assert any("is a symlink" in x for x in result.stderr.splitlines())
    assert elsewhere.read_text() == before
    assert ledger.is_symlink()


def test_a_ledger_behind_a_symlinked_directory_is_refused(
    run: Invoke, invited: tuple[Path, str], tmp_path: Path
) -> None:
    # A symlink committed as `.itwin-access` must not send the ledger's writes elsewhere.
    root, _ = invited
    elsewhere = tmp_path / "elsewhere"
    (root / LEDGER).parent.rename(elsewhere)
    os.symlink(elsewhere, (root / LEDGER).parent)
    before = (elsewhere / LEDGER.name).read_text()
    result = run("plan", root, "--no-color")
    assert result.code == 0
    assert any(".itwin-access is a symlink" in x for x in result.stderr.splitlines())
    assert (elsewhere / LEDGER.name).read_text() == before


def test_the_ledger_moves_with_the_config_key(run: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "itwin-access.yaml").write_text(
        "api: http://testserver\ninvitations: {ledger: state/sent.json}\n"
    )
    (root / "inv.yaml").write_text(MANIFEST)
    assert run("apply", root, "--auto-approve").code == 0
    assert json.loads((root / "state" / "sent.json").read_text())["invitations"]
    assert not (root / LEDGER).exists()


def test_now_is_the_servers_date_else_the_tokens_iat_else_local(emulator: Any) -> None:
    emulator.post("/__emulator/clock", json={"advanceSeconds": EIGHT_DAYS})
    server = datetime.now(UTC) + timedelta(seconds=EIGHT_DAYS)
    config = Config(api="http://testserver", client_id=DEMO_ID, client_secret=DEMO_SECRET)
    with open_session(config, Connection(http=emulator)) as session:
        client = session.target.client
        client.json("GET", "/itwins", accept=ACCEPT_V1)
        assert client.server_date is not None
        assert abs(server_now(session) - server) < timedelta(minutes=2)  # the Date header
        client.server_date = None
        assert abs(server_now(session) - server) < timedelta(minutes=2)  # the token's iat
    config = Config(api="http://testserver", token="alice-token")  # opaque: no iat
    with open_session(config, Connection(http=emulator)) as session:
        assert abs(server_now(session) - datetime.now(UTC)) < timedelta(minutes=2)


def test_a_ledger_that_cannot_be_written_is_one_warning(run: Invoke, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "blocked").write_text("a file where the ledger's directory would be\n")
    (root / "itwin-access.yaml").write_text(
        "api: http://testserver\ninvitations: {ledger: blocked/sent.json}\n"
    )
    (root / "inv.yaml").write_text(MANIFEST)
    result = run("apply", root, "--auto-approve")
    assert result.code == 0
    [warning] = [x for x in result.stderr.splitlines() if "invitation ledger" in x]
    assert warning.startswith("warning: cannot write the invitation ledger ")
    assert sorted(p.name for p in root.iterdir()) == ["blocked", "inv.yaml", "itwin-access.yaml"]
