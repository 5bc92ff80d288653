"""Transient failures of a real server: faults, rate limits and dropped connections from the
emulator are retried, so one apply still converges."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reconciler.api import RetryPolicy
from reconciler.apply import steps
from reconciler.diff import diff
from reconciler.emulator.limits import Faults
from reconciler.emulator.server import start_background
from reconciler.model import (
    SECTIONS,
    Group,
    GroupMember,
    Manage,
    Owner,
    Project,
    Role,
    State,
    UserMember,
)
from reconciler.plan.build import batch_adds
from reconciler.targets.itwins import ItwinsTarget

ALL = dict.fromkeys(SECTIONS, Manage.AUTHORITATIVE)


def desired(n: int) -> State:
    return State(
        tuple(
            Project(
                number=f"F-{i}",
                attributes={"displayName": f"Faulty {i}"},
                manage=ALL,
                roles=(Role("Viewer", "Read", frozenset({"imodels_read"})), Role("Lead", "L")),
                groups=(Group("Crew", "Crew", frozenset({"dana@contoso.com"})),),
                owners=(Owner("alice@contoso.com"), Owner("bob@contoso.com")),
                members=(
                    UserMember("bob@contoso.com", frozenset({"Viewer"})),
                    UserMember("carol@contoso.com", frozenset({"Viewer", "Lead"})),
                ),
                group_members=(GroupMember("Crew", frozenset({"Lead"})),),
            )
            for i in range(n)
        )
    )


def apply_once(target: ItwinsTarget, want: State) -> None:
    live, context = target.read(want.numbers())
    ops, _ = batch_adds(diff(want, live, context.identity))
    for step in steps(ops):
        target.execute(step)


def check_converged(target: ItwinsTarget, want: State) -> None:
    live, context = target.read(want.numbers())
    assert diff(want, live, context.identity) == []


def test_503_faults_and_rate_limits_are_retried(emulator) -> None:
    faults = Faults(fault_rate=0.25, kinds=("503",), rate_limit=600, seed=3)
    http = emulator(faults=faults)
    sleeps: list[float] = []
    target = ItwinsTarget.connect(http, token="alice-token", rate_limit=None)
    target.client.retry = RetryPolicy(attempts=10, sleep=sleeps.append)
    want = desired(3)
    apply_once(target, want)
    check_converged(target, want)
    assert target.client.stats.retries > 0
    assert sleeps
    # Every client-level retry waited at least the emulator's Retry-After (1 s for a 503, more
    # for a 429); resent role/group creations back off on their own schedule.
    assert sum(s >= 1.0 for s in sleeps) >= target.client.stats.retries


@pytest.mark.e2e
def test_dropped_connections_over_uvicorn_are_retried(tmp_path: Path, base_seed) -> None:
    faults = Faults(fault_rate=0.2, kinds=("drop", "503"), seed=5)
    running = start_background(tmp_path / "emu.db", seed=base_seed, faults=faults)
    try:
        with httpx.Client(base_url=running.base_url, timeout=10) as http:
            target = ItwinsTarget.connect(http, token="alice-token", rate_limit=None)
            target.client.retry = RetryPolicy(attempts=10, base=0.01, cap=0.05)
            want = desired(2)
            apply_once(target, want)
            check_converged(target, want)
            assert target.client.stats.retries > 0
    finally:
        running.stop()
