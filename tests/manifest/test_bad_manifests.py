"""Every manifest in tests/bad_manifests/ fails `validate` with exactly its expected lines.

Each case is ``NAME.yaml`` (or a directory ``NAME/``) beside ``NAME.expected``: the exact
problem lines on stderr, in order; an optional first line ``# args: ...`` adds CLI options.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.manifest import MAX_FILE_BYTES

BAD = Path(__file__).resolve().parent.parent / "bad_manifests"
CASES = sorted(p.stem for p in BAD.glob("*.expected"))


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    for name in CASES:
        assert (BAD / f"{name}.yaml").exists() or (BAD / name).is_dir(), name


@pytest.mark.parametrize("name", CASES)
def test_bad_manifest_gives_its_exact_lines(
    name: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BAD)
    lines = (BAD / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    args: list[str] = []
    if lines and lines[0].startswith("# args:"):
        args = lines.pop(0).removeprefix("# args:").split()
    target = f"{name}.yaml" if (BAD / f"{name}.yaml").exists() else name
    code, out, err = _run(capsys, *args, target)
    assert code == 1
    assert "Traceback" not in out + err
    problem_lines = [line for line in err.splitlines() if not line.startswith("invalid: ")]
    assert problem_lines == lines
    assert err.splitlines()[-1] == f"invalid: {len(lines)} error{'s' if len(lines) != 1 else ''}"
    assert out == ""


def test_a_10_mb_file_is_refused_before_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "huge.yaml"
    member = "      - email: someone@contoso.com\n        roles: [Viewer]\n"
    with big.open("w", encoding="utf-8") as handle:
        handle.write("projects:\n  - number: BIG-1\n    members:\n")
        while handle.tell() < 10 * 1024 * 1024:
            handle.write(member * 1000)
    assert big.stat().st_size > MAX_FILE_BYTES
    code, _, err = _run(capsys, str(big))
    assert code == 1
    assert err.splitlines()[0] == (
        f"{big}:1:1: file is 10.0 MB, over the 5 MB limit per manifest; split it into several files"
    )
    assert "Traceback" not in err


def test_a_missing_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(tmp_path / "nope.yaml"))
    assert code == 1
    assert err.splitlines()[0] == f"{tmp_path / 'nope.yaml'}:1:1: no such file or directory"


def test_problems_from_several_files_are_sorted_and_all_reported(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BAD)
    code, _, err = _run(capsys, "15-bad-status.yaml", "09-number-int.yaml")
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith("09-number-int.yaml:3:13: projects[0].number:")
    assert lines[1].startswith("15-bad-status.yaml:4:13: projects[0].status:")
    assert lines[2] == "invalid: 2 errors"
