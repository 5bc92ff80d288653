"""The shared rate limiter paces requests; bounded_map keeps order and its bound."""

from __future__ import annotations

import threading
import time

import pytest

from reconciler.api import RateLimiter, bounded_imap, bounded_map


def test_token_bucket_allows_a_burst_then_spaces_requests() -> None:
    now = [10.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)

    limiter = RateLimiter(120, burst=3, clock=lambda: now[0], sleep=sleep)  # 2/s
    for _ in range(3):
        assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(0.5)
    assert limiter.acquire() == pytest.approx(1.0)
    now[0] += 10  # idle time refills the bucket, but never beyond the burst
    assert [limiter.acquire() for _ in range(4)] == pytest.approx([0, 0, 0, 0.5])


def test_pause_holds_every_caller() -> None:
    now = [0.0]
    limiter = RateLimiter(6000, clock=lambda: now[0], sleep=lambda _s: None)
    limiter.pause(2.0)
    assert limiter.acquire() == pytest.approx(2.0)


def test_limiter_is_shared_across_threads() -> None:
    now = [0.0]
    lock = threading.Lock()
    waits: list[float] = []
    limiter = RateLimiter(60, burst=1, clock=lambda: now[0], sleep=lambda _s: None)

    def work(_: int) -> None:
        w = limiter.acquire()
        with lock:
            waits.append(w)

    bounded_map(work, range(6), concurrency=3)
    assert sorted(waits) == pytest.approx([0, 1, 2, 3, 4, 5])  # one slot per second overall


def test_bounded_map_keeps_order_and_the_bound() -> None:
    active = [0]
    peak = [0]
    lock = threading.Lock()

    def work(x: int) -> int:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.01)
        with lock:
            active[0] -= 1
        return x * x

    assert bounded_map(work, list(range(20)), concurrency=4) == [x * x for x in range(20)]
    assert 1 < peak[0] <= 4


def test_bounded_map_raises_the_failure() -> None:
    def work(x: int) -> int:
        if x == 3:
            raise KeyError(x)
        return x

    with pytest.raises(KeyError):
        bounded_map(work, list(range(10)), concurrency=3)
    assert bounded_map(work, [1], concurrency=3) == [1]


def test_bounded_imap_yields_the_first_results_while_later_calls_run() -> None:
    """The caller gets result 0 before the last call has finished (plan converts a project's
    lists while the workers read the next ones), in input order, within the bound."""
    release = threading.Event()
    finished: list[int] = []

    def work(x: int) -> int:
        if x == 5:
            assert release.wait(10)
        finished.append(x)
        return x * 10

    results = bounded_imap(work, list(range(6)), concurrency=3)
    assert next(results) == 0
    assert 5 not in finished  # the last call still runs
    release.set()
    assert list(results) == [10, 20, 30, 40, 50]


def test_bounded_imap_raises_the_failure_and_starts_nothing_after_it() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def work(x: int) -> int:
        with lock:
            started.append(x)
        if x == 2:
            raise KeyError(x)
        time.sleep(0.01)
        return x

    results = bounded_imap(work, list(range(40)), concurrency=2)
    assert next(results) == 0
    assert next(results) == 1
    with pytest.raises(KeyError):
        next(results)
    assert len(started) < 40  # the calls not yet started were cancelled
