"""An apply killed with SIGKILL at random points converges on the next apply (a few trials
here; benchmarks/kill_trials.py runs 50 and reports)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "kill_trials.py"


def _kill_trials():  # the benchmark script is the one implementation of a trial
    spec = importlib.util.spec_from_file_location("kill_trials", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


def test_killed_applies_converge_on_the_next_apply(tmp_path: Path) -> None:
    trials = _kill_trials()
    rng = random.Random(7)
    with trials.start(tmp_path / "kill.db", latency_ms=20) as emulator:
        duration = trials.apply_duration(emulator, tmp_path)
        results = [trials.run_trial(emulator, tmp_path, rng.uniform(0.1, duration * 0.9))]
        # Twice more in the middle of the writes: after k outcomes are in the journal.
        results += [
            trials.run_trial(emulator, tmp_path, rng.uniform(0, 0.02), rng.randrange(1, 26))
            for _ in range(2)
        ]
    for trial in results:
        assert trial.converged, trial.detail
    assert sum(t.killed and t.journal_lines > 0 for t in results) >= 1
