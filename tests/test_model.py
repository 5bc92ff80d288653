"""model.built: the loader's fast constructor gives the same value as the dataclass's own."""

from __future__ import annotations

import dataclasses
import pickle

from reconciler.model import Source, UserMember, built


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
