"""Export round trip at scale: a seeded emulator served on 127.0.0.1, the `itwin-access export`
executable against it (wall time, files written), then `itwin-access plan` of the exported
manifests against the same live state (must be empty).

    python benchmarks/export.py [PROJECTS] [--backend itwins|projects]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.emulator.seed import demo_seed
from reconciler.emulator.server import start_background

EXE = str(Path(sys.executable).with_name("itwin-access"))
USERS = [f"{n}@contoso.com" for n in ("bob", "carol", "dana", "eli", "frank")]
ROLES = [
    {"displayName": "Viewer", "description": "Read", "permissions": ["imodels_read"]},
    {"displayName": "Editor", "description": "Edit", "permissions": ["imodels_write"]},
]


def seed(count: int, backend: str) -> dict[str, Any]:
    data = demo_seed()
    entries = []
    for i in range(count):
        roles = ROLES + ([{"displayName": f"Lead {i}", "description": "x"}] if i % 5 == 0 else [])
        members = [{"email": u, "roles": ["Viewer"] if j % 2 else ["Editor"]}
                   for j, u in enumerate(USERS[: 1 + i % 5])]  # fmt: skip
        if backend == "itwins":
            entries.append({"class": "Endeavor", "subClass": "Project", "number": f"B-{i:05d}",
                            "displayName": f"Bench {i}", "roles": roles, "members": members,
                            "owners": ["alice@contoso.com"]})  # fmt: skip
        else:
            for m in members:
                m["roles"] = ["Team Member", *m["roles"]]
            entries.append({"projectNumber": f"B-{i:05d}", "displayName": f"Bench {i}",
                            "roles": roles, "members": members})  # fmt: skip
    data["itwins" if backend == "itwins" else "projects"] = entries
    return data


def run(*args: str | Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run([EXE, *map(str, args)], env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("projects", type=int, nargs="?", default=200)
    parser.add_argument("--backend", choices=("itwins", "projects"), default="itwins")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with start_background(str(root / "e.db"), seed=seed(args.projects, args.backend)) as emu:
            config = root / "itwin-access.yaml"
            config.write_text(f"api: {emu.base_url}\nbackend: {args.backend}\n")
            env = {k: v for k, v in os.environ.items() if not k.startswith("ITWIN_")}
            env["ITWIN_ACCESS_TOKEN"] = "alice-token"
            out = root / "out"
            took, done = run("export", "--all", "--out", out, "--config", config, env=env)
            assert done.returncode == 0, done.stderr
            files = sum(1 for _ in out.rglob("*.yaml"))
            print(f"export {args.projects} projects ({args.backend}): {took:.2f} s, {files} files")
            took, done = run("plan", out, "--config", config, "--detailed-exitcode", env=env)
            print(f"plan of the export: {took:.2f} s, exit {done.returncode} (0 = empty plan)")
            return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
