"""Benchmark `apply`: 5,000 membership changes over 200 projects, emulator latency 50 ms (issue 6).

    python benchmarks/apply.py [--projects 200] [--latency-ms 50]
        [--concurrency 8] [--rate-limits 5000,none]

Live: P projects of 25 members (alice owns them). Manifests change 25 memberships per project:
10 members added, 10 members' roles changed, 5 members removed. `itwin-access apply DIR
--auto-approve --allow member-removals` runs as a subprocess; then a plan must be empty.

The lower bound of requests is the read lower bound of the managed sections (the plan apply
makes first) plus the fewest writes the API allows: one Access Control job per project
(contract §4: assignRoles, unassignRoles, removeMembers, up to 100 entries per action group;
25 changes fit in one). Without jobs it would be 1 POST + 10 PATCH + 5 DELETE per project.
Its time is given at the configured concurrency and latency, and at each rate limit (``none``:
unpaced). Targets (issue 17): requests <= 1.05x the bound; wall <= 1.3x.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the sibling module, through the path set above
    config,
    rate_limits,
    read_lower_bound,
    run_cli,
    seed,
    start,
    time_lower_bound,
    users,
    write_manifests,
)

MEMBERS = 25
ADDS, UPDATES, REMOVALS = 10, 10, 5


def changed(pool: list[str]) -> Any:
    def edit(p: int, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        have = {m["email"] for m in members}
        kept = members[: MEMBERS - REMOVALS]
        out = []
        for i, m in enumerate(kept):
            roles = m["roles"]
            if i < UPDATES:
                roles = ["Contributor"] if roles == ["Viewer"] else ["Viewer"]
            out.append({"email": m["email"], "roles": roles})
        fresh = [e for e in pool[p * 3 :] + pool if e not in have]
        out += [{"email": e, "roles": ["Viewer"]} for e in dict.fromkeys(fresh[:ADDS])]
        return out

    return edit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=200)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate-limits", default="5000,none", help="per minute, or none")
    args = parser.parse_args(argv)
    for rate in rate_limits(args.rate_limits):
        bench(rate, args)
    return 0


def bench(rate: int | None, args: argparse.Namespace) -> None:
    projects = args.projects
    pool_size = 200
    with tempfile.TemporaryDirectory() as tmp:
        live = seed(projects, MEMBERS, pool=pool_size)
        tree = write_manifests(Path(tmp) / "manifests", live, changed(users(pool_size)))
        config(tree, args.concurrency, rate)
        with start(Path(tmp) / "bench.db", live, args.latency_ms) as emulator:
            applied = run_cli(
                emulator, "apply", str(tree), "--auto-approve", "--allow", "member-removals",
                "--no-progress",
            )  # fmt: skip
            after = run_cli(emulator, "plan", str(tree), "--detailed-exitcode")
    if applied.code != 0 or after.code != 0:
        raise SystemExit(
            f"apply exited {applied.code}, plan after exited {after.code}:\n"
            f"{applied.stderr[-3000:]}\n{after.stdout[-3000:]}\n{after.stderr[-3000:]}"
        )
    changes = projects * (ADDS + UPDATES + REMOVALS)
    reads = read_lower_bound(projects, MEMBERS)
    per_group = max(ADDS + UPDATES, UPDATES, REMOVALS)  # assignRoles, unassignRoles, remove
    writes = projects * math.ceil(per_group / 100)  # jobs: one per 100 entries per group
    lists = 1 + (projects + 999) // 1000
    read_lat, read_rate = time_lower_bound(
        lists, reads - lists, args.concurrency, args.latency_ms / 1000, rate
    )
    write_lat, write_rate = time_lower_bound(
        0, writes, args.concurrency, args.latency_ms / 1000, rate
    )
    floor = max(read_lat + write_lat, read_rate + write_rate)
    written = sum(c for k, c in applied.by_route.items() if not k.startswith("GET "))
    written -= applied.by_route.get("POST /connect/token", 0)
    print(f"{changes} membership changes over {projects} projects, latency "
          f"{args.latency_ms:g} ms, concurrency {args.concurrency}, "
          f"rateLimit {f'{rate}/min' if rate else 'unpaced'}")  # fmt: skip
    print(f"  wall time   {applied.seconds:8.2f} s   lower bound {floor:8.2f} s "
          f"(latency {read_lat + write_lat:.2f} s, rate limit {read_rate + write_rate:.2f} s) "
          f"-> {applied.seconds / floor:.2f}x")  # fmt: skip
    print(f"  requests    {applied.requests:8d}     lower bound {reads + writes:8d} "
          f"(reads {reads}, writes {writes}: jobs) -> "
          f"{applied.requests / (reads + writes):.3f}x; writes made {written}")  # fmt: skip
    met = {"requests <= 1.05x": applied.requests <= 1.05 * (reads + writes),
           "wall <= 1.3x": applied.seconds <= 1.3 * floor}  # fmt: skip
    print("  targets     " + ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in met.items()))
    print(f"  peak memory {applied.peak_mib:8.1f} MiB; plan afterwards: empty")
    print(f"  CPU         {applied.client_cpu:8.2f} s in the CLI, "
          f"{applied.server_cpu:.2f} s in the emulator")  # fmt: skip
    print("  by route    " + ", ".join(f"{k}: {v}" for k, v in sorted(applied.by_route.items())))


if __name__ == "__main__":
    raise SystemExit(main())
