"""Drift split ("changed outside" vs "unmanaged extras") and adoption of live state."""

from __future__ import annotations

from reconciler.diff import diff
from reconciler.export.drift import adopt_project, adoption_notes, split_drift
from reconciler.model import Manage, Owner, Project, Role, State, UserMember
from reconciler.plan.build import OpKind

AUTH = Manage.AUTHORITATIVE
VIEWER = Role("Viewer", "Read", frozenset({"imodels_read"}))
EDITOR = Role("Editor", "Edit", frozenset({"imodels_write"}))


def _live() -> Project:
    return Project(
        "P",
        attributes={"displayName": "Renamed by hand", "status": "Active"},
        manage={"roles": AUTH, "members": AUTH, "groups": AUTH, "owners": AUTH},
        roles=(
            Role("Viewer", "Read", frozenset({"imodels_read", "imodels_write"})),  # edited
            EDITOR,
            Role("Extra", "Added by hand", frozenset()),
        ),
        members=(
            UserMember("bob@x.com", frozenset({"Editor"})),  # roles changed by hand
            UserMember("eve@x.com", frozenset({"Viewer"})),  # added by hand
            UserMember(None, frozenset({"Viewer"}), id="ghost"),
        ),
        owners=(Owner("alice@x.com"),),
    )


def _desired(mode: Manage = AUTH) -> Project:
    return Project(
        "P",
        attributes={"displayName": "Project P"},
        manage={"roles": mode, "members": mode},
        roles=(VIEWER, EDITOR),
        members=(
            UserMember("bob@x.com", frozenset({"Viewer"})),
            UserMember("carl@x.com", frozenset({"Viewer"})),  # removed by hand
        ),
    )


def test_split_separates_changes_from_unmanaged_extras() -> None:
    desired = State((_desired(),))
    ops = diff(desired, State((_live(),)))
    split = split_drift(desired, ops)
    assert {(op.kind, op.key) for op in split.extras} == {
        (OpKind.DELETE_ROLE, "Extra"),
        (OpKind.REMOVE_MEMBER, "eve@x.com"),
        (OpKind.REMOVE_MEMBER, "id:ghost"),
    }
    assert {(op.kind, op.key) for op in split.changed} == {
        (OpKind.UPDATE_PROJECT, ""),
        (OpKind.UPDATE_ROLE, "Viewer"),
        (OpKind.UPDATE_MEMBER, "bob@x.com"),
        (OpKind.ADD_MEMBER, "carl@x.com"),
    }


def test_adopting_an_authoritative_project_leaves_only_the_inexpressible() -> None:
    want, live = _desired(), _live()
    adopted = adopt_project(want, live)
    remaining = diff(State((adopted,)), State((live,)))
    # A user deleted from IMS has no email: no manifest can list it.
    assert [(op.kind, op.key) for op in remaining] == [(OpKind.REMOVE_MEMBER, "id:ghost")]
    assert adopted.managed("owners") is None  # unmanaged sections stay unmanaged
    notes = adoption_notes(want, live)
    assert len(notes) == 1
    assert "ghost" in notes[0]


def test_adopting_an_additive_project_keeps_tolerating_extras() -> None:
    want, live = _desired(Manage.ADDITIVE), _live()
    adopted = adopt_project(want, live)
    assert diff(State((adopted,)), State((live,))) == []
    assert [m.email for m in adopted.members] == ["bob@x.com"]  # eve stays an unlisted extra
    assert [r.display_name for r in adopted.roles] == ["Editor", "Viewer"]
    assert adoption_notes(want, live) == []


def test_an_attribute_unset_live_is_dropped() -> None:
    want = Project("P", attributes={"displayName": "P", "geographicLocation": "Exton"})
    live = Project("P", attributes={"displayName": "P"})
    assert adopt_project(want, live).attributes == {"displayName": "P"}
