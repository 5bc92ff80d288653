"""Two applies racing through uvicorn (issue 12 item 3): with one lock file they never
interleave, so both succeed, the second finds nothing left to do, and the projects converge
with no twin role or group."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from reconciler.emulator.server import RunningEmulator

pytestmark = pytest.mark.e2e

ACCEPT_V1 = "application/vnd.bentley.itwin-platform.v1+json"
ACCEPT_V2 = "application/vnd.bentley.itwin-platform.v2+json"
EXE = str(Path(sys.executable).with_name("itwin-access"))
DEMO_ENV = {"ITWIN_CLIENT_ID": "itwin-access-demo", "ITWIN_CLIENT_SECRET": "demo-secret"}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITWIN_") and k != "NO_COLOR"}
    env.update(extra)
    return env


def _twins(base_url: str) -> list[str]:
    """Role and group names held twice in any project, read as alice (an org admin)."""
    headers = {"Authorization": "Bearer alice-token", "Accept": ACCEPT_V2}
    twins: list[str] = []
    with httpx.Client(base_url=base_url, headers=headers) as http:
        itwins = http.get(
            "/itwins",
            headers={
                "Accept": "application/vnd.bentley.itwin-platform.v1+json",
                "X-iTwin-Query-Scope": "all",
            },
        ).json()["iTwins"]
        for itwin in itwins:
            base = f"/accesscontrol/itwins/{itwin['id']}"
            roles = http.get(f"{base}/roles").json().get("roles", [])
            groups = http.get(f"{base}/groups").json().get("groups", [])
            names = [f"role {r['displayName']}" for r in roles]
            names += [f"group {g['name']}" for g in groups]
            twins += [f"{itwin['number']}: {n}" for n, k in Counter(names).items() if k > 1]
    return twins


def test_two_applies_racing_with_one_lock_converge(
    served: RunningEmulator, quickstart: Path, tmp_path: Path
) -> None:
    env = clean_env(ITWIN_ACCESS_API=served.base_url, **DEMO_ENV)
    lock = tmp_path / "apply.lock"
    args = [EXE, "apply", str(quickstart), "--auto-approve", "--lock", str(lock)]
    runs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=600), *p.communicate()) for p in runs]
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    done = sorted(err.strip().splitlines()[-1] for _, _, err in results)
    assert done[0].startswith("Apply complete:"), done
    assert done[1] == "Nothing to apply.", done
    assert _twins(served.base_url) == []
    again = subprocess.run(
        [EXE, "plan", str(quickstart), "--detailed-exitcode", "--format", "json"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["operations"] == []


def test_the_same_saved_plan_applied_twice_at_once_is_applied_once(
    served: RunningEmulator, quickstart: Path, tmp_path: Path
) -> None:
    env = clean_env(ITWIN_ACCESS_API=served.base_url, **DEMO_ENV)
    saved = tmp_path / "plan.json"
    made = subprocess.run(
        [EXE, "plan", str(quickstart), "--out", str(saved)], env=env, capture_output=True,
        text=True, timeout=600,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    lock = tmp_path / "apply.lock"
    args = [EXE, "apply", "--plan", str(saved), "--config", str(quickstart / "itwin-access.yaml"),
            "--auto-approve", "--lock", str(lock)]  # fmt: skip
    runs = [
        subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = sorted((p.wait(timeout=600), *p.communicate()) for p in runs)
    assert [code for code, _, _ in results] == [0, 1], [err for _, _, err in results]
    assert "moved" in results[1][2] or "changed" in results[1][2], results[1][2]
    assert _twins(served.base_url) == []
