"""load_manifests: YAML with locations -> checks -> the desired model.State."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError, Severity
from reconciler.manifest import (
    KNOWN_PERMISSIONS,
    MAX_NODES,
    check_permissions,
    load_manifests,
    load_state,
)
from reconciler.manifest.permissions import KNOWN_PERMISSIONS_ORDERED
from reconciler.model import (
    Group,
    GroupMember,
    Manage,
    Owner,
    ProjectState,
    Role,
    Source,
    UserMember,
)

ROLE_SETS = """\
roleSets:
  standard:
    - displayName: Viewer
      description: Read-only
      permissions: [imodels_read, imodels_webview]
    - displayName: Editor
      permissions: [imodels_write]
"""

PROJECT = """\
projects:
  - number: BR-1
    displayName: Bridge
    class: Endeavor
    subClass: Project
    latitude: 40.5
    manage: {owners: additive}
    roles:
      - use: standard
      - displayName: Lead
        description: Leads
        permissions: [administration_invite_member]
    groups:
      - name: Team
        description: The team
        members: [Dana@Contoso.com]
        imsGroups: [Engineers]
    owners: [Alice@Contoso.com]
    members:
      - email: BOB@contoso.com
        roles: [Viewer, Lead]
      - group: Team
        roles: [Editor]
  - number: BR-2
    state: absent
  - number: BR-3
    manage: {groups: additive, roles: authoritative}
"""


def write(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_expands_role_sets_lowercases_emails_and_keeps_sources(tmp_path: Path) -> None:
    root = write(tmp_path, **{"a/sets.yaml": ROLE_SETS, "b/projects.yml": PROJECT})
    result = load_manifests([root])
    assert result.problems == []
    assert result.files == [root / "a/sets.yaml", root / "b/projects.yml"]
    state = result.state
    assert state.numbers() == ("BR-1", "BR-2", "BR-3")
    p = state.project("BR-1")
    assert p is not None
    assert dict(p.attributes) == {
        "class": "Endeavor",
        "displayName": "Bridge",
        "latitude": 40.5,
        "subClass": "Project",
    }
    assert p.roles == (
        Role("Editor", None, frozenset({"imodels_write"})),
        Role("Lead", "Leads", frozenset({"administration_invite_member"})),
        Role("Viewer", "Read-only", frozenset({"imodels_read", "imodels_webview"})),
    )
    assert p.groups == (
        Group("Team", "The team", frozenset({"dana@contoso.com"}), frozenset({"Engineers"})),
    )
    assert p.members == (UserMember("bob@contoso.com", frozenset({"Viewer", "Lead"})),)
    assert p.group_members == (GroupMember("Team", frozenset({"Editor"})),)
    assert p.owners == (Owner("alice@contoso.com"),)
    projects_file = str(root / "b/projects.yml")
    assert p.source == Source(projects_file, 2, 5, "projects[0]")
    assert p.members[0].source == Source(projects_file, 20, 9, "projects[0].members[0]")
    assert p.owners[0].source == Source(projects_file, 18, 14, "projects[0].owners[0]")
    viewer = p.role("Viewer")
    assert viewer is not None
    # A role from a role set points at its definition.
    assert viewer.source == Source(str(root / "a/sets.yaml"), 3, 7, "roleSets.standard[0]")


def test_sections_are_managed_only_when_declared_or_named(tmp_path: Path) -> None:
    state = load_manifests([write(tmp_path, **{"p.yaml": ROLE_SETS + PROJECT})]).state
    br1, br2, br3 = state.projects
    assert dict(br1.manage) == {
        "roles": Manage.AUTHORITATIVE,
        "groups": Manage.AUTHORITATIVE,
        "members": Manage.AUTHORITATIVE,
        "owners": Manage.ADDITIVE,
    }
    assert dict(br2.manage) == {}
    assert br2.state is ProjectState.ABSENT
    assert br1.state is ProjectState.PRESENT
    assert dict(br3.manage) == {"groups": Manage.ADDITIVE, "roles": Manage.AUTHORITATIVE}
    assert br3.roles == ()
    assert br3.groups == ()


def test_unknown_permission_is_a_warning_and_live_check_an_error(tmp_path: Path) -> None:
    text = "projects:\n  - number: X\n    roles:\n      - displayName: R\n"
    text += "        permissions: [imodels_raed, imodels_read]\n"
    result = load_manifests([write(tmp_path, **{"p.yaml": text})])
    assert result.errors == []
    [warning] = result.warnings
    assert warning.severity is Severity.WARNING
    assert (warning.line, warning.column) == (5, 23)
    assert warning.path == "projects[0].roles[0].permissions[0]"
    assert "unknown permission 'imodels_raed'; did you mean 'imodels_read'?" in warning.message
    assert result.raise_for_errors() is result.state

    live = frozenset({"imodels_read"})
    [error] = check_permissions(result.state, live)
    assert error.severity is Severity.ERROR
    assert (error.file, error.line) == (str(tmp_path / "p.yaml"), 4)
    assert error.path == "projects[0].roles[0].permissions"
    assert "'imodels_raed' of role 'R' is not known to the service" in error.message
    assert check_permissions(result.state, KNOWN_PERMISSIONS | {"imodels_raed"}) == []


def test_load_state_raises_with_every_problem(tmp_path: Path) -> None:
    text = "projects:\n  - number: 1\n  - number: A\n    owners: [x]\n"
    with pytest.raises(ManifestError) as caught:
        load_state([write(tmp_path, **{"p.yaml": text})])
    assert len(caught.value.problems) == 2
    assert str(caught.value).endswith("(and 1 more)")


def test_cross_references_only_checked_in_authoritative_sections(tmp_path: Path) -> None:
    # Roles additive / groups unmanaged: the names may exist live, so only plan can tell.
    text = """\
