"""The pace follows the server (issue 17 item 4, contract C11): a ``rateLimit`` tier or number;
Standard's 5,000/minute against Bentley's hosts; no pace against an emulator."""

from __future__ import annotations

import pytest

from reconciler.api.limits import Pacers, RateLimiter, describe, pacer


def test_auto_is_standard_for_bentley_hosts_and_unpaced_elsewhere() -> None:
    for url in ("https://api.bentley.com", "https://qa-api.bentley.com/"):
        limiter = pacer("auto", url)
        assert isinstance(limiter, RateLimiter)
        assert limiter.per_minute == 5000
    local = pacer("auto", "http://127.0.0.1:8765")
    assert isinstance(local, RateLimiter)
    assert local.per_minute is None
    assert describe("auto", "http://127.0.0.1:8765") == "unpaced"
    assert describe("auto", "https://api.bentley.com") == "standard (5,000/min)"


def test_community_paces_per_minute_and_per_hour() -> None:
    community = pacer("community", "https://api.bentley.com")
    assert isinstance(community, Pacers)
    assert [limiter.per_minute for limiter in community.limiters] == [500, pytest.approx(5000 / 60)]
    assert describe("community") == "community (500/min and 5,000/h)"


def test_a_number_is_requests_per_minute_wherever_the_api_is() -> None:
    limiter = pacer(1200, "http://127.0.0.1:1")
    assert isinstance(limiter, RateLimiter)
    assert limiter.per_minute == 1200
    with pytest.raises(ValueError, match="unknown rate-limit tier"):
        pacer("premium-plus")


def test_the_hourly_cap_holds_once_an_hours_budget_is_spent() -> None:
    now = [0.0]
    waits: list[float] = []
    hourly = RateLimiter(5000 / 60, burst=5000, clock=lambda: now[0], sleep=waits.append)
    for _ in range(5000):
        hourly.acquire()
    assert waits == []  # an hour's budget may go at the minute rate
    hourly.acquire()
    assert waits == [pytest.approx(0.72)]  # then one every 3600/5000 s
