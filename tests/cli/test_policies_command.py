"""Policies through the CLI (issue 16): a violation blocks plan and apply with exit 3 before
anything is written; only a liftable rule is lifted by --allow; apply --plan checks again."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fixtures' types only: which `conftest` a bare import finds depends on
    from conftest import Hand, Invoke  # the files collected before (tests/manifest has one too)

POLICIES = """\
api: http://testserver
backend: itwins
policies:
  domains: [contoso.com]
  rules:
    - name: admins-internal
      rule: allowed-domains
      permissions: [administration_*]
      domains: [contoso.com]
{liftable}"""


def configure(workdir: Path, liftable: bool = False) -> None:
    extra = "      liftable: true\n" if liftable else ""
    (workdir / "itwin-access.yaml").write_text(POLICIES.format(liftable=extra))
    bridges = workdir / "bridges.yaml"
    text = bridges.read_text()
    external = (
        "      - email: someone@fabrikam.com   # external: gets an invitation\n"
        "        roles: [Viewer]"
    )
    assert external in text
    bridges.write_text(text.replace(external, external.replace("[Viewer]", "[Project Admin]")))


def test_a_violation_blocks_plan_and_apply_with_exit_3_and_writes_nothing(
    run: Invoke, workdir: Path, hand: Hand
) -> None:
    configure(workdir)
    planned = run("plan", workdir)
    assert planned.code == 3
    line = (
        "policy:admins-internal: project BR-2024-001: someone@fabrikam.com would hold "
        "administration_invite_member, administration_manage_groups, "
        "administration_manage_roles, administration_remove_member, allowed only for "
        f"@contoso.com ({workdir / 'bridges.yaml'}:28:9); this policy cannot be allowed"
    )
    assert f"  ! {line}" in planned.stdout.splitlines()
    assert f"Blocked by guard {line}" in planned.stderr.splitlines()
    before = hand.writes()
    applied = run("apply", workdir, "--auto-approve")
    assert applied.code == 3
    assert hand.writes() == before
    refused = run("apply", workdir, "--auto-approve", "--allow", "policy:admins-internal")
    assert refused.code == 1
    assert refused.stderr.strip().endswith(
        "policy:admins-internal cannot be allowed: the rule does not say `liftable: true` "
        f"({workdir / 'itwin-access.yaml'}:6:7)"
    )
    assert len(refused.stderr.strip().splitlines()) == 1
    assert hand.writes() == before


def test_a_liftable_rule_is_lifted_by_allow_and_travels_with_the_saved_plan(
    run: Invoke, workdir: Path, hand: Hand, tmp_path: Path
) -> None:
    configure(workdir, liftable=True)
    saved = tmp_path / "plan.json"
    lifted = run("plan", workdir, "--allow", "policy:admins-internal", "--out", saved)
    assert lifted.code == 0, lifted.stderr
    assert (
        "  ! policy:admins-internal (--allow policy:admins-internal): project BR-2024-001:"
        in lifted.stdout
    )
    before = hand.writes()
    # Issue 13: the allowance was recorded in the reviewed plan; apply checks the policies
    # again on live state, with that allowance, and needs no --allow of its own.
    done = run(
        "apply", "--plan", saved, "--auto-approve", "--config", workdir / "itwin-access.yaml"
    )
    assert done.code == 0, done.stderr
    # What it applies is said first as access (after the target line): re-read live state,
    # the saved operations.
    assert done.stdout.split("\n\n", 1)[1].startswith("Access changes: ")
    assert "someone@fabrikam.com (outside the organization): +administration_invite_member" in (
        done.stdout
    )
    assert hand.writes() > before
