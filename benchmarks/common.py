"""Shared by benchmarks/plan.py and benchmarks/apply.py: a seeded emulator on 127.0.0.1 with
latency, manifests that match it, the CLI run as a subprocess with its peak memory, and the
emulator's request counters."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from reconciler.emulator import Faults
from reconciler.emulator.server import RunningEmulator, start_background

EXE = str(Path(sys.executable).with_name("itwin-access"))
ROLE_NAMES = ("Viewer", "Contributor")
ROLE_SETS = """\
roleSets:
  standard:
    - displayName: Viewer
      description: Read-only access
      permissions: [itwins_read, imodels_read]
    - displayName: Contributor
      description: Edits models
      permissions: [itwins_read, imodels_read, imodels_write]
"""


SEED_ROLES = [
    {
        "displayName": "Viewer",
        "description": "Read-only access",
        "permissions": ["itwins_read", "imodels_read"],
    },
    {
        "displayName": "Contributor",
        "description": "Edits models",
        "permissions": ["itwins_read", "imodels_read", "imodels_write"],
    },
]


def users(count: int) -> list[str]:
    return [f"user{i:05d}@contoso.com" for i in range(count)]


def seed(projects: int, members: int, *, pool: int | None = None) -> dict[str, Any]:
    """Contoso with ``pool`` users, alice as org admin, ``projects`` iTwins of ``members``
    members each (alice owns them all)."""
    people = users(pool or max(members * 2, 100))
    itwins = []
    for p in range(projects):
        picked = [people[(p * 7 + i) % len(people)] for i in range(members)]
        itwins.append(
            {
                "class": "Endeavor",
                "subClass": "Project",
                "number": number(p),
                "displayName": f"Project {p}",
                "createdBy": "alice@contoso.com",
                "roles": SEED_ROLES,
                "owners": ["alice@contoso.com"],
                "members": [
                    {"email": email, "roles": [ROLE_NAMES[i % 2]]} for i, email in enumerate(picked)
                ],
            }
        )
    return {
        "organizations": [
            {
                "name": "Contoso",
                "users": [{"email": "alice@contoso.com", "orgAdmin": True}]
                + [{"email": e} for e in people],
            }
        ],
        "tokens": {"alice-token": "alice@contoso.com"},
        "itwins": itwins,
    }


def number(p: int) -> str:
    return f"BENCH-{p:05d}"


def write_manifests(directory: Path, live: dict[str, Any], members_of: Any = None) -> Path:
    """One manifest file per project; ``members_of(p, members) -> members`` edits them."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "role-sets.yaml").write_text(ROLE_SETS)
    (directory / "itwin-access.yaml").write_text(
        "api: http://127.0.0.1:1\nidentity: alice@contoso.com\n"
    )
    for p, itwin in enumerate(live["itwins"]):
        members = itwin["members"] if members_of is None else members_of(p, itwin["members"])
        lines = [
            "projects:",
            f"  - number: {itwin['number']}",
            "    manage: {owners: additive}",
            "    roles:",
            "      - use: standard",
            "    owners: [alice@contoso.com]",
            "    members:",
        ]
        for m in members:
            lines.append(f"      - {{email: {m['email']}, roles: [{', '.join(m['roles'])}]}}")
        (directory / f"{itwin['number']}.yaml").write_text("\n".join(lines) + "\n")
    return directory


def start(db: Path, live: dict[str, Any], latency_ms: float) -> RunningEmulator:
    return start_background(str(db), seed=live, admin=True, faults=Faults(latency_ms=latency_ms))


def config(directory: Path, concurrency: int, rate_limit: int | None) -> None:
    """The config of a run; ``rate_limit`` None: the default against an emulator, no pace."""
    budget = f"rateLimit: {rate_limit}\n" if rate_limit is not None else ""
    (directory / "itwin-access.yaml").write_text(
        "api: http://127.0.0.1:1\nidentity: alice@contoso.com\n"
        f"concurrency: {concurrency}\n{budget}"
    )


def rate_limits(text: str) -> list[int | None]:
    """``--rate-limits 5000,none``: requests per minute, ``none`` for unpaced."""
    return [None if x.strip().lower() in ("none", "unpaced") else int(x) for x in text.split(",")]


