"""What a run spends besides its requests (issue 17: cost proportional to the change): the
state it keeps is out of the cyclic GC's way while it plans, and given back when it ends; the
session warms up while the manifests load."""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any

import pytest

import reconciler.cli.apply as apply_module
import reconciler.cli.plan as plan_module
from reconciler.api.access import AccessControlApi
from reconciler.cli.session import Session


def test_plan_and_apply_work_with_their_state_frozen_and_give_it_back(
    run: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    real = plan_module.build_plan

    def observing(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_freeze_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "build_plan", observing)
    assert gc.get_freeze_count() == 0
    assert run("apply", workdir, "--auto-approve").code == 0
    assert run("plan", workdir, "--detailed-exitcode").code == 0
    assert len(seen) == 2
    assert all(count > 0 for count in seen)  # the manifests' and live state, out of the GC
    assert gc.get_freeze_count() == 0  # and back in it once each command ended
    assert apply_module.compute_plan is plan_module.compute_plan  # apply plans the same way


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_the_session_warms_up_while_the_manifests_load(
    run: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """The permission catalogue (the first list every read needs) is asked for while the
    manifests are still loading, not after: loading waits until it was listed (a serial run
    lists it after loading, so "loaded" would come first, after a 60 s wait)."""
    events: list[str] = []
    listed = threading.Event()
    real_list = AccessControlApi.all_permissions
    real_load = plan_module.load_manifests

    def listing(self: AccessControlApi) -> list[str]:
        events.append("permissions listed")
        listed.set()
        return real_list(self)

    def loading(*args: Any, **kwargs: Any) -> Any:
        events.append("loading")
        loaded = real_load(*args, **kwargs)
        listed.wait(timeout=60)  # only a failure waits this long: the listing never came
        events.append("loaded")
        return loaded

    monkeypatch.setattr(AccessControlApi, "all_permissions", listing)
    monkeypatch.setattr(plan_module, "load_manifests", loading)
    args = ["--auto-approve"] if command == "apply" else []
    assert run(command, workdir, *args).code == 0
    # The listing may start before or after loading does (the thread and the loader race: a
    # fresh CI runner saw it first); what matters is that it came before loading ended.
    assert sorted(events) == ["loaded", "loading", "permissions listed"]
    assert events.index("permissions listed") < events.index("loaded")
    assert events.index("loading") < events.index("loaded")


def test_a_bad_manifest_is_reported_as_before_and_the_warmed_session_closed(
    run: Any, workdir: Path, hand: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[Session] = []
    real_close = Session.close

    def close(self: Session) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Session, "close", close)
    (workdir / "bridges.yaml").write_text("projects: [\n")
    failed = run("plan", workdir)
    assert failed.code == 1
    assert failed.stderr.strip().splitlines()[-1].startswith("Error: 1 error in the manifests")
    assert len({id(session) for session in closed}) == 1  # the one it opened, closed
    assert hand.writes() == 0
