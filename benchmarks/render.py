"""Benchmark: render the plan of 1,000 projects (issue 16): access impact, text, Markdown, JSON.

    .venv/bin/python benchmarks/render.py [--repeat 5]

The plan is the one the Markdown tests check as rendered HTML (``tests/render/large_plans.py``:
1,000 live projects, a shared role changed in 995, a member added to each, an external
administrator invited to every tenth, owners swapped in every fiftieth, 20 new and 5 deleted).
Prints the best and median wall time of each step over ``--repeat`` runs, and the sizes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "render"))

from large_plans import DOMAINS, thousand_projects  # the tests' plan, through the path above

from reconciler.impact import compute_impact
from reconciler.plan.build import GuardSettings, build_plan
from reconciler.render import render_json, render_markdown, render_text

T = TypeVar("T")


def timed(label: str, repeat: int, step: Callable[[], T]) -> T:
    times = []
    result = step()  # warm-up, not timed
    for _ in range(repeat):
        start = time.perf_counter()
        result = step()
        times.append(time.perf_counter() - start)
    print(f"  {label:<22} best {min(times) * 1000:8.1f} ms   median "
          f"{statistics.median(times) * 1000:8.1f} ms")  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    desired, live, context = thousand_projects()
    start = time.perf_counter()
    plan = build_plan(
        desired, live, context, GuardSettings(max_member_removals=10_000), ("project-deletions",)
    )
    built = time.perf_counter() - start
    print(f"plan: {len(plan.projects())} projects, {len(plan.operations)} operations "
          f"(build_plan {built:.2f} s, not counted below)")  # fmt: skip
    impact = timed("impact", args.repeat, lambda: compute_impact(plan.operations, live, DOMAINS))
    markdown = timed("markdown + impact", args.repeat, lambda: render_markdown(plan, impact=impact))
    text = timed("text + impact", args.repeat, lambda: render_text(plan, impact=impact))
    document = timed("json + impact", args.repeat, lambda: render_json(plan, impact=impact))
    for name, value in (("markdown", markdown), ("text", text), ("json", document)):
        print(f"  {name:<22} {len(value):>10,} characters")


if __name__ == "__main__":
    main()
