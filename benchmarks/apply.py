"""Benchmark `apply`: 5,000 membership changes over 200 projects, emulator latency 50 ms (issue 6).

    python benchmarks/apply.py [--projects 200] [--latency-ms 50]
        [--concurrency 8] [--rate-limit 4500]

Live: P projects of 25 members (alice owns them). Manifests change 25 memberships per project:
10 members added (one role each: one batched request per project, 10 role assignments being
under the API's 50), 10 members' roles changed (one PATCH each, the API has no bulk update),
5 members removed (one DELETE each). `itwin-access apply DIR --auto-approve --allow
member-removals` runs as a subprocess; then a plan must be empty.

The lower bound of requests is the read lower bound (the plan apply makes first) plus the
fewest writes the API allows: per project 1 POST + 10 PATCH + 5 DELETE. Its time is given at
the configured concurrency and latency, and at the client-side rate limit.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # the sibling module, through the path set above
    config,
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
    parser.add_argument("--rate-limit", type=int, default=4500)
    args = parser.parse_args(argv)
    projects = args.projects
    pool_size = 200
    with tempfile.TemporaryDirectory() as tmp:
        live = seed(projects, MEMBERS, pool=pool_size)
        tree = write_manifests(Path(tmp) / "manifests", live, changed(users(pool_size)))
        config(tree, args.concurrency, args.rate_limit)
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
    writes = projects * (1 + UPDATES + REMOVALS)
    lists = 1 + (projects + 999) // 1000
    read_lat, read_rate = time_lower_bound(
        lists, reads - lists, args.concurrency, args.latency_ms / 1000, args.rate_limit
    )
    write_lat, write_rate = time_lower_bound(
        0, writes, args.concurrency, args.latency_ms / 1000, args.rate_limit
    )
    floor = max(read_lat + write_lat, read_rate + write_rate)
    written = sum(c for k, c in applied.by_route.items() if not k.startswith("GET "))
    written -= applied.by_route.get("POST /connect/token", 0)
    print(f"{changes} membership changes over {projects} projects, latency "
          f"{args.latency_ms:g} ms, concurrency {args.concurrency}, "
          f"rateLimit {args.rate_limit}/min")  # fmt: skip
    print(f"  wall time   {applied.seconds:8.2f} s   lower bound {floor:8.2f} s "
          f"(latency {read_lat + write_lat:.2f} s, rate limit {read_rate + write_rate:.2f} s) "
          f"-> {applied.seconds / floor:.2f}x")  # fmt: skip
    print(f"  requests    {applied.requests:8d}     lower bound {reads + writes:8d} "
          f"(reads {reads}, writes {writes}); writes made {written}")  # fmt: skip
    print(f"  peak memory {applied.peak_mib:8.1f} MiB; plan afterwards: empty")
    print(f"  CPU         {applied.client_cpu:8.2f} s in the CLI, "
          f"{applied.server_cpu:.2f} s in the emulator")  # fmt: skip
    print("  by route    " + ", ".join(f"{k}: {v}" for k, v in sorted(applied.by_route.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