projects:
  - number: A
    manage: {roles: additive}
    members:
      - email: bob@contoso.com
        roles: [Live Role]
      - group: Live Group
        roles: [Live Role]
"""
    assert load_manifests([write(tmp_path, **{"p.yaml": text})]).problems == []


def test_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        levels.append(f"a{i}: &a{i} [{refs}]")
    result = load_manifests([write(tmp_path, **{"bomb.yaml": "\n".join(levels) + "\n"})])
    [problem] = result.problems
    assert f"aliases expand to more than {MAX_NODES:,} nodes" in problem.message


def test_harmless_aliases_are_fine(tmp_path: Path) -> None:
    text = """\
projects:
  - number: A
    owners: &owners [alice@contoso.com]
  - number: B
    owners: *owners
"""
    state = load_manifests([write(tmp_path, **{"p.yaml": text})]).state
    assert [p.owners for p in state.projects] == [(Owner("alice@contoso.com"),)] * 2


def test_date_like_numbers_stay_text(tmp_path: Path) -> None:
    text = "projects:\n  - number: 2024-01-31\n"
    state = load_manifests([write(tmp_path, **{"p.yaml": text})]).state
    assert state.numbers() == ("2024-01-31",)


def test_config_file_and_hidden_dirs_are_not_manifests(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        **{
            "itwin-access.yaml": "api: emulator\n",
            ".itwin-access/x.yaml": "not: a manifest\n",
            "p.yaml": "projects:\n  - number: A\n",
        },
    )
    result = load_manifests([root])
    assert result.problems == []
    assert result.files == [root / "p.yaml"]


def test_unknown_backend_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown backend"):
        load_manifests([], backend="nope")


def test_shipped_permissions_match_the_emulator_catalogue() -> None:
    from reconciler.emulator.policy import ALL_PERMISSIONS

    assert KNOWN_PERMISSIONS_ORDERED == ALL_PERMISSIONS


def test_crlf_and_bom_keep_exact_positions(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xef\xbb\xbfprojects:\r\n  - number: A\r\n    owners: [bad]\r\n")
    [problem] = load_manifests([path]).problems
    assert (problem.line, problem.column, problem.path) == (3, 14, "projects[0].owners[0]")


def test_very_long_lines_use_the_safe_composer_and_still_load(tmp_path: Path) -> None:
    # A line this long makes nesting depth unprovable cheaply, so the pure-Python composer
    # (whose recursion is caught) is used instead of libyaml's (which would crash, not raise).
    owners = [f"user{i:04d}@contoso.com" for i in range(300)]
    text = f"projects:\n  - number: A\n    owners: [{', '.join(owners)}]\n"
    assert len(text) > 6000
    result = load_manifests([write(tmp_path, **{"p.yaml": text})])
    assert result.problems == []
    project = result.state.project("A")
    assert project is not None
    assert len(project.owners) == 300


def test_deep_nesting_with_long_lines_is_refused_not_crashed(tmp_path: Path) -> None:
    text = "projects: " + "[" * 20000 + "]" * 20000 + "\n"
    [problem] = load_manifests([write(tmp_path, **{"p.yaml": text})]).problems
    assert "nested" in problem.message
