"""The model's values: the loader's fast construction gives the dataclass's own values; keys are
cached; a state finds its projects by number."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

from reconciler.manifest import load_manifests
from reconciler.model import Project, Source, State, UserMember


def test_the_loaded_member_equals_the_constructed_value(tmp_path: Path) -> None:
    # The loader fills a member's and its source's __dict__ at once (manifest.build), past the
    # frozen dataclasses' __init__: the values must be the same in every respect.
    manifest = tmp_path / "p.yaml"
    manifest.write_text(
        "projects:\n  - number: P-1\n    roles:\n      - displayName: Viewer\n"
        "    members:\n      - email: a@b.c\n        roles: [Viewer]\n"
    )
    (project,) = load_manifests([manifest]).raise_for_errors().projects
    (made,) = project.members
    source = Source(str(manifest), 6, 9, "projects[0].members[0]")
    assert made.source == source
    assert str(made.source) == f"{manifest}:6:9"
    usual = UserMember(email="a@b.c", roles=frozenset({"Viewer"}), source=source)
    assert made == usual
    assert hash(made) == hash(usual)
    assert repr(made) == repr(usual)
    assert made.pending is False  # defaults kept
    assert made.id is None
    assert made.key == "a@b.c"
    assert dataclasses.replace(made, pending=True).pending is True
    assert pickle.loads(pickle.dumps(made)) == usual


def test_a_member_key_is_cached_without_changing_the_value() -> None:
    member = UserMember(email="Alice@Contoso.com", roles=frozenset({"Viewer"}))
    assert member.key == "alice@contoso.com"
    assert member.key is member.key  # worked out once
    assert member == UserMember(email="Alice@Contoso.com", roles=frozenset({"Viewer"}))
    assert dataclasses.replace(member, email="bob@contoso.com").key == "bob@contoso.com"
    assert dataclasses.replace(member, email=None, id="m1").key == "id:m1"


def test_a_state_finds_its_projects_by_number_the_first_of_a_number_winning() -> None:
    # Issue 17: looked up through an index made once per state (a scan per lookup made
    # plans of a thousand projects quadratic); the answers are those of the scan.
    first, second, other = Project("N1", id="a"), Project("N1", id="b"), Project("N2")
    state = State((first, other, second))
    assert state.project("N1") is first
    assert state.project("N2") is other
    assert state.project("N3") is None
    assert State().project("N1") is None
