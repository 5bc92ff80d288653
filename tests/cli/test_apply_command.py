"""`apply` against the emulator: confirmation, saved plans (round trip, stale), journal,
partial failure (exit 4) and convergence on the next run."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

import reconciler.cli.apply as apply_cli


def test_without_a_terminal_or_auto_approve_apply_refuses(run, hand, workdir: Path) -> None:
    result = run("apply", workdir)
    assert result.code == 1
    assert "--auto-approve" in result.stderr
    assert "Plan: " in result.stdout  # the plan was shown
    assert hand.writes() == 0


@pytest.mark.parametrize(("answer", "code", "writes"), [("y\n", 0, True), ("n\n", 1, False)])
def test_on_a_terminal_apply_asks_first(
    run, hand, workdir: Path, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, writes: bool
) -> None:
    monkeypatch.setattr(apply_cli, "stream_is_tty", lambda stream: True)
    result = run("apply", workdir, stdin=answer)
    assert result.code == code, result.stderr
    assert "Apply these changes?" in result.stderr
    assert (hand.writes() > 0) is writes


def test_a_saved_plan_round_trips_and_applies_exactly(run, workdir: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    made = run("plan", workdir, "--out", saved)
    assert made.code == 0
    data = json.loads(saved.read_text())
    assert set(data["fingerprints"]) == {"BR-2024-001", "BR-2024-002", "RL-2025-010"}
    journal = tmp_path / "journal.jsonl"
    applied = run("apply", "--plan", saved, "--config", workdir / "itwin-access.yaml",
                  "--auto-approve", "--journal", journal)  # fmt: skip
    assert applied.code == 0, applied.stderr
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(op["id"] for op in data["operations"])
    assert {r["status"] for r in rows} == {"applied"}
    assert all({"id", "kind", "project", "status", "code"} <= set(r) for r in rows)
    # Applying the same saved plan again is refused: live state moved (it was applied).
    again = run("apply", "--plan", saved, "--config", workdir / "itwin-access.yaml",
                "--auto-approve")  # fmt: skip
    assert again.code == 1
    assert "BR-2024-001" in again.stderr


def test_a_stale_saved_plan_is_refused_naming_the_project_and_nothing_is_written(
    run, hand, workdir: Path, tmp_path: Path
) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    hand.add_member("RL-2025-010", "eli@contoso.com", "Viewer")
    (workdir / "rail.yaml").write_text(
        (workdir / "rail.yaml").read_text().replace("roles: [Viewer]", "roles: [Contributor]")
    )
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved, "--detailed-exitcode").code == 2
    hand.add_member("BR-2024-002", "eli@contoso.com", "Viewer")  # moves BR-2024-002 only
    before = {n: hand.snapshot(n) for n in ("BR-2024-001", "BR-2024-002", "RL-2025-010")}
    writes = hand.writes()
    stale = run("apply", "--plan", saved, "--config", workdir / "itwin-access.yaml",
                "--auto-approve")  # fmt: skip
    assert stale.code == 1
    assert "BR-2024-002" in stale.stderr
    assert "RL-2025-010" not in stale.stderr
    assert hand.writes() == writes
    assert {n: hand.snapshot(n) for n in before} == before


def test_allowances_travel_with_the_saved_plan(run, hand, workdir: Path, tmp_path: Path) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    rail = workdir / "rail.yaml"
    rail.write_text(
        rail.read_text().replace(
            "      - use: standard\n",
            "      - use: standard\n      - {displayName: Temp, description: t}\n",
        )
    )
    assert run("apply", workdir, "--auto-approve").code == 0
    rail.write_text(rail.read_text().replace("      - {displayName: Temp, description: t}\n", ""))
    config = workdir / "itwin-access.yaml"
    # Made without the allowance: blocked, and applying it says what to plan again with.
    unreviewed = tmp_path / "unreviewed.json"
    assert run("plan", workdir, "--out", unreviewed).code == 3
    blocked = run("apply", "--plan", unreviewed, "--config", config, "--auto-approve")
    assert blocked.code == 3
    assert blocked.stderr.strip().splitlines()[-1] == (
        "The saved plan did not record --allow role-deletions; plan again with it so reviewers "
        "approve it, then apply that plan."
    )
    # An allowance given only at apply time is not one the reviewers saw: refused, no request.
    writes = hand.writes()
    late = run("apply", "--plan", unreviewed, "--config", config, "--auto-approve",
               "--allow", "role-deletions")  # fmt: skip
    assert late.code == 1
    assert "--allow role-deletions was not recorded in the saved plan" in late.stderr
    assert hand.writes() == writes
    # Made with it: the plan records it, shows it before any operation, and a generic merge job
    # applies it.
    saved = tmp_path / "plan.json"
    made = run("plan", workdir, "--out", saved, "--allow", "role-deletions")
    assert made.code == 0
    assert json.loads(saved.read_text())["allow"] == ["role-deletions"]
    assert made.stdout.index("This plan lifts guards") < made.stdout.index("delete role 'Temp'")
    applied = run("apply", "--plan", saved, "--config", config, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert "- delete role 'Temp'" in applied.stdout


class FailGroups(httpx.BaseTransport):
    """The emulator, except that creating a group is refused (an error path the emulator
    cannot be asked to produce for one call)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/groups"):
            body = {"error": {"code": "InsufficientPermissions", "message": "Not today."}}
            return httpx.Response(403, json=body)
        return self.inner.handle_request(request)