@dataclass
class Measured:
    code: int
    seconds: float
    peak_mib: float
    requests: int  # API requests the emulator answered, the token request excluded
    by_route: dict[str, int]
    stdout: str
    stderr: str
    client_cpu: float = 0.0  # CPU seconds of the CLI process
    server_cpu: float = 0.0  # CPU seconds of the emulator (this process) meanwhile


def counters(emulator: RunningEmulator) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(emulator.base_url + "/__emulator/counters", timeout=60).json()
    return data


def run_cli(emulator: RunningEmulator, *args: str) -> Measured:
    """Run the CLI once as alice against ``emulator``; time, peak RSS, requests it made."""
    httpx.delete(emulator.base_url + "/__emulator/counters", timeout=60)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITWIN_")}
    env.update({"ITWIN_ACCESS_API": emulator.base_url, "ITWIN_ACCESS_TOKEN": "alice-token"})
    started = time.monotonic()
    server_cpu = time.process_time()  # this process hosts the emulator
    proc = subprocess.Popen(
        [EXE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    chunks: dict[str, str] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=("out", proc.stdout)),
        threading.Thread(target=drain, args=("err", proc.stderr)),
    ]
    for reader in readers:
        reader.start()
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would be the max over all runs).
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    server_cpu = time.process_time() - server_cpu
    for reader in readers:
        reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = chunks.get("out", ""), chunks.get("err", "")
    peak_kib = usage.ru_maxrss
    routes = counters(emulator)["routes"]
    by_route = {name: int(r["count"]) for name, r in routes.items()}
    by_route = {k: v for k, v in by_route.items() if "/__emulator/" not in k}
    requests = sum(c for name, c in by_route.items() if name != "POST /connect/token")
    client_cpu = usage.ru_utime + usage.ru_stime
    return Measured(
        proc.returncode, seconds, peak_kib / 1024, requests, by_route, out, err,
        client_cpu, server_cpu,
    )  # fmt: skip


# What the benchmark manifests manage (``write_manifests``): roles, members, owners; no groups.
MANAGED = ("roles", "members", "owners")


def per_project_lists(managed: tuple[str, ...] = MANAGED) -> int:
    """The fewest per-project lists that show the ``managed`` sections, derived from the API
    (contract §4), not from our client: owners (a section, and the one list that tells an
    owner, who holds every right, from a member: the rights read); roles (for members too: only
    the roles list tells platform Default roles, C6, from the others); user members and group
    members; groups; invitations (pending invitations count as members and as owners). A
    section no manifest manages is not read."""
    lists = 1  # owners
    lists += "roles" in managed or "members" in managed
    lists += 2 * ("members" in managed)
    lists += "groups" in managed
    lists += "members" in managed or "owners" in managed
    return lists


def read_lower_bound(
    projects: int, members: int, page: int = 1000, managed: tuple[str, ...] = MANAGED
) -> int:
    """Fewest requests that read P projects' managed access: the permission list, the iTwins
    list in pages of 1,000, and per project the lists of its managed sections
    (``per_project_lists``), the members list in pages of ``page``. The caller owns every
    project and none is created, so neither its permissions nor the org-admin probe are read."""
    per_project = per_project_lists(managed)
    if "members" in managed:
        per_project += math.ceil(max(members, 1) / page) - 1
    return 1 + math.ceil(projects / 1000) + projects * per_project


def time_lower_bound(
    sequential: int, parallel: int, concurrency: int, latency_s: float, rate_per_min: int | None
) -> tuple[float, float]:
    """(latency-bound seconds, rate-limit-bound seconds) for ``sequential`` requests one after
    another then ``parallel`` requests ``concurrency`` at a time (``rate_per_min`` None: no
    rate bound). The rate bound counts a budget of one second's worth as a burst, as the
    client's token bucket does."""
    by_latency = (sequential + math.ceil(parallel / concurrency)) * latency_s
    if rate_per_min is None:
        return by_latency, 0.0
    per_s = rate_per_min / 60.0
    by_rate = max(sequential + parallel - math.ceil(per_s), 0) / per_s
    return by_latency, by_rate
