"""Issue 12 through the CLI against the emulator: guards that cannot be bypassed (the last
accepted owner, members removed by deleting their only role)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from reconciler.cli import main
from reconciler.cli.runlock import run_lock

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
    manifest.write_text(PROJECT.format(owners="alice@contoso.com, carol@contoso.com"))
    assert run("apply", as_alice, "--auto-approve").code == 0
    # alice, an organization administrator, steps down as owner: carol is the sole owner.
    itwin = hand.itwin_id("LO-1")
    found = hand.get(f"/accesscontrol/itwins/{itwin}/members/owners")["members"]
    mine = next(m["id"] for m in found if m["email"] == "alice@contoso.com")
    hand.send("DELETE", f"/accesscontrol/itwins/{itwin}/members/owners/{mine}")
    assert owners(hand, "LO-1") == ["carol@contoso.com"]
    # Replace her by someone who can only be invited: the invitation does not count.
    manifest.write_text(PROJECT.format(owners="new@elsewhere.com"))
    before = hand.writes()
    result = run("apply", as_alice, "--auto-approve", "--allow", "permission-denied")
    assert result.code == 3, result.stderr
    assert "last-owner" in result.stderr
    assert "until new@elsewhere.com has accepted" in result.stderr
    assert hand.writes() == before
    assert owners(hand, "LO-1") == ["carol@contoso.com"]


TEMP = """\
projects:
  - number: RD-1
    displayName: Role deletion
    manage: {{members: {mode}}}
    class: Endeavor
    subClass: Project
    roles:
      - displayName: Keep
        permissions: [itwins_read]
{temp}    members:
      - email: keeper@contoso.com
        roles: [Keep]
{members}"""


def _twelve_members_holding_only_temp(run, tmp_path: Path) -> tuple[Path, Path]:
    """Project RD-1 applied with role Temp and 12 members holding only it: (tree, manifest)."""
    tree = tmp_path / "rd"
    tree.mkdir()
    (tree / "itwin-access.yaml").write_text("api: http://testserver\nbackend: itwins\n")
    manifest = tree / "p.yaml"
    temp = "      - displayName: Temp\n        permissions: [itwins_read]\n"
    twelve = "".join(
        f"      - email: t{i:02d}@contoso.com\n        roles: [Temp]\n" for i in range(12)
    )
    manifest.write_text(TEMP.format(mode="authoritative", temp=temp, members=twelve))
    assert run("apply", tree, "--auto-approve").code == 0
    return tree, manifest


def test_members_a_role_deletion_removes_count_as_removals_and_trip_the_guard(
    run, hand, tmp_path: Path
) -> None:
    tree, manifest = _twelve_members_holding_only_temp(run, tmp_path)
    # Drop Temp; members additive, so no manifest change asks to remove anyone.
    manifest.write_text(TEMP.format(mode="additive", temp="", members=""))
    before = hand.writes()
    planned = run("plan", tree, "--format", "json")
    ops = json.loads(planned.stdout)["operations"]
    caused = [op for op in ops if op["cause"] == "RD-1/delete_role/Temp"]
    assert len(caused) == 12
    assert json.loads(planned.stdout)["summary"]["remove"] == 13  # 12 members and the role
    text = run("plan", tree)
    assert "deleting role 'Temp' removes it (its only role)" in text.stdout
    blocked = run("apply", tree, "--auto-approve", "--allow", "role-deletions")
    assert blocked.code == 3, blocked.stderr
    assert "member-removals" in blocked.stderr
    assert "12 of 13 members" in blocked.stdout + blocked.stderr
    assert hand.writes() == before
    # Allowed, it converges: the removals run, then the role goes.
    done = run("apply", tree, "--auto-approve", "--allow", "role-deletions",
               "--allow", "member-removals")  # fmt: skip
    assert done.code == 0, done.stderr
    assert run("plan", tree, "--detailed-exitcode").code == 0


def test_a_role_deletion_counts_its_removals_when_no_manifest_manages_members(
    run, hand, tmp_path: Path
) -> None:
    # The plan reads only the sections manifests manage (issue 17); a role deletion removes
    # members whatever the manifest says of them, so members are read wherever roles are.
    tree, manifest = _twelve_members_holding_only_temp(run, tmp_path)
    # Temp dropped, and no members section at all: members are not managed.
    roles_only = TEMP.format(mode="additive", temp="", members="").split("    members:")[0]
    roles_only = roles_only.replace("    manage: {members: additive}\n", "")
    manifest.write_text(roles_only)
    before = hand.writes()
    planned = run("plan", tree, "--format", "json")
    ops = json.loads(planned.stdout)["operations"]
    assert len([op for op in ops if op["cause"] == "RD-1/delete_role/Temp"]) == 12
    blocked = run("apply", tree, "--auto-approve", "--allow", "role-deletions")
    assert blocked.code == 3, blocked.stderr
    assert "member-removals" in blocked.stderr
    assert hand.writes() == before


class RacedBy(httpx.BaseTransport):
    """The emulator, where another run acts just before this one's first write or its second
    look at the roles (the first is the read that made the plan)."""

    def __init__(self, inner: httpx.BaseTransport, race: Callable[[], None]) -> None:
        self.inner = inner
        self.race: Callable[[], None] | None = race
        self.role_reads = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path.endswith("/roles"):
            self.role_reads += 1
        write = request.method != "GET" and path != "/connect/token"
        if self.race is not None and (write or self.role_reads == 2):
            race, self.race = self.race, None
            race()
        return self.inner.handle_request(request)


def test_a_role_another_run_created_since_the_plan_is_not_created_twice(
    run, run_on, hand, emulator: TestClient, tmp_path: Path
) -> None:
    tree = tmp_path / "race"
    tree.mkdir()
    (tree / "itwin-access.yaml").write_text("api: http://testserver\nbackend: itwins\n")
    manifest = tree / "p.yaml"
    manifest.write_text(TEMP.format(mode="authoritative", temp="", members=""))
    assert run("apply", tree, "--auto-approve").code == 0
    extra = "      - displayName: Extra\n        permissions: [itwins_read]\n"
    manifest.write_text(TEMP.format(mode="authoritative", temp=extra, members=""))
    itwin = hand.itwin_id("RD-1")

    def other_run() -> None:
        body = {"displayName": "Extra", "description": "Extra"}
        hand.send("POST", f"/accesscontrol/itwins/{itwin}/roles", body)

    raced = httpx.Client(
        transport=RacedBy(emulator._transport, other_run), base_url=emulator.base_url
    )
    result = run_on(raced, "apply", tree, "--auto-approve")
    assert result.code == 0, result.stderr
    roles = hand.get(f"/accesscontrol/itwins/{itwin}/roles")["roles"]
    assert sorted(r["displayName"] for r in roles) == ["Extra", "Keep"]
    assert run("plan", tree, "--detailed-exitcode").code == 0


def test_an_apply_finding_the_lock_taken_waits_then_stops_writing_nothing(
    run, hand, workdir: Path, tmp_path: Path
) -> None:
    lock = tmp_path / "apply.lock"
    (workdir / "itwin-access.yaml").write_text(
        f"api: http://testserver\nbackend: itwins\nlock: {lock}\nlockTimeout: 0.5\n"
    )
    with run_lock(lock, 0):
        result = run("apply", workdir, "--auto-approve")
    assert result.code == 1
    assert f"Waiting for the lock {lock} (held by pid " in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: another itwin-access run holds the lock {lock} (held by pid")
    assert "waited 0.5 s" in last
    assert hand.writes() == 0
    assert oct(lock.stat().st_mode & 0o777) == "0o600"
    # released, the same command goes ahead
    assert run("apply", workdir, "--auto-approve").code == 0


class WritesRateLimited(httpx.BaseTransport):
    """The emulator, except that every write is answered 429 with a hostile Retry-After."""

    def __init__(self, inner: httpx.BaseTransport, retry_after: str) -> None:
        self.inner = inner
        self.retry_after = retry_after
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" and request.url.path != "/connect/token":
            self.refused += 1
            body = {"error": {"code": "RateLimitExceeded", "message": "slow down"}}
            return httpx.Response(429, json=body, headers={"Retry-After": self.retry_after})
        return self.inner.handle_request(request)


@pytest.mark.parametrize("retry_after", ["100000", "1e9", "nan", "inf"])
def test_the_wait_cap_ends_an_apply_with_one_line(
    run_on, hand, emulator: TestClient, workdir: Path, retry_after: str
) -> None:
    (workdir / "itwin-access.yaml").write_text(
        # One request at a time, so the count below does not depend on how the machine schedules
        # threads: concurrent waits overlap and are counted once, so eight workers could each be
        # refused several times within the same second of budget (CI saw 11 on a slow runner).
        "api: http://testserver\nbackend: itwins\nmaxRetryAfter: 0.3\nmaxWait: 1\nconcurrency: 1\n"
    )
    transport = WritesRateLimited(emulator._transport, retry_after)
    client = httpx.Client(transport=transport, base_url=emulator.base_url)
    result = run_on(client, "apply", workdir, "--auto-approve")
    assert result.code == 4, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Stopped: the run stopped at its wait cap: ")
    assert "cap of 1 s (`maxWait` in itwin-access.yaml)" in last
    assert "Traceback" not in result.stderr
    # Waits of at most 0.3 s against a 1 s cap: the fourth wait would pass it, so a fifth write
    # is never sent. More would mean the run kept writing after its cap.
    assert 1 <= transport.refused <= 4, transport.refused


TWINS = """\
projects:
  - number: DU-1
    displayName: Duplicates
    class: Endeavor
    subClass: Project
    roles:
      - displayName: Keep
        permissions: [itwins_read]
    groups:
      - name: Team
        members: [carol@contoso.com]
    members:
      - email: dana@contoso.com
        roles: [Keep]
      - email: eli@contoso.com
        roles: [Keep]
