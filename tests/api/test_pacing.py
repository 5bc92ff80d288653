"""Bounded waits and adaptive pacing (issue 12 items 4 and 5).

Hostile ``Retry-After`` values come from ``httpx.MockTransport`` (the emulator never sends
them); the unknown server limit is the emulator's own rate limiter, on a virtual clock that only the
client's waits move, so a minute of traffic takes no time and the outcome does not depend on how
fast the machine is.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from reconciler.api import (
    ACCEPT_V1,
    ACCEPT_V2,
    WAIT_CAP,
    AdaptivePacer,
    ApiClient,
    RetryPolicy,
    StaticToken,
    WaitBudget,
    bounded_map,
)
from reconciler.api.limits import retry_after_seconds
from reconciler.emulator import Faults, create_app
from reconciler.emulator.clock import Clock
from reconciler.errors import ApiError


def _client(
    handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float], **kw: float
) -> ApiClient:
    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test")
    retry = RetryPolicy(
        attempts=4, sleep=sleeps.append, rng=random.Random(1), max_retry_after=kw.get("cap", 120)
    )
    # The pacer's own waits (a paused bucket) are recorded, not slept, like the retries'.
    pacer = AdaptivePacer(None, sleep=lambda _s: None)
    client = ApiClient(http, StaticToken("t"), retry=retry, pacer=pacer)
    client.budget = WaitBudget(kw.get("max_wait", 900))
    return client


def _then_ok(first: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    answers = [first]

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop() if answers else httpx.Response(200, json={"ok": 1})

    return handler


@pytest.mark.parametrize("value", ["1e9", "nan", "inf", "-inf", "-5", "1.5", "0x10", "", "soon"])
def test_a_retry_after_that_is_not_delay_seconds_or_a_date_is_ignored(value: str) -> None:
    response = httpx.Response(429, headers={"Retry-After": value})
    assert retry_after_seconds(response) is None
    sleeps: list[float] = []
    client = _client(_then_ok(response), sleeps)
    assert client.json("GET", "/x", accept=ACCEPT_V2) == {"ok": 1}
    assert len(sleeps) == 1
    assert 0.0 <= sleeps[0] <= client.retry.base  # the client's own first backoff


def test_a_huge_retry_after_is_capped_for_the_request_and_for_every_worker() -> None:
    sleeps: list[float] = []
    client = _client(_then_ok(httpx.Response(429, headers={"Retry-After": "100000"})), sleeps)
    assert client.json("GET", "/x", accept=ACCEPT_V2) == {"ok": 1}
    assert 120.0 <= sleeps[0] <= 120.0 + client.retry.base
    limiter = (
        client.pacer.limiter
    )  # the adaptive bucket, from the first 429 on, paused at most the cap
    assert limiter is not None
    assert limiter.acquire() <= 120.0 + 1


def test_the_runs_total_wait_is_capped_and_the_error_says_so_in_one_line() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7"})

    client = _client(handler, sleeps, max_wait=20)
    client.budget = WaitBudget(20, clock=lambda: now[0])
    client.retry.sleep = lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s))[0]
    with pytest.raises(ApiError) as info:
        client.json("GET", "/x", accept=ACCEPT_V2)
    assert info.value.code == WAIT_CAP
    assert len(sleeps) == 2  # 7 s twice; a third would pass 20 s
    text = str(info.value)
    assert "\n" not in text
    assert "cap of 20 s (`maxWait` in itwin-access.yaml)" in text
    # and the run is over: the next request stops at once, sending nothing
    with pytest.raises(ApiError, match=WAIT_CAP):
        client.json("GET", "/y", accept=ACCEPT_V2)
    assert len(sleeps) == 2


def test_the_tier_header_sets_the_ceiling_of_the_pace() -> None:
    pacer = AdaptivePacer(None, clock=lambda: 0.0, sleep=lambda _s: None)
    pacer.rate_limited(0.0, 0.0, {"ITwinPlatform-RateLimited-Tier": "Community"})
    assert pacer.ceiling == 500.0
    assert pacer.per_minute == 250.0  # halved from the tier's pace
    for _ in range(1000):
        pacer.succeeded()
    assert pacer.per_minute == 500.0  # wins it back, never above the tier


class VirtualClock(Clock):
    """The emulator's clock, moved only by the client's waits (``sleep``), never by the wall.

    On the wall clock (even sped up) a loaded machine sends fewer requests a minute, so the
    limit might never be reached: CI saw no 429 at all once. Here a burst of requests takes no
    time, so whether the client learns the limit depends on the client alone. The waits of
    concurrent workers add up rather than overlap, which only makes the server's minutes pass
    sooner: the client is never helped by it."""

    def __init__(self) -> None:
        super().__init__(offset=1_800_000_000.0 - time.time())
        self._frozen = time.time()

    def now(self) -> float:
        return self._frozen + self.offset

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)
        time.sleep(0)  # let the other workers run, as a real wait would


@pytest.mark.parametrize("per_minute", [30, 60])
def test_an_unknown_server_limit_is_learnt_and_every_request_goes_through(
    tmp_path: Path, per_minute: int
) -> None:
    clock = VirtualClock()
    app = create_app(tmp_path / "rl.db", faults=Faults(rate_limit=per_minute), clock=clock)

    with TestClient(app) as http:
        # The client believes it may send 4,500 a minute (the default rateLimit).
        pacer = AdaptivePacer(4500, clock=clock.now, sleep=clock.sleep)
        retry = RetryPolicy(sleep=clock.sleep, rng=random.Random(3))
        client = ApiClient(http, StaticToken("alice-token"), retry=retry, pacer=pacer)
        client.budget = WaitBudget(900, clock=clock.now)
        lock = threading.Lock()
        statuses: list[int] = []

        def fetch(_: int) -> None:
            response = client.request("GET", "/itwins", accept=ACCEPT_V1)
            with lock:
                statuses.append(response.status_code)

        requests = 3 * per_minute
        bounded_map(fetch, list(range(requests)), concurrency=8)
    assert statuses == [200] * requests
    assert pacer.slowdowns >= 1
    assert pacer.per_minute is not None
    assert pacer.per_minute < 4500
    # It found a pace near the limit: 429s stay a small share of what was sent.
    assert client.stats.requests - requests < requests
