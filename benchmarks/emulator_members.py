"""Benchmark: member-list pages served by the emulator (issue 3, "Performance").

Loads N iTwins x M user members into a fresh emulator database (straight through the store: one
transaction, ``executemany``), serves it with uvicorn on 127.0.0.1 in a subprocess (one worker,
as ``itwin-access emulator serve`` runs it), then drives
``GET /accesscontrol/itwins/{id}/members/users?$top=100`` from several client processes, each on
one keep-alive connection, for a fixed number of requests. Reports requests/s and p50/p99
latency for the large size (default 1,000 x 100) and a small one (10 x 10).

    python benchmarks/emulator_members.py                      # both sizes, defaults
    python benchmarks/emulator_members.py --requests 20000 --clients 4 --json

Clients use ``http.client`` rather than httpx: on a 2-core machine the clients share the CPU
with the server, and a lighter client measures more of the server.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from reconciler.emulator.app import create_app
from reconciler.emulator.identity import user_id_for
from reconciler.emulator.records import insert_itwin, new_id

TOKEN = "bench-admin-token"
ACCEPT_V2 = "application/vnd.bentley.itwin-platform.v2+json"


def build(db_path: Path, itwins: int, members: int) -> list[str]:
    """A fresh database with ``itwins`` iTwins of ``members`` user members each; their ids."""
    users = [
        {"email": f"user{i:04d}@contoso.com", "givenName": f"User{i}", "surname": "Bench"}
        for i in range(members)
    ]
    seed = {
        "organizations": [
            {
                "name": "Contoso",
                "users": [
                    {"email": "admin@contoso.com", "givenName": "Ada", "surname": "Admin",
                     "orgAdmin": True},
                    *users,
                ],
            }
        ],
        "tokens": {TOKEN: "admin@contoso.com"},
    }  # fmt: skip
    app = create_app(db_path, seed=seed)
    store = app.state.emu.store
    user_ids = [user_id_for(u["email"]) for u in users]
    now = time.time()
    ids: list[str] = []
    with store.write() as db:
        roles: list[tuple[str, str, str, str, str]] = []
        rows: list[tuple[str, str, str]] = []
        for n in range(itwins):
            fields = {"class": "Endeavor", "subClass": "Project", "number": f"B-{n:05d}",
                      "displayName": f"Bench {n}"}  # fmt: skip
            itwin_id = insert_itwin(db, fields, org="Contoso", created_by=None, now=now)
            ids.append(itwin_id)
            role_id = new_id()
            roles.append((role_id, itwin_id, "Reader", "Reads", '["imodels_read"]'))
            role_json = json.dumps([role_id])
            rows.extend((itwin_id, uid, role_json) for uid in user_ids)
        db.executemany(
            "INSERT INTO roles(id, itwin_id, display_name, description, permissions) "
            "VALUES (?,?,?,?,?)",
            roles,
        )
        db.executemany("INSERT INTO members(itwin_id, user_id, role_ids) VALUES (?,?,?)", rows)
    store.close()
    return ids


def serve(db_path: str, port: int) -> None:
    """Subprocess entry: serve the database on 127.0.0.1:port until killed."""
    import uvicorn

    from reconciler.emulator.server import bind, uvicorn_config

    app = create_app(db_path)
    sock = bind("127.0.0.1", port)
    uvicorn.Server(uvicorn_config(app)).run(sockets=[sock])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the emulator exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/accesscontrol/itwins/permissions",
                         headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the emulator did not start")


def _client(args: tuple[int, list[str], int, int, int]) -> tuple[list[float], int, int]:
    """One client process: ``count`` requests on one keep-alive connection.
    Returns per-request latencies (s), the number of non-200 answers and members seen."""
    port, ids, count, top, seed = args
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": ACCEPT_V2}
    latencies: list[float] = []
    errors = 0
    members = 0
    for _ in range(count):
        path = f"/accesscontrol/itwins/{rng.choice(ids)}/members/users?$top={top}"
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            errors += 1
        elif len(latencies) == 1:
            members = len(json.loads(body)["members"])
    conn.close()
    return latencies, errors, members


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to report server cost per request
    independently of how busy the shared machine is."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(itwins: int, members: int, requests: int, clients: int, top: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="emu-bench-") as tmp:
        db = Path(tmp) / "emulator.db"
        t0 = time.perf_counter()
        ids = build(db, itwins, members)
        load_s = time.perf_counter() - t0
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(db), str(port)],
            stdout=subprocess.DEVNULL,
        )
        try:
            _wait_ready(port, proc)
            per = requests // clients
            # Warm-up: the token cache, SQLite's page cache, the interpreter's.
            _client((port, ids, min(200, per), top, -1))
            work = [(port, ids, per, top, seed) for seed in range(clients)]
            with mp.get_context("spawn").Pool(clients) as pool:
                cpu0 = _cpu_seconds(proc.pid)
                start = time.perf_counter()
                results = pool.map(_client, work)
                wall = time.perf_counter() - start
                server_cpu = _cpu_seconds(proc.pid) - cpu0
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    latencies = sorted(lat for r in results for lat in r[0])
    total = len(latencies)
    return {
        "itwins": itwins,
        "membersPerItwin": members,
        "loadSeconds": round(load_s, 2),
        "clients": clients,
        "requests": total,
        "errors": sum(r[1] for r in results),
        "membersPerPage": results[0][2],
        "requestsPerSecond": round(total / wall, 1),
        "p50ms": round(statistics.median(latencies) * 1000, 2),
        "p99ms": round(latencies[int(total * 0.99) - 1] * 1000, 2),
        # Server CPU per request, and the rate one server process could sustain at that cost
        # with a whole core to itself (the clients share this machine's cores with it).
        "serverCpuMsPerRequest": round(server_cpu * 1000 / total, 3),
        "serverBoundRequestsPerSecond": round(total / server_cpu, 1) if server_cpu else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--itwins", type=int, default=1000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--small-itwins", type=int, default=10)
    parser.add_argument("--small-members", type=int, default=10)
    parser.add_argument("--requests", type=int, default=10000, help="per size, all clients")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    sizes = [(args.itwins, args.members), (args.small_itwins, args.small_members)]
    rows = [run(n, m, args.requests, args.clients, args.top) for n, m in sizes]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(
            f"machine: {os.cpu_count()} CPUs, load average {load}, python {sys.version.split()[0]}"
        )
        head = ("iTwins x members", "load s", "clients", "requests", "errors", "page",
                "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "CPU-bound req/s")  # fmt: skip
        print(" | ".join(head))
        for r in rows:
            print(" | ".join(str(v) for v in (
                f"{r['itwins']} x {r['membersPerItwin']}", r["loadSeconds"], r["clients"],
                r["requests"], r["errors"], r["membersPerPage"], r["requestsPerSecond"],
                r["p50ms"], r["p99ms"], r["serverCpuMsPerRequest"],
                r["serverBoundRequestsPerSecond"],
            )))  # fmt: skip
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
