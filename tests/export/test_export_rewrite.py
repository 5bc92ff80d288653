"""``adoption_edits``: manifest files rewritten so drifted projects describe live state, read back
by the real manifest loader and diffed against the same live state."""

from __future__ import annotations

from pathlib import Path

import yaml

from reconciler.diff import diff
from reconciler.export import write_files
from reconciler.export.rewrite import adoption_edits
from reconciler.manifest import load_state
from reconciler.model import SECTIONS, Manage, Owner, Project, Role, State, UserMember
from reconciler.plan.build import OpKind

ROLE_SETS = """\
# yaml-language-server: $schema=../schema.json
# Shared roles.
roleSets:
  std:
    - displayName: Viewer
      permissions: [imodels_read]
    - displayName: Editor
      description: Edits
      permissions: [imodels_write]
"""
PROJECTS = """\
# yaml-language-server: $schema=../schema.json
projects:
  - number: P1            # drifted: a member added by hand, a role edited
    displayName: One
    roles:
      - use: std
      - displayName: Lead
        description: Leads
        permissions: []
    members:
      - email: bob@x.com
        roles: [Viewer]
  - number: P2            # in sync: must come back unchanged
    displayName: Two
    roles: [{use: std}]
    members: [{email: Carol@X.com, roles: [Editor]}]
  - number: P3            # declared, but deleted by hand
    displayName: Three
  - number: P4
    state: absent         # declared absent, but exists: left for a human
  - number: P5            # additive members; geographicLocation unset live
    geographicLocation: Exton
    manage: {members: additive}
    members: [{email: dan@x.com, roles: [Viewer]}]
"""
VIEWER = Role("Viewer", "Read", frozenset({"imodels_read"}))
EDITOR = Role("Editor", "Edits", frozenset({"imodels_write"}))
ALL = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)


def _live() -> State:
    return State(
        (
            Project(
                "P1",
                attributes={"displayName": "One"},
                manage=ALL,
                roles=(VIEWER, EDITOR, Role("Lead", "Leads", frozenset({"itwins_read"}))),
                members=(
                    UserMember("bob@x.com", frozenset({"Viewer"})),
                    UserMember("eve@x.com", frozenset({"Editor"})),
                    UserMember(None, frozenset({"Viewer"}), id="ghost"),
                ),
                owners=(Owner("alice@x.com"),),
            ),
            Project(
                "P2",
                attributes={"displayName": "Two"},
                manage=ALL,
                roles=(VIEWER, EDITOR),
                members=(UserMember("carol@x.com", frozenset({"Editor"})),),
            ),
            Project("P4", attributes={"displayName": "Four"}, manage=ALL),
            Project(
                "P5",
                attributes={},
                manage=ALL,
                members=(
                    UserMember("dan@x.com", frozenset({"Editor"})),
                    UserMember("zed@x.com", frozenset({"Viewer"})),
                ),
            ),
        )
    )


def test_adoption_rewrites_only_drifted_projects_and_converges(tmp_path: Path) -> None:
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "role-sets.yaml").write_text(ROLE_SETS)
    (root / "projects.yaml").write_text(PROJECTS)
    desired, live = load_state([root]), _live()
    ops = diff(desired, live)
    assert {op.project for op in ops} == {"P1", "P3", "P4", "P5"}

    adoption = adoption_edits([root], desired, live, ops)
    assert sorted(adoption.files) == ["projects.yaml"]
    assert adoption.adopted == ["P1", "P3", "P5"]
    notes = "\n".join(adoption.notes)
    assert "P3: missing live" in notes
    assert "P4: declared absent" in notes
    assert "ghost" in notes  # a user deleted from IMS cannot be listed

    write_files(adoption.files, root)
    text = (root / "projects.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=../schema.json\n")
    after = load_state([root])
    remaining = diff(after, live)
    assert sorted((op.project, op.kind, op.key) for op in remaining) == [
        ("P1", OpKind.REMOVE_MEMBER, "id:ghost"),
        ("P4", OpKind.DELETE_PROJECT, ""),
    ]
    entries = {e["number"]: e for e in yaml.safe_load(text)["projects"]}
    assert "P3" not in entries
    assert entries["P2"] == yaml.safe_load(PROJECTS)["projects"][1]  # untouched
    # Viewer and Editor still match the role set, so `use: std` stays; the edited Lead is inline.
    assert entries["P1"]["roles"][0] == {"use": "std"}
    assert entries["P1"]["roles"][1]["permissions"] == ["itwins_read"]
    assert [m["email"] for m in entries["P1"]["members"]] == ["bob@x.com", "eve@x.com"]
    # Additive: the declared member adopts its live roles; the live extra stays unlisted.
    assert entries["P5"]["members"] == [{"email": "dan@x.com", "roles": ["Editor"]}]
    assert "geographicLocation" not in entries["P5"]
    assert entries["P5"]["manage"] == {"members": "additive"}


def test_a_role_set_that_no_longer_matches_is_expanded_inline(tmp_path: Path) -> None:
    (tmp_path / "role-sets.yaml").write_text(ROLE_SETS)
    (tmp_path / "p.yaml").write_text("projects:\n  - number: P2\n    roles: [{use: std}]\n")
    desired = load_state([tmp_path])
    live = State(
        (
            Project(
                "P2",
                manage=ALL,
                roles=(VIEWER, Role("Editor", "Edits", frozenset({"imodels_write", "x_y"}))),
            ),
        )
    )
    adoption = adoption_edits([tmp_path / "p.yaml"], desired, live, diff(desired, live))
    entry = yaml.safe_load(adoption.files["p.yaml"])["projects"][0]
    assert {"use": "std"} not in entry["roles"]
    assert sorted(r["displayName"] for r in entry["roles"]) == ["Editor", "Viewer"]


def test_no_drift_no_files(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("projects:\n  - number: P9\n")
    desired = load_state([tmp_path])
    adoption = adoption_edits([tmp_path], desired, State(), [])
    assert adoption.files == {}
