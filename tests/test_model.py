"""model.built: the loader's fast constructor gives the same value as the dataclass's own."""

from __future__ import annotations

import dataclasses
import pickle

from reconciler.model import Project, Source, State, UserMember, built


def test_built_equals_the_constructed_value() -> None:
    source = built(Source, file="a.yaml", line=3, column=7, path="projects[0].members[0]")
    assert source == Source("a.yaml", 3, 7, "projects[0].members[0]")
    assert str(source) == "a.yaml:3:7"
    made = built(UserMember, email="a@b.c", roles=frozenset({"Viewer"}), source=source)
    usual = UserMember(email="a@b.c", roles=frozenset({"Viewer"}), source=source)
    assert made == usual
    assert hash(made) == hash(usual)
    assert repr(made) == repr(usual)
    assert made.pending is False  # defaults kept
    assert made.id is None
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
