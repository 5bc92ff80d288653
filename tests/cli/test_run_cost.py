"""What a run spends besides its requests (issue 17: cost proportional to the change): the
state it keeps is out of the cyclic GC's way while it plans, and given back when it ends."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

import reconciler.cli.apply as apply_module
import reconciler.cli.plan as plan_module


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
