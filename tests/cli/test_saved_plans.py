"""Saved plans you can trust in CI (issue 13): staleness by meaning, explained fact by fact,
allowances and target recorded, a target header on every output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ACCEPT_V2 = "application/vnd.bentley.itwin-platform.v2+json"
Hand = Any  # tests/cli/conftest.py's Hand fixture

FRANK_CONTRIBUTOR = (
    "frank@contoso.com\n        roles: [Viewer]",
    "frank@contoso.com\n        roles: [Contributor]",
)


def _saved_change(run, workdir: Path, tmp_path: Path) -> Path:
    """Apply the quickstart, then save a plan changing frank's roles in BR-2024-002."""
    assert run("apply", workdir, "--auto-approve").code == 0
    crossing = workdir / "bridges.yaml"
    crossing.write_text(crossing.read_text().replace(*FRANK_CONTRIBUTOR))
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved, "--detailed-exitcode").code == 2
    return saved


def _invitation(hand: Hand, number: str, email: str) -> str:
    itwin = hand.itwin_id(number)
    rows = hand.get(f"/accesscontrol/itwins/{itwin}/members/invitations")["invitations"]
    return next(str(r["id"]) for r in rows if r["email"] == email)


def test_an_unrelated_accepted_invitation_lets_the_saved_plan_apply(
    run, hand: Hand, workdir: Path, tmp_path: Path
) -> None:
    # xena is invited by hand where members are additive (rail): not the plan's business.
    assert run("apply", workdir, "--auto-approve").code == 0
    hand.add_member("RL-2025-010", "xena@fabrikam.com", "Viewer")
    crossing = workdir / "bridges.yaml"
    crossing.write_text(crossing.read_text().replace(*FRANK_CONTRIBUTOR))
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved, "--detailed-exitcode").code == 2
    itwin = hand.itwin_id("RL-2025-010")
    accepted = hand.client.post(
        f"/accesscontrol/itwins/{itwin}/members/invitations/"
        f"{_invitation(hand, 'RL-2025-010', 'xena@fabrikam.com')}/accept",
        headers={"Authorization": "Bearer xena-token", "Accept": ACCEPT_V2},
    )
    assert accepted.status_code == 204
    applied = run("apply", "--plan", saved, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert (
        "fact(s) in RL-2025-010), but the recomputed operations are identical: applying the "
        "saved plan." in applied.stderr
    )
    assert run("plan", workdir, "--detailed-exitcode").code == 0


def test_a_relevant_change_is_refused_naming_the_fact_and_nothing_is_written(
    run, hand: Hand, workdir: Path, tmp_path: Path
) -> None:
    saved = _saved_change(run, workdir, tmp_path)
    hand.add_member("BR-2024-002", "eli@contoso.com", "Viewer")  # members authoritative here
    writes = hand.writes()
    refused = run("apply", "--plan", saved, "--auto-approve")
    assert refused.code == 1
    assert "  BR-2024-002: member eli@contoso.com added with roles [Viewer]" in refused.stderr
    assert "  now also planned: BR-2024-002/remove_member/eli@contoso.com" in refused.stderr
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .startswith("Error: live state changed since the plan was made for project(s) BR-2024-002")
    )
    assert hand.writes() == writes


def test_a_changed_field_is_named_before_and_after(
    run, hand: Hand, workdir: Path, tmp_path: Path
) -> None:
    saved = _saved_change(run, workdir, tmp_path)
    itwin = hand.itwin_id("BR-2024-001")
    lead = hand.role_id("BR-2024-001", "Structural Lead")
    permissions = {"permissions": ["imodels_read", "itwins_read"]}
    hand.send("PATCH", f"/accesscontrol/itwins/{itwin}/roles/{lead}", permissions)
    refused = run("apply", "--plan", saved, "--auto-approve")
    assert refused.code == 1
    assert (
        "  BR-2024-001: role Structural Lead permissions [administration_invite_member, "
        "imodels_read, imodels_write, itwins_read] -> [imodels_read, itwins_read]"
    ) in refused.stderr
    assert "  now also planned: BR-2024-001/update_role/Structural Lead" in refused.stderr


def test_the_saved_plan_records_its_target_and_no_secret(
    run, workdir: Path, tmp_path: Path
) -> None:
    saved = _saved_change(run, workdir, tmp_path)
    text = saved.read_text()
    assert "demo-secret" not in text
    target = json.loads(text)["target"]
    assert target["api"] == "http://testserver"
    assert target["backend"] == "itwins"
    assert target["identity"] == {
        "email": "itwin-access-demo@apps.contoso.com",
        "kind": "service-app",
    }
    assert target["organization"] == "Contoso"
    assert target["config"]["file"].endswith("itwin-access.yaml")
    assert len(target["config"]["sha256"]) == len(target["manifests_sha256"]) == 64
    assert target["tool_version"]
    assert target["created"].endswith("Z")


def test_only_a_plan_document_digests_the_manifests_again(
    run, workdir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    """Issue 17: the manifests' digest (every file read again) is made for a plan document
    (JSON, a saved plan) only; a text plan, a Markdown one or an apply shows just the header."""
    import reconciler.cli.target as target_module

    digested: list[str] = []
    real = target_module.discover

    def counting(paths: Any) -> Any:
        digested.append(str(paths))
        return real(paths)

    monkeypatch.setattr(target_module, "discover", counting)
    assert run("apply", workdir, "--auto-approve").code == 0
    assert run("plan", workdir).code == 0
    assert run("plan", workdir, "--format", "markdown").code == 0
    assert digested == []
    shown = run("plan", workdir, "--format", "json")
    assert len(json.loads(shown.stdout)["target"]["manifests_sha256"]) == 64
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved).code == 0
    assert len(json.loads(saved.read_text())["target"]["manifests_sha256"]) == 64
    assert len(digested) == 2