"""


def test_a_plan_merges_the_twin_roles_and_groups_a_race_left(run, hand, as_alice: Path) -> None:
    tree = as_alice  # alice adds people directly (a service app would invite them)
    (tree / "p.yaml").write_text(TWINS)
    assert run("apply", tree, "--auto-approve").code == 0
    itwin = hand.itwin_id("DU-1")
    base = f"/accesscontrol/itwins/{itwin}"
    # What a second run racing the first leaves: a twin role, holding eli. (The emulator
    # refuses a second group of one name, so twin groups are tested on the plan alone.)
    twin = hand.send("POST", f"{base}/roles", {"displayName": "Keep", "description": "Keep"})
    twin_id = twin["role"]["id"]
    hand.send("PATCH", f"{base}/roles/{twin_id}", {"permissions": ["itwins_read"]})
    eli = next(
        u for u in hand.get(f"{base}/members/users")["members"] if u["email"] == "eli@contoso.com"
    )
    hand.send("PATCH", f"{base}/members/users/{eli['id']}", {"roleIds": [twin_id]})

    planned = run("plan", tree)
    assert planned.code == 3, planned.stderr  # role-deletions guards the twin's deletion
    assert f"- delete role 'Keep (duplicate {twin_id})'" in planned.stdout
    assert "~ update member eli@contoso.com" in planned.stdout
    assert "moves what role 'Keep (duplicate" in planned.stdout
    done = run("apply", tree, "--auto-approve", "--allow", "role-deletions")
    assert done.code == 0, done.stderr
    roles = hand.get(f"{base}/roles")["roles"]
    assert [r["displayName"] for r in roles] == ["Keep"]
    users = {u["email"]: u for u in hand.get(f"{base}/members/users")["members"]}
    assert [r["id"] for r in users["eli@contoso.com"]["roles"]] == [roles[0]["id"]]
    assert run("plan", tree, "--detailed-exitcode").code == 0


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_control_characters_in_live_names_are_shown_escaped_in_every_format(
    run, hand, tmp_path: Path, fmt: str
) -> None:
    tree = tmp_path / "esc"
    tree.mkdir()
    (tree / "itwin-access.yaml").write_text("api: http://testserver\nbackend: itwins\n")
    (tree / "p.yaml").write_text(TEMP.format(mode="authoritative", temp="", members=""))
    assert run("apply", tree, "--auto-approve").code == 0
    itwin = hand.itwin_id("RD-1")
    evil = "Evil\x1b[2J\nPlan: 0 to add, 0 to change, 0 to remove.\u202e"
    hand.send("POST", f"/accesscontrol/itwins/{itwin}/roles", {"displayName": evil,
              "description": "x"})  # fmt: skip
    result = run("plan", tree, "--format", fmt)
    assert result.code == 3, result.stderr  # role-deletions
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream
        assert "\u202e" not in stream
        assert "\nPlan: 0 to add, 0 to change, 0 to remove." not in stream  # no forged line
    shown = result.stdout + result.stderr
    if fmt == "json":
        assert json.loads(result.stdout)["guards"][0]["message"].count("\\x1b[2J\\n") == 1
    else:
        assert "Evil\\x1b[2J\\nPlan: 0 to add, 0 to change, 0 to remove.\\u202e" in shown


def test_an_owner_kept_by_self_protection_is_said_and_counted(run, as_alice: Path) -> None:
    (as_alice / "itwin-access.yaml").write_text(
        "api: http://testserver\nbackend: itwins\nidentity: alice@contoso.com\n"
    )
    manifest = as_alice / "p.yaml"
    manifest.write_text(PROJECT.format(owners="alice@contoso.com, carol@contoso.com"))
    assert run("apply", as_alice, "--auto-approve").code == 0
    manifest.write_text(PROJECT.format(owners="carol@contoso.com"))
    result = run("plan", as_alice, "--detailed-exitcode")
    assert result.code == 0, result.stderr
    assert "Live state matches the manifests" not in result.stdout
    assert "1 owner(s) kept by self-protection" in result.stdout
    assert "owner alice@contoso.com is kept although the manifest does not list it" in (
        result.stdout
    )


def test_credentials_in_an_api_url_are_never_printed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "p.yaml").write_text(PROJECT.format(owners="alice@contoso.com"))
    monkeypatch.setenv("ITWIN_ACCESS_API", "ftp://deploy:pa55w0rd@api.example")
    assert main(["plan", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "pa55w0rd" not in err
    assert "ftp://***@api.example" in err


def test_plan_and_journal_files_are_created_private(run, workdir: Path, tmp_path: Path) -> None:
    saved, journal = tmp_path / "plan.json", tmp_path / "apply.jsonl"
    assert run("plan", workdir, "--out", saved).code == 0
    assert run("apply", workdir, "--auto-approve", "--journal", journal).code == 0
    assert oct(saved.stat().st_mode & 0o777) == "0o600"
    assert oct(journal.stat().st_mode & 0o777) == "0o600"


def test_an_unreadable_directory_in_a_manifest_tree_is_an_error(
    monkeypatch: pytest.MonkeyPatch, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = workdir / "locked"
    locked.mkdir()
    (locked / "more.yaml").write_text("projects: []\n")
    real = os.scandir

    def scandir(path: Any = ".") -> Any:  # root reads anything: refuse this one directory
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert main(["validate", str(workdir)]) == 1
    err = capsys.readouterr().err
    assert f"{locked}:1:1: cannot read this directory (permission denied)" in err


def test_export_never_writes_through_a_symlink_inside_out(
    run, workdir: Path, tmp_path: Path
) -> None:
    config = workdir / "itwin-access.yaml"
    assert run("apply", workdir, "--auto-approve").code == 0
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    out = tmp_path / "exported"
    (out / "projects").mkdir(parents=True)
    (out / "projects" / "BR-2024-001.yaml").symlink_to(outside)
    result = run("export", "--out", out, "--all", "--config", config)
    assert result.code == 1
    assert "BR-2024-001.yaml: it is a symbolic link" in result.stderr
    assert outside.read_text() == "keep me\n"
    # a linked folder is refused too
    linked = tmp_path / "linked"
    (linked).mkdir()
    (linked / "projects").symlink_to(tmp_path, target_is_directory=True)
    result = run("export", "--out", linked, "--all", "--config", config)
    assert result.code == 1
    assert "it is a symbolic link" in result.stderr
    assert not (tmp_path / "BR-2024-001.yaml").exists()


def test_export_all_exports_what_it_can_and_names_what_it_cannot(
    run, hand, as_alice: Path, tmp_path: Path
) -> None:
    v1 = "application/vnd.bentley.itwin-platform.v1+json"
    for number, sub in (
        ("GOOD-1", "Project"),
        ("EVIL\n# injected: true\x1b[2J", "Project"),
        ("L" * 300, "Project"),
        ("TWIN-1", "Project"),
        ("TWIN-1", "Program"),
    ):
        body = {"class": "Endeavor", "subClass": sub, "displayName": "x", "number": number}
        hand.send("POST", "/itwins/", body, accept=v1)
    out = tmp_path / "exported"
    result = run("export", "--out", out, "--all", "--config", as_alice / "itwin-access.yaml")
    assert result.code == 0, result.stderr
    assert "; 3 could not be exported (warnings above)" in result.stderr
    assert "project TWIN-1 not exported: its number names 2 live iTwins (Program, Project)" in (
        result.stderr
    )
    assert "is 300 characters long; a manifest takes at most 255" in result.stderr
    assert "project EVIL\\n# injected: true\\x1b[2J not exported" in result.stderr
    assert "\x1b" not in result.stderr
    names = sorted(p.name for p in (out / "projects").iterdir())
    assert "GOOD-1.yaml" in names
    assert not any(n.startswith(("EVIL", "LLL", "TWIN")) for n in names)
    assert run("validate", out).code == 0
