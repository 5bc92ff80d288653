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
