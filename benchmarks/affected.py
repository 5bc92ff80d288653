"""Benchmark an affected-only plan: one changed file of P projects (issue 17 item 3).

    python benchmarks/affected.py [--projects 1000] [--members 50] [--latency-ms 50]

The manifests of P projects (M members each, matching the seeded emulator) are committed in a
fresh git repository; one project's file is then edited (a member changes role) and
`itwin-access plan DIR --changed-since HEAD` runs as a subprocess. Reports wall time and the
requests it made, against the target: at most 10 requests beyond finding the project, and
under 3 s; and the same plan without --changed-since for comparison.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the sibling module, through the path set above
    config,
    number,
    run_cli,
    seed,
    start,
    write_manifests,
)


def git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=bench@example.com", "-c", "user.name=bench", *args],
        cwd=cwd, check=True, capture_output=True,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--full", action="store_true", help="also time the whole plan")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        live = seed(args.projects, args.members)
        tree = write_manifests(Path(tmp) / "manifests", live)
        config(tree, args.concurrency, None)
        git(tree, "init", "-q", "-b", "main")
        git(tree, "add", ".")
        git(tree, "commit", "-q", "-m", "manifests")
        changed = tree / f"{number(args.projects // 2)}.yaml"
        text = changed.read_text()
        changed.write_text(text.replace("roles: [Viewer]", "roles: [Contributor]", 1))
        with start(Path(tmp) / "bench.db", live, args.latency_ms) as emulator:
            affected = run_cli(emulator, "plan", str(tree), "--changed-since", "HEAD")
            whole = run_cli(emulator, "plan", str(tree)) if args.full else None
    if affected.code != 0:
        raise SystemExit(f"plan exited {affected.code}:\n{affected.stderr[-3000:]}")
    # permission catalogue, the exact-number lookup, the five lists of the managed sections
    bound = 1 + 1 + 5
    print(f"1 changed file of {args.projects} projects x {args.members} members, "
          f"latency {args.latency_ms:g} ms, unpaced")  # fmt: skip
    print(f"  wall time   {affected.seconds:8.2f} s   target < 3 s")
    print(f"  requests    {affected.requests:8d}     fewest {bound}; target <= 10 beyond finding "
          f"the project")  # fmt: skip
    met = {"requests <= 10 beyond the lookup": affected.requests - 2 <= 10,
           "wall < 3 s": affected.seconds < 3.0}  # fmt: skip
    print("  targets     " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in met.items()))
    print("  " + affected.stderr.strip().splitlines()[0][:200])
    print("  by route    " + ", ".join(f"{k}: {v}" for k, v in sorted(affected.by_route.items())))
    if whole is not None:
        print(f"  whole plan  {whole.seconds:8.2f} s, {whole.requests} requests")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
