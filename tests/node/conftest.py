"""Fixtures for driving Bentley's official npm clients against the emulator.

The npm packages are installed into tests/node/node_modules (gitignored) by `npm ci` against the
committed package-lock.json, before pytest starts (.ci/run does it; so does the README's command).
Without Node.js or those packages the tests fail with a message saying what to do; they never skip.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reconciler.emulator.server import start_background

NODE_DIR = Path(__file__).resolve().parent
PINNED = {"@itwin/itwins-client": "1.6.1", "@itwin/projects-client": "0.7.0"}
# Static tokens of the built-in demo seed (BRIEF decision 4): alice is an org admin, bob is not.
ALICE_TOKEN = "alice-token"
BOB_TOKEN = "bob-token"


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"`{tool}` not found on PATH: the node tests run Bentley's npm clients against the "
            "emulator; install Node.js and npm (e.g. `apt-get install nodejs npm`)",
            pytrace=False,
        )
    return path


def _installed() -> bool:
    for name, version in PINNED.items():
        manifest = NODE_DIR / "node_modules" / name / "package.json"
        try:
            if json.loads(manifest.read_text(encoding="utf-8"))["version"] != version:
                return False
        except (OSError, ValueError, KeyError):
            return False
    return True


@pytest.fixture(scope="session")
def node_clients() -> str:
    """Path of `node`, with the pinned npm clients installed next to drive_clients.js.

    Tests never install from a registry: `.ci/run` (and the README's test command) runs
    `npm ci` in tests/node before pytest starts; here a missing install fails, saying so.
    """
    node = _require("node")
    if not _installed():
        pytest.fail(
            f"the pinned npm clients are not installed in {NODE_DIR}/node_modules: run "
            "`npm ci --prefix tests/node` from the repository root (as .ci/run does) first",
            pytrace=False,
        )
    return node


@pytest.fixture(scope="module")
def client_results(node_clients: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Run drive_clients.js once against a fresh emulator; its JSON document."""
    db = tmp_path_factory.mktemp("node-emulator") / "emulator.db"
    emulator = start_background(db)
    try:
        env = dict(
            os.environ,
            ITWIN_TOKEN=ALICE_TOKEN,
            ITWIN_OTHER_TOKEN=BOB_TOKEN,
            ITWIN_OTHER_EMAIL="bob@contoso.com",
        )
        env.pop("IMJS_URL_PREFIX", None)  # would rewrite the clients' host names
        done = subprocess.run(
            [node_clients, str(NODE_DIR / "drive_clients.js"), emulator.base_url],
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        emulator.stop()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
