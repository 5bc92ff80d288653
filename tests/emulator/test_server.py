"""End to end over uvicorn on 127.0.0.1: background server, parallel writers, the CLI."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from emu_helpers import AC, h

from reconciler.emulator.server import start_background

pytestmark = pytest.mark.e2e


def test_background_server_serves_the_api(tmp_path: Path) -> None:
    running = start_background(tmp_path / "bg.db")
    try:
        assert running.base_url.startswith("http://127.0.0.1:")
        r = httpx.get(f"{running.base_url}/itwins/", headers=h("alice-token"))
        assert (r.status_code, r.json()["iTwins"]) == (200, [])
        # The admin surface is off by default.
        assert httpx.get(f"{running.base_url}/__emulator/counters").status_code == 404
    finally:
        running.stop()


def test_parallel_writers_lose_no_updates(tmp_path: Path) -> None:
    users = [f"user{n:03d}@contoso.com" for n in range(120)]
    seed = {
        "organizations": [{"name": "Contoso", "users": [
            {"email": "alice@contoso.com", "orgAdmin": True}, *({"email": u} for u in users)]}],
        "tokens": {"alice-token": "alice@contoso.com"},
    }  # fmt: skip
    with start_background(tmp_path / "par.db", seed=seed) as running:
        with httpx.Client(base_url=running.base_url, headers=h("alice-token")) as c:
            body = {"class": "Endeavor", "subClass": "Project", "displayName": "P"}
            itwin = c.post("/itwins", json=body).json()["iTwin"]["id"]
            role = c.post(f"{AC}/{itwin}/roles", json={"displayName": "V", "description": "V"})
            role_id = role.json()["role"]["id"]
        failures: list[str] = []

        def writer(chunk: list[str]) -> None:
            with httpx.Client(base_url=running.base_url, headers=h("alice-token")) as c:
                for email in chunk:
                    add = {"members": [{"email": email, "roleIds": [role_id]}]}
                    r = c.post(f"{AC}/{itwin}/members/users", json=add)
                    if r.status_code != 201:
                        failures.append(f"{r.status_code} {r.text}")
                    # Concurrent reads and role updates in between.
                    c.get(f"{AC}/{itwin}/members/users?$top=5")
                    c.patch(f"{AC}/{itwin}/roles/{role_id}", json={"description": email})

        threads = [threading.Thread(target=writer, args=(users[i::6],)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        with httpx.Client(base_url=running.base_url, headers=h("alice-token")) as c:
            members = c.get(f"{AC}/{itwin}/members/users?$top=1000").json()["members"]
        assert sorted(m["email"] for m in members) == users


def test_cli_serve_prints_url_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITWIN")}
    command = [sys.executable, "-m", "reconciler", "emulator", "serve",
               "--db", str(tmp_path / "c.db"), "--port", "0", "--admin"]  # fmt: skip
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as proc:  # fmt: skip
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            assert first.startswith("iTwin Platform emulator listening on http://127.0.0.1:")
            url = first.split()[-1]
            rest = "".join(proc.stdout.readline() for _ in range(5))
            # The documented demo credentials are shown (they are not a user's secret).
            assert "client_id=itwin-access-demo -d client_secret=demo-secret" in rest
            form = {"grant_type": "client_credentials", "client_id": "itwin-access-demo",
                    "client_secret": "demo-secret"}  # fmt: skip
            assert httpx.post(f"{url}/connect/token", data=form).status_code == 200
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
            assert proc.stderr is not None
            assert "Emulator stopped." in proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()


def test_cli_serve_reports_a_bad_seed_in_one_line(tmp_path: Path) -> None:
    seed = tmp_path / "bad.yaml"
    seed.write_text("organizations: [\n")
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "emulator", "serve", "--db", str(tmp_path / "b.db"),
         "--seed", str(seed)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0
    assert "bad.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


def _refusal(command: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITWIN")}
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", *command],
        capture_output=True, text=True, timeout=30, env=env, cwd=cwd,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    return proc.stderr


def test_cli_serve_refuses_a_database_of_another_version_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "newer.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.executescript("CREATE TABLE meta(key TEXT); PRAGMA user_version=99;")
    stderr = _refusal(["emulator", "serve", "--db", str(db), "--port", "0"], tmp_path)
    assert f"{db}: an SQLite database that is not the emulator's" in stderr
    assert "Choose another --db" in stderr


def test_embedded_mode_refuses_a_file_that_is_not_sqlite_before_any_request(
    tmp_path: Path,
) -> None:
    (tmp_path / "itwin-access.yaml").write_text("api: emulator\nemulator:\n  db: state.db\n")
    (tmp_path / "p.yaml").write_text("projects:\n  - number: A\n")
    (tmp_path / "state.db").write_text("not a database\n" * 50)
    stderr = _refusal(["plan", str(tmp_path)], tmp_path)
    assert "state.db: cannot be read as an SQLite database (file is not a database)" in stderr
    assert "Set another `emulator.db` in the config" in stderr
    assert (tmp_path / "state.db").read_text() == "not a database\n" * 50


def test_embedded_mode_reports_a_bad_seed_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "itwin-access.yaml").write_text(
        "api: emulator\nemulator:\n  db: state.db\n  seed: bad-seed.yaml\n"
    )
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "p.yaml").write_text("projects:\n  - number: A\n")
    (tmp_path / "bad-seed.yaml").write_text("organizations: [\n")
    config = str(tmp_path / "itwin-access.yaml")
    stderr = _refusal(["plan", "--config", config, str(tmp_path / "manifests")], tmp_path)
    assert "bad-seed.yaml" in stderr
    assert "check `emulator.seed` in the config" in stderr


def test_two_servers_on_one_database_file_share_state(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    users = [f"{n}@contoso.com" for n in ("bob", "carol", "dana", "eli", "frank")]
    with start_background(db) as one, start_background(db) as two:
        with httpx.Client(base_url=one.base_url, headers=h("alice-token")) as c:
            body = {"class": "Endeavor", "subClass": "Project", "displayName": "P"}
            itwin = c.post("/itwins", json=body).json()["iTwin"]["id"]
            role = c.post(f"{AC}/{itwin}/roles", json={"displayName": "V", "description": "V"})
            role_id = role.json()["role"]["id"]
        statuses: list[int] = []

        def writer(base: str, emails: list[str]) -> None:
            with httpx.Client(base_url=base, headers=h("alice-token")) as c:
                for email in emails:
                    add = {"members": [{"email": email, "roleIds": [role_id]}]}
                    statuses.append(c.post(f"{AC}/{itwin}/members/users", json=add).status_code)

        threads = [threading.Thread(target=writer, args=(one.base_url, users[::2])),
                   threading.Thread(target=writer, args=(two.base_url, users[1::2]))]  # fmt: skip
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [201] * len(users)
        listed = httpx.get(f"{two.base_url}{AC}/{itwin}/members/users", headers=h("alice-token"))
        assert sorted(m["email"] for m in listed.json()["members"]) == users


def test_embedded_mode_never_opens_its_database_through_a_symlinked_directory(
    tmp_path: Path,
) -> None:
    # A manifest repository could commit `.itwin-access` as a symlink to anywhere.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".itwin-access").symlink_to(elsewhere)
    (repo / "itwin-access.yaml").write_text("api: emulator\n")
    (repo / "p.yaml").write_text("projects:\n  - number: A\n")
    stderr = _refusal(["plan", str(repo)], tmp_path)
    assert ".itwin-access is a symlink; the embedded emulator's database is not opened" in stderr
    assert "set `emulator.db` in the config" in stderr
    assert list(elsewhere.iterdir()) == []
