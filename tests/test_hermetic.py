"""The hermetic guard itself: an outside read fails the test; reads inside do not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hermetic import CHECKOUT, Guard, OutsideRead

OUTSIDE = "/etc/passwd"  # present on every Linux machine, and outside every allowed root


def test_an_outside_open_is_refused_and_recorded(hermetic: Guard) -> None:
    with pytest.raises(OutsideRead, match="outside the repository"):
        Path(OUTSIDE).read_text()
    with pytest.raises(OutsideRead):
        os.open(OUTSIDE, os.O_RDONLY)
    assert hermetic.take() == [OUTSIDE, OUTSIDE]  # taken, so this test itself passes


def test_reads_inside_the_allowed_roots_pass(hermetic: Guard, tmp_path: Path) -> None:
    assert (CHECKOUT / "pyproject.toml").read_text().startswith("[build-system]")
    (tmp_path / "f").write_text("x")
    assert (tmp_path / "f").read_text() == "x"
    assert Path(os.__file__).read_bytes()  # the interpreter's own prefix
    assert hermetic.take() == []
    assert hermetic.outside("/etc/itwin-access/notes/permissions.txt")
    assert not hermetic.outside(str(CHECKOUT / "tests" / "fixtures" / "permissions.txt"))


def test_a_test_that_reads_outside_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_outside=f"""
        def test_swallows_the_error():
            try:
                open({OUTSIDE!r}).read()
            except OSError:
                pass  # code that falls back quietly must still fail the test
        """
    )
    plugin_dir = str(Path(__file__).resolve().parent)
    monkeypatch.setenv("PYTHONPATH", plugin_dir)
    result = pytester.runpytest_subprocess("-p", "hermetic", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*opened outside the repository*{OUTSIDE}*"])
