"""Kill `apply` with SIGKILL at random points; the next apply must finish the job.

    python benchmarks/kill_trials.py [--trials 50] [--latency-ms 100] [--seed 1]

Each trial: a fresh emulator state (admin reset), `itwin-access apply examples/quickstart
--auto-approve --journal FILE` as a subprocess against it (uvicorn on 127.0.0.1, in this
process), killed with SIGKILL: odd trials at a random instant of the whole run (startup, reads,
writes), even trials at a random instant of the writes (once the journal holds k of the 27
outcomes, k random, plus up to one request's latency). Then one more apply, which must exit 0,
and a plan, which must be empty (exit 0 with --detailed-exitcode). Prints one line per trial
and a summary; exits 1 if any trial did not converge.

tests/e2e/test_kill.py runs a few trials of the same function in CI.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from reconciler.emulator import Faults
from reconciler.emulator.server import RunningEmulator, start_background

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart"
# `python -m reconciler`: the same CLI as the `itwin-access` script, and it honours PYTHONPATH,
# so the trials can run a snapshot of the tree (PYTHONPATH=/path/to/snapshot).
CLI = [sys.executable, "-m", "reconciler"]
OPERATIONS = 27  # in the quickstart's first plan
DEMO_ENV = {"ITWIN_CLIENT_ID": "itwin-access-demo", "ITWIN_CLIENT_SECRET": "demo-secret"}


@dataclass
class Trial:
    delay: float
    killed: bool  # False: the apply had already finished when the kill came
    journal_lines: int
    next_apply: int
    next_plan: int
    detail: str = ""

    @property
    def converged(self) -> bool:
        return self.next_apply == 0 and self.next_plan == 0


def cli_env(base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITWIN_")}
    env.update(DEMO_ENV)
    env["ITWIN_ACCESS_API"] = base_url
    env.pop("NO_COLOR", None)
    return env


def manifests(workdir: Path) -> Path:
    """examples/quickstart with its config pointing at a URL (ITWIN_ACCESS_API overrides it)."""
    target = workdir / "manifests"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(QUICKSTART, target)
    (target / "itwin-access.yaml").write_text("api: http://127.0.0.1:1\nbackend: itwins\n")
    return target


def _journal_lines(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def run_trial(
    emulator: RunningEmulator, workdir: Path, delay: float, after_lines: int | None = None
) -> Trial:
    """Kill the apply ``delay`` seconds after it starts, or, with ``after_lines``, ``delay``
    seconds after its journal holds that many outcomes (a kill in the middle of writing)."""
    httpx.post(emulator.base_url + "/__emulator/reset", timeout=30).raise_for_status()
    tree = manifests(workdir)
    env = cli_env(emulator.base_url)
    journal = workdir / "journal.jsonl"
    journal.unlink(missing_ok=True)
    cmd = [*CLI, "apply", str(tree), "--auto-approve", "--journal", str(journal)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if after_lines is not None:
        while proc.poll() is None and _journal_lines(journal) < after_lines:
            time.sleep(0.005)
    time.sleep(delay)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lines = len(journal.read_text().splitlines()) if journal.exists() else 0
    again = subprocess.run(
        [*CLI, "apply", str(tree), "--auto-approve"], env=env, capture_output=True, text=True
    )
    plan = subprocess.run(
        [*CLI, "plan", str(tree), "--detailed-exitcode"], env=env, capture_output=True, text=True
    )
    detail = ""
    if again.returncode != 0 or plan.returncode != 0:
        detail = (again.stderr + plan.stdout + plan.stderr)[-2000:]
    return Trial(delay, killed, lines, again.returncode, plan.returncode, detail)


def apply_duration(emulator: RunningEmulator, workdir: Path) -> float:
    """Wall time of one uninterrupted apply (the range the kill delays are drawn from)."""
    httpx.post(emulator.base_url + "/__emulator/reset", timeout=30).raise_for_status()
    tree = manifests(workdir)
    started = time.monotonic()
    subprocess.run(
        [*CLI, "apply", str(tree), "--auto-approve"],
        env=cli_env(emulator.base_url),
        capture_output=True,
        check=True,
    )
    return time.monotonic() - started


def start(db: Path, latency_ms: float) -> RunningEmulator:
    return start_background(str(db), admin=True, faults=Faults(latency_ms=latency_ms))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with start(workdir / "emulator.db", args.latency_ms) as emulator:
            duration = apply_duration(emulator, workdir)
            latency = args.latency_ms / 1000.0
            print(f"uninterrupted apply: {duration:.2f} s; killing at 0..{duration:.2f} s")
            results = []
            for number in range(1, args.trials + 1):
                # Odd trials: a random instant of the whole run (startup, reads, writes).
                # Even trials: a random instant of the writes (after k outcomes, + < 1 request).
                if number % 2:
                    trial = run_trial(emulator, workdir, rng.uniform(0.0, duration))
                else:
                    k = rng.randrange(0, OPERATIONS)
                    trial = run_trial(emulator, workdir, rng.uniform(0.0, latency), k)
                results.append(trial)
                state = "killed" if trial.killed else "finished first"
                print(
                    f"trial {number:2d}: kill at {trial.delay:.2f} s ({state}, "
                    f"{trial.journal_lines} journal lines) -> next apply {trial.next_apply}, "
                    f"plan {trial.next_plan}: {'ok' if trial.converged else 'NOT CONVERGED'}"
                )
                if trial.detail:
                    print(trial.detail)
    killed = sum(t.killed for t in results)
    writing = sum(t.killed and t.journal_lines > 0 for t in results)
    ok = sum(t.converged for t in results)
    print(
        f"{ok}/{len(results)} converged ({killed} killed mid-apply, {writing} of them after "
        "some operations were already applied)"
    )
    return 0 if ok == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
