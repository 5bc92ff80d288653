"""Benchmark `plan`: P projects x M members, emulator latency 50 ms (issue 5).

    python benchmarks/plan.py [--sizes 20x10,1000x50] [--latency-ms 50]
        [--concurrency 8] [--rate-limits 5000,none]

For each size: an emulator on 127.0.0.1 seeded with P iTwins of M members each (alice owns
them), manifests that match (so the plan is empty and reading is all the work), then
`itwin-access plan DIR` as a subprocess. Reports wall time, the API requests the emulator
answered (its admin counters; the token request apart), the plan's peak RSS, and next to them
the lower bound: the fewest requests that read the sections the manifests manage (roles,
members, owners; not groups: ``common.read_lower_bound``), and their time at the configured
concurrency and latency, and at each client-side rate limit (``none``: unpaced, the default
against an emulator). Targets (issue 17): requests = lower bound; wall <= 1.1x the bound.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the sibling module, through the path set above
    MANAGED,
    config,
    rate_limits,
    read_lower_bound,
    run_cli,
    seed,
    start,
    time_lower_bound,
    write_manifests,
)


def bench(
    projects: int, members: int, rate: int | None, args: argparse.Namespace
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        live = seed(projects, members)
        tree = write_manifests(Path(tmp) / "manifests", live)
        config(tree, args.concurrency, rate)
        with start(Path(tmp) / "bench.db", live, args.latency_ms) as emulator:
            measured = run_cli(emulator, "plan", str(tree), "--detailed-exitcode")
    if measured.code != 0:
        raise SystemExit(f"plan exited {measured.code}:\n{measured.stdout}\n{measured.stderr}")
    bound = read_lower_bound(projects, members)
    lists = 1 + (projects + 999) // 1000  # permission list, then the iTwins pages
    by_latency, by_rate = time_lower_bound(
        lists, bound - lists, args.concurrency, args.latency_ms / 1000, rate
    )
    floor = max(by_latency, by_rate)
    print(f"P={projects} M={members} latency={args.latency_ms:g} ms "
          f"concurrency={args.concurrency} "
          f"rateLimit={f'{rate}/min' if rate else 'unpaced'}")  # fmt: skip
    print(f"  wall time     {measured.seconds:8.2f} s   lower bound {floor:8.2f} s "
          f"(latency {by_latency:.2f} s, rate limit {by_rate:.2f} s) "
          f"-> {measured.seconds / floor:.2f}x")  # fmt: skip
    print(f"  requests      {measured.requests:8d}     lower bound {bound:8d} "
          f"(managed: {', '.join(MANAGED)}) -> {measured.requests / bound:.3f}x")  # fmt: skip
    met = {"requests = bound": measured.requests == bound,
           "wall <= 1.1x": measured.seconds <= 1.1 * floor}  # fmt: skip
    print(
        "  targets       " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in met.items())
    )
    print(f"  peak memory   {measured.peak_mib:8.1f} MiB")
    print(f"  CPU           {measured.client_cpu:8.2f} s in the CLI, "
          f"{measured.server_cpu:.2f} s in the emulator")  # fmt: skip
    extra = {k: v for k, v in sorted(measured.by_route.items()) if v}
    print("  by route      " + ", ".join(f"{k}: {v}" for k, v in extra.items()))
    return {"seconds": measured.seconds, "requests": measured.requests, "bound": bound}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="20x10,1000x50", help="PxM,PxM...")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate-limits", default="5000,none", help="per minute, or none")
    args = parser.parse_args(argv)
    for size in args.sizes.split(","):
        p, m = (int(x) for x in size.lower().split("x"))
        for rate in rate_limits(args.rate_limits):
            bench(p, m, rate, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
