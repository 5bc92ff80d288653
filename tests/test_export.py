"""Export turns live state into manifests: shape, role sets, file names, determinism.

The round trip (exported manifests planned against the same live state give an empty plan) is
checked against the emulator in tests/test_export_roundtrip.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from reconciler.export import ROLE_SETS_FILE, export_state, write_files
from reconciler.export.files import project_file_names
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    Role,
    State,
    UserMember,
)

ROOT = Path(__file__).resolve().parent.parent
ALL = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)
VIEWER = Role("Viewer", "Read-only access", frozenset({"imodels_webview", "imodels_read"}))
EDITOR = Role("Editor", "Edits models", frozenset({"imodels_write", "imodels_read"}))


def _project(number: str, *roles: Role, **kw: object) -> Project:
    fields: dict[str, object] = {
        "attributes": {"displayName": f"Project {number}", "status": "Active"},
        "manage": ALL,
        "roles": roles,
    }
    fields.update(kw)
    return Project(number, **fields)  # type: ignore[arg-type]


def _docs(files: dict[str, str]) -> dict[str, dict[str, object]]:
    return {path: yaml.safe_load(text) for path, text in files.items()}


def test_one_file_per_project_with_modeline_and_schema_valid_content() -> None:
    state = State((_project("BR-1", VIEWER), _project("BR-2", EDITOR)))
    files = export_state(state).files
    assert sorted(files) == ["manifest.schema.json", "projects/BR-1.yaml", "projects/BR-2.yaml"]
    schema = json.loads((ROOT / "schemas" / "manifest.schema.json").read_text())
    assert json.loads(files.pop("manifest.schema.json")) == schema
    for text in files.values():
        first = text.splitlines()[0]
        # relative to projects/<file>.yaml: the schema written at the export's root
        assert first == "# yaml-language-server: $schema=../manifest.schema.json"
        jsonschema.validate(yaml.safe_load(text), schema)
    doc = _docs(files)["projects/BR-1.yaml"]
    assert doc == {
        "projects": [
            {
                "number": "BR-1",
                "displayName": "Project BR-1",
                "status": "Active",
                "manage": dict.fromkeys(SECTIONS, "authoritative"),
                "roles": [
                    {
                        "displayName": "Viewer",
                        "description": "Read-only access",
                        "permissions": ["imodels_read", "imodels_webview"],
                    }
                ],
                "groups": [],
                "owners": [],
                "members": [],
            }
        ]
    }


def test_identical_roles_shared_by_two_projects_become_a_role_set() -> None:
    lead = Role("Lead", "Leads", frozenset({"administration_invite_member"}))
    # Same name, other permissions: not identical, so it stays inline.
    other_viewer = Role("Viewer", "Read-only access", frozenset({"imodels_read"}))
    state = State(
        (
            _project("A", VIEWER, EDITOR, lead),
            _project("B", VIEWER, EDITOR),
            _project("C", other_viewer, EDITOR),
        )
    )
    docs = _docs(export_state(state).files)
    sets = docs[ROLE_SETS_FILE]["roleSets"]
    assert sets == {
        "editor": [
            {
                "displayName": "Editor",
                "description": "Edits models",
                "permissions": ["imodels_read", "imodels_write"],
            }
        ],
        "viewer": [
            {
                "displayName": "Viewer",
                "description": "Read-only access",
                "permissions": ["imodels_read", "imodels_webview"],
            }
        ],
    }
    roles_a = docs["projects/A.yaml"]["projects"][0]["roles"]  # type: ignore[index]
    assert roles_a[:2] == [{"use": "editor"}, {"use": "viewer"}]
    assert roles_a[2]["displayName"] == "Lead"
    roles_c = docs["projects/C.yaml"]["projects"][0]["roles"]  # type: ignore[index]
    assert roles_c == [
        {"use": "editor"},
        {
            "displayName": "Viewer",
            "description": "Read-only access",
            "permissions": ["imodels_read"],
        },
    ]


def test_roles_used_by_the_same_projects_travel_in_one_set() -> None:
    state = State(tuple(_project(n, VIEWER, EDITOR) for n in ("A", "B", "C")))
    docs = _docs(export_state(state).files)
    assert list(docs[ROLE_SETS_FILE]["roleSets"]) == ["editor-viewer"]
    for n in ("A", "B", "C"):
        assert docs[f"projects/{n}.yaml"]["projects"][0]["roles"] == [{"use": "editor-viewer"}]  # type: ignore[index]


def test_members_sorted_pending_included_missing_users_left_out_with_a_warning() -> None:
    members = (
        UserMember("zoe@x.com", frozenset({"Viewer", "Editor"})),
        UserMember("amy@x.com", frozenset({"Viewer"}), pending=True, id="inv-1"),
        UserMember(None, frozenset({"Viewer"}), id="ghost-1"),
    )
    project = _project(
        "P",
        VIEWER,
        EDITOR,
        members=members,
        group_members=(GroupMember("Team", frozenset({"Editor"})),),
        groups=(Group("Team", "The team", frozenset({"b@x.com", "a@x.com"})),),
        owners=(Owner("o@x.com"), Owner(None, id="ghost-2")),
    )
    result = export_state(State((project,)))
    text = result.files["projects/P.yaml"]
    entry = yaml.safe_load(text)["projects"][0]
    assert entry["members"] == [
        {"email": "amy@x.com", "roles": ["Viewer"]},
        {"email": "zoe@x.com", "roles": ["Editor", "Viewer"]},
        {"group": "Team", "roles": ["Editor"]},
    ]
    assert entry["owners"] == ["o@x.com"]
    assert entry["groups"] == [
        {"name": "Team", "description": "The team", "members": ["a@x.com", "b@x.com"]}
    ]
    assert "ghost-1" in text
    assert "ghost-2" in text  # as header comments, so a reviewer sees what was left out
    assert len(result.warnings) == 2
    assert all("deleted from IMS" in w for w in result.warnings)


def test_only_the_sections_the_live_project_carries_are_written() -> None:
    # A `projects` backend reads no groups and no owners: export must not manage them.
    project = _project("P", VIEWER, manage={"roles": Manage.AUTHORITATIVE, "members": "additive"})
    entry = yaml.safe_load(export_state(State((project,))).files["projects/P.yaml"])["projects"][0]
    assert entry["manage"] == {"roles": "authoritative", "members": "additive"}
    assert "groups" not in entry
    assert "owners" not in entry


def test_strings_that_look_like_other_types_are_quoted() -> None:
    project = _project("0012", attributes={"displayName": "yes", "type": "1.5", "latitude": 12.5})
    text = export_state(State((project,))).files["projects/0012.yaml"]
    entry = yaml.safe_load(text)["projects"][0]
    assert entry["number"] == "0012"
    assert entry["displayName"] == "yes"
    assert entry["type"] == "1.5"
    assert entry["latitude"] == 12.5


def test_only_the_requested_projects_are_exported() -> None:
    state = State((_project("A", VIEWER), _project("B", VIEWER), _project("C", VIEWER)))
    files = export_state(state, ["A", "C"]).files
    assert sorted(files) == [
        "manifest.schema.json",
        "projects/A.yaml",
        "projects/C.yaml",
        ROLE_SETS_FILE,
    ]


def test_output_is_deterministic_whatever_the_input_order() -> None:
    projects = [_project(n, VIEWER, EDITOR) for n in ("B", "A", "C")]
    first = export_state(State(tuple(projects))).files
    second = export_state(State(tuple(reversed(projects)))).files
    assert first == second


def test_file_names_are_safe_and_distinct() -> None:
    numbers = ["BR/2024:001", "br_2024_001", "CON", "../etc", "", "Ünï"]
    names = project_file_names(numbers)
    assert len({n.lower() for n in names.values()}) == len(numbers)
    for name in names.values():
        assert "/" not in name
        assert not name.startswith(".")
        assert name.endswith(".yaml")
    assert names["CON"] != "CON.yaml"


def test_write_files_creates_directories(tmp_path: Path) -> None:
    files = export_state(State((_project("A", VIEWER),))).files
    written = write_files(files, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == [
        "manifest.schema.json",
        "projects/A.yaml",
    ]
    assert written[1].read_text() == files["projects/A.yaml"]