def test_a_failure_skips_what_depends_on_it_exits_4_and_the_next_run_finishes(
    run, run_on, emulator: TestClient, workdir: Path, tmp_path: Path
) -> None:
    failing = httpx.Client(transport=FailGroups(emulator._transport), base_url=emulator.base_url)
    journal = tmp_path / "journal.jsonl"
    partly = run_on(failing, "apply", workdir, "--auto-approve", "--journal", journal)
    assert partly.code == 4, partly.stderr
    assert (
        "failed  BR-2024-001/create_group/Structural Team: 403 InsufficientPermissions: "
        "Not today." in partly.stderr
    )
    assert (
        "skipped BR-2024-001/add_group_member/Structural Team: depends on "
        "BR-2024-001/create_group/Structural Team" in partly.stderr
    )
    rows = {r["id"]: r for r in map(json.loads, journal.read_text().splitlines())}
    assert rows["BR-2024-001/create_group/Structural Team"]["code"] == "InsufficientPermissions"
    assert rows["BR-2024-001/add_group_member/Structural Team"]["status"] == "skipped"
    assert rows["BR-2024-001/add_member/bob@contoso.com"]["status"] == "applied"
    finished = run("apply", workdir, "--auto-approve")
    assert finished.code == 0, finished.stderr
    assert "create group 'Structural Team'" in finished.stdout
    assert "bob@contoso.com" not in finished.stdout  # already done: not planned again


def test_nothing_to_apply_exits_0(run, workdir: Path) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    again = run("apply", workdir)  # no --auto-approve needed when there is nothing to do
    assert again.code == 0
    assert "Nothing to apply" in again.stderr


