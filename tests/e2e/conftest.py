"""End-to-end: the real `itwin-access` executable as a subprocess, against the emulator served
by uvicorn on 127.0.0.1 (in the test process), or embedded (`api: emulator`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reconciler.emulator import Faults
from reconciler.emulator.server import RunningEmulator, start_background

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
EXE = str(Path(sys.executable).with_name("itwin-access"))
DEMO_ENV = {"ITWIN_CLIENT_ID": "itwin-access-demo", "ITWIN_CLIENT_SECRET": "demo-secret"}


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITWIN_") and k != "NO_COLOR"}
    env.update(extra)
    return env


def itwin_access(*args: str | Path, env: dict[str, str], cwd: Path | None = None) -> Done:
    result = subprocess.run(
        [EXE, *map(str, args)], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    return Done(result.returncode, result.stdout, result.stderr)


Cli = Callable[..., Done]


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    target = tmp_path / "quickstart"
    shutil.copytree(QUICKSTART, target)
    return target


@pytest.fixture
def served(tmp_path: Path) -> Iterator[RunningEmulator]:
    with start_background(str(tmp_path / "served.db"), admin=True) as emulator:
        yield emulator


@pytest.fixture
def faulty(tmp_path: Path) -> Iterator[RunningEmulator]:
    """20 % of API requests fail (500, 503, dropped connection); 60 requests a minute per
    client (a bucket of 60: an apply and a plan of the quickstart, ~80 requests, exceed it)."""
    faults = Faults(fault_rate=0.2, rate_limit=60, seed=20261122)
    with start_background(str(tmp_path / "faulty.db"), admin=True, faults=faults) as emulator:
        yield emulator


@pytest.fixture
def cli_against(quickstart: Path) -> Callable[[RunningEmulator], Cli]:
    """``cli_against(emulator)(args...)``: the CLI with the demo app's credentials."""

    def bind(emulator: RunningEmulator) -> Cli:
        env = clean_env(ITWIN_ACCESS_API=emulator.base_url, **DEMO_ENV)

        def run(*args: str | Path) -> Done:
            return itwin_access(*args, env=env)

        return run

    return bind


@pytest.fixture
def embedded_cli() -> Cli:
    """The CLI with no credentials in the environment (embedded mode uses the demo app)."""

    def run(*args: str | Path, cwd: Path | None = None) -> Done:
        return itwin_access(*args, env=clean_env(), cwd=cwd)

    return run


@pytest.fixture
def cli_with_env() -> Callable[..., Done]:
    """``cli_with_env(env_extra, args...)``: the CLI with exactly these ITWIN_* variables."""

    def run(extra: dict[str, str], *args: str | Path) -> Done:
        return itwin_access(*args, env=clean_env(**extra))

    return run


@pytest.fixture
def cli_tools() -> tuple[Callable[..., dict[str, str]], Callable[..., Done]]:
    """``(clean_env, itwin_access)`` for tests that pick the environment and directory."""
    return clean_env, itwin_access