def test_every_plan_drift_and_apply_output_begins_with_the_target_header(
    run, workdir: Path
) -> None:
    header = (
        "Target: API http://testserver | backend itwins | identity "
        "itwin-access-demo@apps.contoso.com (service-app) | config "
    )
    for args in (
        ("plan", workdir),
        ("plan", workdir, "--format", "markdown"),
        ("drift", workdir),
        ("apply", workdir, "--auto-approve"),
    ):
        first = run(*args).stdout.splitlines()[0]
        assert first.lstrip("`").startswith(header), (args, first)
        assert first.rstrip("`").endswith("itwin-access.yaml"), (args, first)
    as_json = json.loads(run("plan", workdir, "--format", "json").stdout)
    assert as_json["target"]["api"] == "http://testserver"


def test_an_edited_saved_plan_is_refused_as_edited_and_nothing_is_written(
    run, hand: Hand, workdir: Path, tmp_path: Path
) -> None:
    """Issue 12 item 6: an operation changed to invite attacker@evil.example as Admin, with
    the counts kept, is refused before anything is read or written."""
    saved = _saved_change(run, workdir, tmp_path)
    data = json.loads(saved.read_text())
    op = data["operations"][0]
    op["after"] = {"email": "attacker@evil.example", "roles": ["Project Admin"]}
    saved.write_text(json.dumps(data))
    writes = hand.writes()
    refused = run("apply", "--plan", saved, "--auto-approve")
    assert refused.code == 1
    assert refused.stderr == (
        f"Error: {saved}: saved plan was edited after it was made (its digest does not match "
        "its target, allowances, operations and facts); run plan again and review it\n"
    )
    assert hand.writes() == writes


def test_an_unmoved_saved_plan_says_so_in_one_line(run, workdir: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved).code == 0
    applied = run("apply", "--plan", saved, "--auto-approve")
    assert applied.code == 0, applied.stderr
    assert applied.stderr.splitlines()[0] == (
        "Live state is as it was when the plan was made: applying the saved plan."
    )


def test_show_prints_a_saved_plan_as_plan_printed_it(run, workdir: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    made = run("plan", workdir, "--out", saved)
    assert made.code == 0
    shown = run("show", saved)
    assert (shown.code, shown.stdout) == (0, made.stdout)
    as_json = run("show", saved, "--format", "json")
    document = json.loads(as_json.stdout)
    assert "impact" in document  # as `plan --format json` prints it
    assert {k: v for k, v in document.items() if k != "impact"} == json.loads(saved.read_text())
    markdown = run("plan", workdir, "--format", "markdown").stdout
    assert run("show", saved, "--format", "markdown").stdout == markdown


def test_show_prints_in_full_the_markdown_a_comment_cut(run, workdir: Path, tmp_path: Path) -> None:
    # Sixty projects of one hundred members: a comment far past 60,000 characters.
    people = "\n".join(
        f"      - {{email: user{i:03d}@contoso.com, roles: [Viewer]}}" for i in range(100)
    )
    projects = "\n".join(
        f"  - number: BIG-{n:03d}\n    displayName: Big {n}\n    roles: [{{use: standard}}]\n"
        f"    members:\n{people}"
        for n in range(60)
    )
    (workdir / "big.yaml").write_text(f"projects:\n{projects}\n")
    saved = tmp_path / "plan.json"
    cut = run("plan", workdir, "--format", "markdown", "--out", saved)
    assert cut.code == 0, cut.stderr
    assert len(cut.stdout) <= 60_000
    assert "`itwin-access show plan.json` prints it" in cut.stdout
    full = run("show", saved, "--format", "markdown")
    assert full.code == 0
    assert len(full.stdout) > 60_000
    assert "Truncated" not in full.stdout
    assert "BIG-059: +104 ~0 -0" in full.stdout  # the project, 3 roles, 100 members


def test_show_refuses_an_edited_plan(run, workdir: Path, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved).code == 0
    data = json.loads(saved.read_text())
    data["allow"] = ["project-deletions"]
    saved.write_text(json.dumps(data))
    shown = run("show", saved)
    assert shown.code == 1
    assert "edited after it was made" in shown.stderr


def test_a_config_naming_another_identity_or_backend_is_refused_before_any_request(
    run, hand: Hand, workdir: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    assert run("plan", workdir, "--out", saved).code == 0
    other = tmp_path / "other.yaml"
    writes = hand.writes()
    for text, named in (
        ("identity: alice@contoso.com\n", "identity alice@contoso.com (the plan was made as "
         "itwin-access-demo@apps.contoso.com)"),
        ("backend: projects\n", "backend projects (the plan was made for itwins)"),
    ):  # fmt: skip
        other.write_text(text)
        refused = run("apply", "--plan", saved, "--config", other, "--auto-approve")
        assert refused.code == 1
        assert refused.stdout == ""
        assert refused.stderr == (
            f"Error: refusing to apply: the config {other} names {named}. Nothing was sent. "
            "Apply the plan with a config (or ITWIN_ACCESS_API) naming its target, or plan "
            "again against this one\n"
        )
    assert hand.writes() == writes
