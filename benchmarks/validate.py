"""Benchmark: validate a generated tree of 1,000 projects x 100 members (target: under 2 s,
issue 17).

    python benchmarks/validate.py [--projects 1000] [--members 100] [--profile]
    python benchmarks/validate.py --shapes   # the shapes that were quadratic (issue 12)

Writes one file per project (plus one role-set file) into a temp dir, then times
``load_manifests`` in-process and the real CLI (``itwin-access validate DIR``) as a subprocess.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reconciler.manifest import load_manifests

ROLE_SETS = """\
# yaml-language-server: $schema=../schemas/manifest.schema.json
roleSets:
  standard:
    - displayName: Viewer
      description: Read-only access
      permissions: [itwins_read, imodels_read, imodels_webview]
    - displayName: Contributor
      description: Edits models
      permissions: [itwins_read, imodels_read, imodels_write, storage_write]
    - displayName: Admin
      description: Manages members
      permissions: [itwins_read, administration_invite_member, administration_remove_member]
"""


def project_yaml(index: int, members: int) -> str:
    lines = [
        "projects:",
        f"  - number: BENCH-{index:05d}",
        f"    displayName: Benchmark project {index}",
        "    class: Endeavor",
        "    subClass: Project",
        "    status: Active",
        "    roles:",
        "      - use: standard",
        "    groups:",
        "      - name: Designers",
        "        members: [d1@contoso.com, d2@contoso.com]",
        "    owners: [alice@contoso.com]",
        "    members:",
        "      - group: Designers",
        "        roles: [Contributor]",
    ]
    for m in range(members - 1):
        role = ("Viewer", "Contributor", "Admin")[m % 3]
        lines.append(f"      - email: user{m:04d}.p{index}@contoso.com")
        lines.append(f"        roles: [{role}]")
    return "\n".join(lines) + "\n"


def generate(root: Path, projects: int, members: int) -> None:
    (root / "role-sets.yaml").write_text(ROLE_SETS)
    for index in range(projects):
        folder = root / f"program-{index // 100:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"p{index:05d}.yaml").write_text(project_yaml(index, members))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--shapes", action="store_true", help="time the hostile shapes of issue 12 instead"
    )
    args = parser.parse_args()
    if args.shapes:
        return run_shapes()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, args.projects, args.members)
        start = time.perf_counter()
        cpu_start = time.process_time()
        if args.profile:
            profiler = cProfile.Profile()
            result = profiler.runcall(load_manifests, [root])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        else:
            result = load_manifests([root])
        in_process = time.perf_counter() - start
        in_process_cpu = time.process_time() - cpu_start
        assert not result.errors, result.errors[:3]
        members = sum(len(p.members) + len(p.group_members) for p in result.state.projects)
        exe = Path(sys.executable).with_name("itwin-access")
        start = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run([str(exe), "validate", str(root)], capture_output=True, text=True)
        cli = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(
            f"{len(result.state.projects)} projects, {members} members, {len(result.files)} files"
        )
        # CPU time is printed beside wall time: the machine is shared, and wall time under load
        # says more about the neighbours than about this code.
        print(f"in-process load_manifests: {in_process:.2f} s wall, {in_process_cpu:.2f} s CPU")
        print(
            f"CLI itwin-access validate: {cli:.2f} s wall, {cli_cpu:.2f} s CPU "
            f"(exit {proc.returncode})"
        )
        print(proc.stdout.strip() or proc.stderr.strip()[:500])
    return 0


# Shapes that once took quadratic time (issue 12): validate must stay linear in each.
def many_role_sets(n: int) -> str:
    return "roleSets:\n" + "".join(f"  rs{i}:\n    - displayName: R{i}\n" for i in range(n))


def many_unknown_keys(n: int) -> str:
    return "projects:\n  - number: U-1\n" + "".join(f"    bogus{i}: 1\n" for i in range(n))


def many_unknown_roles(n: int) -> str:
    text = "projects:\n  - number: K-1\n    roles:\n"
    text += "".join(f"      - displayName: Role{i:04d}\n" for i in range(n))
    text += "    members:\n"
    return text + "".join(
        f"      - email: u{i}@x.com\n        roles: [Nope{i:04d}x]\n" for i in range(n)
    )


def run_shapes() -> int:
    shapes = (
        ("role sets", many_role_sets, (10_000, 40_000)),
        ("unknown keys", many_unknown_keys, (5_000, 20_000)),
        ("members naming unknown roles (against as many roles)", many_unknown_roles,
         (250, 1_000)),
    )  # fmt: skip
    for name, make, sizes in shapes:
        for n in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "shape.yaml"
                path.write_text(make(n))
                start, cpu = time.perf_counter(), time.process_time()
                result = load_manifests([path])
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                size = path.stat().st_size / 1e6
                print(
                    f"{n:>6} {name} ({size:.1f} MB): {wall:.2f} s wall, {cpu:.2f} s CPU, "
                    f"{len(result.problems)} problems"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
