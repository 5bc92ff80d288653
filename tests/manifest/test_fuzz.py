"""Whatever the bytes, loading yields problems, never an exception (so never a traceback)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.manifest import load_manifests

YAMLISH = st.lists(
    st.sampled_from([*"ab:-[]{}&*!|>'\"#,?%@ \t\n", "projects", "number", "  ", "<<"]),
    max_size=80,
).map("".join)
PREFIXES = st.sampled_from(
    [
        "",
        "projects:\n  - number: A\n",
        "projects:\n  - number: A\n    members:\n      - ",
        "roleSets:\n  s:\n    - ",
    ]
)


def _load(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_bytes(raw)
        result = load_manifests([path])
        for problem in result.problems:
            assert problem.line >= 1
            assert problem.column >= 1
            assert "\n" not in problem.message


@settings(max_examples=300, deadline=None)
@given(prefix=PREFIXES, body=YAMLISH)
def test_yaml_like_text_never_raises(prefix: str, body: str) -> None:
    _load((prefix + body).encode("utf-8"))


@settings(max_examples=150, deadline=None)
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(raw: bytes) -> None:
    _load(raw)


KEYS = st.sampled_from(
    [
        "projects",
        "roleSets",
        "number",
        "displayName",
        "roles",
        "groups",
        "members",
        "owners",
        "manage",
        "use",
        "email",
        "group",
        "name",
        "permissions",
        "state",
        "status",
        "s",
        "x",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["A", "", "a@b.co", "Viewer", "s", "absent", "additive", "imodels_read"]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(KEYS, VALUES, max_size=3))
def test_manifest_shaped_nonsense_never_raises(doc: dict[str, object]) -> None:
    import json

    _load(json.dumps(doc).encode())  # JSON is YAML: any shape, any mix of right and wrong


PROJECTS = st.lists(
    st.dictionaries(KEYS, VALUES, max_size=5).map(lambda d: {"number": "A", **d}), max_size=3
)


@settings(max_examples=300, deadline=None)
@given(
    projects=PROJECTS,
    role_sets=st.dictionaries(st.sampled_from(["s", "t"]), VALUES, max_size=2),
)
def test_projects_with_any_mix_of_sections_never_raise(
    projects: list[dict[str, object]], role_sets: dict[str, object]
) -> None:
    import json

    _load(json.dumps({"roleSets": role_sets, "projects": projects}).encode())
