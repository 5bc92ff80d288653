"""Validate does linear work on the shapes that were quadratic (issue 12 item 9), counted in
operations, not timed (benchmarks/validate.py --shapes prints the times)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from reconciler.manifest import load_manifests
from reconciler.manifest.document import Document


def test_unknown_roles_against_many_roles_compare_few_candidates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 1000
    text = "projects:\n  - number: K-1\n    roles:\n"
    text += "".join(f"      - displayName: Role{i:04d}\n" for i in range(n))
    text += "    members:\n"
    text += "".join(f"      - email: u{i}@x.com\n        roles: [Nope{i:04d}x]\n" for i in range(n))
    (tmp_path / "m.yaml").write_text(text)
    compared = [0]
    real = difflib.SequenceMatcher.set_seq1

    def counting(self: difflib.SequenceMatcher[str], a: str) -> None:
        compared[0] += 1
        real(self, a)

    monkeypatch.setattr(difflib.SequenceMatcher, "set_seq1", counting)
    result = load_manifests([tmp_path])
    assert len(result.problems) == n
    assert compared[0] < 20 * n  # was n * n: difflib against every role for every member


def test_key_positions_are_indexed_once_per_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 5000
    (tmp_path / "m.yaml").write_text(
        "roleSets:\n" + "".join(f"  rs{i}:\n    - displayName: R{i}\n" for i in range(n))
    )
    built = [0]
    real = Document._entry

    def counting(self: Document, container: object, name: str) -> object:
        if id(container) not in self._index:
            built[0] += 1
        return real(self, container, name)

    monkeypatch.setattr(Document, "_entry", counting)
    result = load_manifests([tmp_path])
    assert result.problems == []
    assert built[0] <= 3  # one index per mapping asked about, not a scan per key