def test_verify_with_a_saved_plan_needs_the_manifests(run, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text("{}")
    result = run("apply", "--plan", saved, "--verify")
    assert result.code == 1
    assert "--verify" in result.stderr


class SwallowDeletes(httpx.BaseTransport):
    """The emulator, except that member removals answer 204 without happening (a server that
    acknowledges and forgets: what --verify is for)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and "/members/users/" in request.url.path:
            return httpx.Response(204)
        if request.method == "POST" and request.url.path.endswith("/jobs"):
            # removals go in a job (issue 17): acknowledged as done, and forgotten
            itwin_id = request.url.path.split("/")[-2]
            return httpx.Response(
                201, json={"id": "j1", "itwinId": itwin_id, "status": "Completed"}
            )
        return self.inner.handle_request(request)


def test_verify_rereads_and_fails_when_a_difference_remains(
    run, run_on, hand, emulator: TestClient, workdir: Path
) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    hand.add_member("BR-2024-002", "eli@contoso.com", "Viewer")
    forgetful = httpx.Client(
        transport=SwallowDeletes(emulator._transport), base_url=emulator.base_url
    )
    result = run_on(forgetful, "apply", workdir, "--auto-approve", "--verify")
    assert result.code == 4
    assert "Apply complete" in result.stderr
    assert "Verify failed" in result.stderr
    assert "eli@contoso.com" in result.stderr.split("Verify failed")[1]
    verified = run("apply", workdir, "--auto-approve", "--verify")
    assert verified.code == 0
    assert "Verified: 1 project(s) match the manifests." in verified.stderr


def test_an_unreadable_saved_plan_is_one_line_and_exit_1(run, workdir: Path, tmp_path) -> None:
    saved = tmp_path / "plan.json"
    saved.write_text("this is not json")
    result = run("apply", "--plan", saved, "--config", workdir / "itwin-access.yaml")
    assert result.code == 1
    assert result.stderr.startswith(f"Error: {saved}: saved plan is not valid JSON")
    saved.write_text('{"format_version": 2, "operations": []}')
    result = run("apply", "--plan", saved, "--config", workdir / "itwin-access.yaml")
    assert result.code == 1
    assert result.stderr == (
        f"Error: {saved}: saved plan is malformed: no 'fingerprints' key; "
        "use a file written by `itwin-access plan --out FILE`\n"
    )
    saved.write_text('{"format_version": 99}')
    result = run("apply", "--plan", saved, "--config", workdir / "itwin-access.yaml")
    assert result.code == 1
    assert "format_version" in result.stderr


def test_a_saved_plan_with_a_malformed_payload_is_one_line_and_exit_1(
    run, hand, workdir: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved).code == 0
    data = json.loads(saved.read_text())
    adds = [op for op in data["operations"] if op["kind"] == "add_member"]
    writes = hand.writes()
    for edit, error in (
        (lambda op: op["after"].update(roles="Admin"),
         "after.roles: expected a list of strings, got str"),
        (lambda op: op["after"].pop("email"), "after has no 'email'"),
    ):  # fmt: skip
        broken = json.loads(json.dumps(data))
        op = next(o for o in broken["operations"] if o["id"] == adds[0]["id"])
        edit(op)
        saved.write_text(json.dumps(broken))
        result = run("apply", "--plan", saved, "--config", workdir / "itwin-access.yaml",
                     "--auto-approve")  # fmt: skip
        assert result.code == 1
        assert result.stderr == (
            f"Error: {saved}: saved plan is malformed: operation {op['id']}: {error}; "
            "make it again with `itwin-access plan --out FILE`\n"
        )
    assert hand.writes() == writes  # nothing written


def _as_user_adding_carol_as_owner(
    monkeypatch: pytest.MonkeyPatch, workdir: Path, user: str
) -> None:
    """Act as ``user`` (a demo-seed token) with a manifest adding carol as owner of RL-2025-010.
    Owners additive, so the service app's own (undeclared) ownership is not up for removal."""
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", f"{user}-token")
    (workdir / "itwin-access.yaml").write_text(
        f"api: http://testserver\nbackend: itwins\nidentity: {user}@contoso.com\n"
    )
    rail = workdir / "rail.yaml"
    rail.write_text(
        rail.read_text()
        .replace("owners: [alice@contoso.com]", "owners: [alice@contoso.com, carol@contoso.com]")
        .replace("manage: {members: additive}", "manage: {members: additive, owners: additive}")
    )


def test_operations_the_identity_cannot_perform_block_the_apply_until_allowed(
    run, hand, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("apply", workdir, "--auto-approve").code == 0
    # Now bob (a Project Admin by role, but neither an owner nor an org admin) tries to add an
    # owner: a role is never enough for that (contract C1), so preflight knows the request
    # would be refused.
    hand.add_member("RL-2025-010", "bob@contoso.com", "Project Admin")
    _as_user_adding_carol_as_owner(monkeypatch, workdir, "bob")
    scope = ("--project", "RL-2025-010")
    before = hand.writes()
    blocked = run("apply", workdir, "--auto-approve", *scope)
    assert blocked.code == 3, blocked.stderr
    assert "Blocked by guard permission-denied" in blocked.stderr
    assert "to be an owner or an organization administrator" in blocked.stderr
    assert "last-owner" not in blocked.stderr
    assert "+ add owner carol@contoso.com" in blocked.stdout  # the plan still prints
    assert hand.writes() == before
    # Lifting the guard sends the request; the API refuses it, as preflight said it would.
    lifted = run("apply", workdir, "--auto-approve", "--allow", "permission-denied", *scope)
    assert lifted.code == 4, lifted.stderr
    assert "InsufficientPermissions" in lifted.stderr


def test_an_org_admin_who_is_no_owner_adds_an_owner(
    run, hand, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice (org admin) holds only a pending owner invitation from the service app: she may
    still add owners (contract C1), so nothing blocks and the apply succeeds."""
    assert run("apply", workdir, "--auto-approve").code == 0
    _as_user_adding_carol_as_owner(monkeypatch, workdir, "alice")
    scope = ("--project", "RL-2025-010")
    applied = run("apply", workdir, "--auto-approve", *scope)
    assert applied.code == 0, applied.stderr
    assert "permission-denied" not in applied.stderr
    owners = hand.get(f"/accesscontrol/itwins/{hand.itwin_id('RL-2025-010')}/members/owners")
    assert "carol@contoso.com" in {o["email"] for o in owners["members"]}


class CtrlCAfter(httpx.BaseTransport):
    """The emulator, until the n-th write: then Ctrl-C arrives (KeyboardInterrupt)."""

    def __init__(self, inner: httpx.BaseTransport, writes: int) -> None:
        self.inner = inner
        self.writes = writes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" and request.url.path != "/connect/token":
            self.writes -= 1
            if self.writes < 0:
                raise KeyboardInterrupt
        return self.inner.handle_request(request)


def test_ctrl_c_during_apply_says_what_was_done_and_exits_130(
    run, run_on, emulator: TestClient, workdir: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "apply.jsonl"
    client = httpx.Client(transport=CtrlCAfter(emulator._transport, 5), base_url=emulator.base_url)
    result = run_on(client, "apply", workdir, "--auto-approve", "--journal", journal)
    assert result.code == 130
    last = result.stderr.strip().splitlines()[-1]
    applied = sum(
        json.loads(line)["status"] == "applied" for line in journal.read_text().splitlines()
    )
    assert last.startswith(f"Error: interrupted: {applied} of 27 operation(s) applied")
    assert f"the journal {journal} lists them" in last
    assert "apply again" in last
    # and it does: the next run finishes the job
    assert run("apply", workdir, "--auto-approve").code == 0
    assert run("plan", workdir, "--detailed-exitcode").code == 0


def test_an_org_admin_creator_keeps_its_ownership_whatever_the_owners_list_says(
    run, hand, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alice (org admin, opaque token: identity from GET /users/me) creates RL-2025-010; its
    authoritative owners list names only carol, yet alice's own ownership is never removed."""
    monkeypatch.delenv("ITWIN_CLIENT_ID")
    monkeypatch.delenv("ITWIN_CLIENT_SECRET")
    monkeypatch.setenv("ITWIN_ACCESS_TOKEN", "alice-token")
    rail = workdir / "rail.yaml"
    rail.write_text(
        rail.read_text()
        .replace("owners: [alice@contoso.com]", "owners: [carol@contoso.com]")
        .replace(
            "manage: {members: additive}", "manage: {members: additive, owners: authoritative}"
        )
    )
    scope = ("--project", "RL-2025-010")
    applied = run("apply", workdir, "--auto-approve", *scope)
    assert applied.code == 0, applied.stderr
    assert "owner: alice@contoso.com (the creator becomes its owner)" in applied.stdout
    owners = hand.get(f"/accesscontrol/itwins/{hand.itwin_id('RL-2025-010')}/members/owners")
    assert {o["email"] for o in owners["members"]} == {"alice@contoso.com", "carol@contoso.com"}
    again = run("plan", workdir, "--detailed-exitcode", *scope)
    assert again.code == 0, again.stdout
