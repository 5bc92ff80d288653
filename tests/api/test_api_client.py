"""ApiClient: retries, backoff, Retry-After, connection errors, error mapping, paging, secrets.

These are the failure paths the emulator cannot produce on demand, so they run over
``httpx.MockTransport``; the happy paths are covered against the emulator in tests/targets.
"""

from __future__ import annotations

import random

import httpx
import pytest
from api_mocks import Handler, sequence

from reconciler.api import ACCEPT_V2, ApiClient, RateLimiter, RetryPolicy, StaticToken
from reconciler.errors import ApiError

TOKEN = "s3cr3t-token-value"


def make_client(
    handler: Handler, *, attempts: int = 4, token: str = TOKEN
) -> tuple[ApiClient, list[float]]:
    sleeps: list[float] = []
    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test")
    retry = RetryPolicy(attempts=attempts, sleep=sleeps.append, rng=random.Random(1))
    return ApiClient(http, StaticToken(token), retry=retry), sleeps


def envelope(status: int, code: str, message: str, **extra: object) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message, **extra}})


def test_retries_5xx_then_returns_the_success() -> None:
    handler, seen = sequence(
        httpx.Response(503), httpx.Response(502), httpx.Response(504), httpx.Response(200, json={})
    )
    client, sleeps = make_client(handler)
    assert client.json("GET", "/x", accept=ACCEPT_V2) == {}
    assert len(seen) == 4
    assert len(sleeps) == 3
    assert client.stats.requests == 4
    assert client.stats.retries == 3


def test_backoff_grows_exponentially_within_jittered_bounds() -> None:
    policy = RetryPolicy(base=1.0, cap=100.0, rng=random.Random(7))
    for n in range(6):
        delays = [policy.delay(n, None) for _ in range(200)]
        assert all(0.0 <= d <= 2**n for d in delays)
        assert max(delays) > 0.5 * 2**n  # full jitter actually spreads up to the bound


def test_retry_after_is_honoured_as_a_floor() -> None:
    handler, _ = sequence(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": 1})
    )
    client, sleeps = make_client(handler)
    assert client.json("GET", "/x", accept=ACCEPT_V2) == {"ok": 1}
    assert len(sleeps) == 1
    assert 7.0 <= sleeps[0] <= 7.0 + client.retry.base


def test_retry_after_pauses_the_shared_rate_limiter() -> None:
    now = [100.0]
    waits: list[float] = []
    limiter = RateLimiter(6000, clock=lambda: now[0], sleep=waits.append)
    handler, _ = sequence(
        httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json={})
    )
    client, _ = make_client(handler)
    client.limiter = limiter
    client.json("GET", "/x", accept=ACCEPT_V2)
    # The retry itself had to wait for the limiter to reopen: every worker is slowed.
    assert waits
    assert waits[-1] == pytest.approx(3.0, abs=0.05)


def test_gives_up_after_bounded_attempts_with_the_last_status() -> None:
    handler, seen = sequence(envelope(503, "ServiceUnavailable", "busy"))
    client, sleeps = make_client(handler, attempts=3)
    with pytest.raises(ApiError) as info:
        client.json("GET", "/accesscontrol/itwins/abc/roles", accept=ACCEPT_V2)
    assert len(seen) == 3
    assert len(sleeps) == 2
    err = info.value
    assert (err.method, err.path, err.status, err.code) == (
        "GET",
        "/accesscontrol/itwins/abc/roles",
        503,
        "ServiceUnavailable",
    )


def test_connection_errors_are_retried() -> None:
    handler, seen = sequence(
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"a": 1}),
    )
    client, _ = make_client(handler)
    assert client.json("GET", "/x", accept=ACCEPT_V2) == {"a": 1}
    assert len(seen) == 4


def test_connection_error_after_all_attempts_is_an_api_error_without_status() -> None:
    handler, _ = sequence(httpx.RemoteProtocolError("server disconnected"))
    client, _ = make_client(handler, attempts=2)
    with pytest.raises(ApiError) as info:
        client.request("GET", "/x", accept=ACCEPT_V2)
    assert info.value.status is None
    assert info.value.code == "RemoteProtocolError"
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)


def test_non_idempotent_post_is_not_resent_after_an_ambiguous_failure() -> None:
    handler, seen = sequence(httpx.RemoteProtocolError("dropped"), httpx.Response(201, json={}))
    client, _ = make_client(handler)
    with pytest.raises(ApiError) as info:
        client.request("POST", "/x", accept=ACCEPT_V2, json={}, ambiguous_retry=False)
    assert info.value.status is None
    assert len(seen) == 1

    handler, seen = sequence(httpx.Response(502), httpx.Response(201, json={}))
    client, _ = make_client(handler)
    with pytest.raises(ApiError) as info:
        client.request("POST", "/x", accept=ACCEPT_V2, json={}, ambiguous_retry=False)
    assert info.value.status == 502
    assert len(seen) == 1


def test_non_idempotent_post_is_resent_when_it_surely_was_not_processed() -> None:
    handler, seen = sequence(
        httpx.ConnectError("refused"),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(201, json={"role": {"id": "r"}}),
    )
    client, _ = make_client(handler)
    body = client.json("POST", "/x", accept=ACCEPT_V2, json={}, ambiguous_retry=False)
    assert body == {"role": {"id": "r"}}
    assert len(seen) == 3


def test_error_envelope_is_mapped_with_code_message_and_target() -> None:
    response = envelope(
        422,
        "InvalidiTwinsMemberRequest",
        "Request body or query is invalid.",
        details=[
            {
                "code": "MissingRequiredProperty",
                "message": "Required.",
                "target": "members[0].email",
            }
        ],
    )
    client, _ = make_client(lambda _r: response)
    with pytest.raises(ApiError) as info:
        client.request("POST", "/accesscontrol/itwins/i/members/users", accept=ACCEPT_V2)
    err = info.value
    assert err.status == 422
    assert err.code == "InvalidiTwinsMemberRequest"
    assert err.target == "members[0].email"
    assert err.message is not None
    assert "MissingRequiredProperty at members[0].email" in err.message
    expected = "POST /accesscontrol/itwins/i/members/users -> 422 InvalidiTwinsMemberRequest"
    assert expected in str(err)


@pytest.mark.parametrize(
    ("response", "code", "message"),
    [
        (httpx.Response(500, text="<html>Bad gateway</html>"), None, "<html>Bad gateway</html>"),
        (httpx.Response(500), None, None),
        (httpx.Response(400, json=["not", "an", "object"]), None, None),
        (httpx.Response(400, json={"error": None}), None, None),
        (httpx.Response(400, json={"error": {"code": None, "message": 3}}), None, None),
        (httpx.Response(400, json={"error": "invalid_scope"}), "invalid_scope", None),
    ],
)
def test_bodies_that_are_not_the_envelope_still_give_one_api_error(
    response: httpx.Response, code: str | None, message: str | None
) -> None:
    client, _ = make_client(lambda _r: response, attempts=1)
    with pytest.raises(ApiError) as info:
        client.request("GET", "/x", accept=ACCEPT_V2)
    assert (info.value.status, info.value.code, info.value.message) == (
        response.status_code,
        code,
        message,
    )


def test_headers_sent() -> None:
    handler, seen = sequence(httpx.Response(200, json={}))
    client, _ = make_client(handler)
    client.json("GET", "/x", accept=ACCEPT_V2, prefer="return=representation")
    request = seen[0]
    assert request.headers["Accept"] == ACCEPT_V2
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Prefer"] == "return=representation"


def test_static_token_401_is_final_and_never_shows_the_token() -> None:
    response = envelope(401, "Unauthorized", f"Access denied for token {TOKEN}")
    handler, seen = sequence(response)
    client, _ = make_client(handler)
    with pytest.raises(ApiError) as info:
        client.request("GET", "/x", accept=ACCEPT_V2)
    assert len(seen) == 1
    assert info.value.status == 401
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)
    assert TOKEN not in (info.value.message or "")
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client.auth)


def test_pages_use_skip_and_top_and_stop_on_a_short_page() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        skip = int(request.url.params["$skip"])
        top = int(request.url.params["$top"])
        items = [{"i": i} for i in range(skip, min(skip + top, 5))]
        return httpx.Response(200, json={"things": items, "_links": {"next": {"href": "x"}}})

    client, _ = make_client(handler)
    items = client.collect("/things", "things", accept=ACCEPT_V2, top=2)
    assert [x["i"] for x in items] == [0, 1, 2, 3, 4]
    assert [(r.url.params["$skip"], r.url.params["$top"]) for r in seen] == [
        ("0", "2"),
        ("2", "2"),
        ("4", "2"),
    ]


def test_pages_stop_on_a_full_page_without_next() -> None:
    handler, seen = sequence(httpx.Response(200, json={"things": [{"a": 1}, {"a": 2}]}))
    client, _ = make_client(handler)
    assert len(client.collect("/things", "things", accept=ACCEPT_V2, top=2)) == 2
    assert len(seen) == 1


def test_a_full_page_with_next_then_an_empty_page_ends() -> None:
    handler, seen = sequence(
        httpx.Response(200, json={"things": [{"a": 1}], "_links": {"next": {"href": "n"}}}),
        httpx.Response(200, json={"things": [], "_links": {"next": {"href": "n"}}}),
    )
    client, _ = make_client(handler)
    assert len(client.collect("/things", "things", accept=ACCEPT_V2, top=1)) == 1
    assert len(seen) == 2


def test_non_json_success_body_is_an_api_error() -> None:
    client, _ = make_client(lambda _r: httpx.Response(200, text="oops"))
    with pytest.raises(ApiError, match="not JSON"):
        client.json("GET", "/x", accept=ACCEPT_V2)


def test_an_unpaced_client_still_pauses_every_worker_on_retry_after() -> None:
    """Issue 17: no pace of its own against a server declaring no limit, yet a 429's
    Retry-After holds back the whole run, not only the request told."""
    now = [100.0]
    waits: list[float] = []
    limiter = RateLimiter(None, clock=lambda: now[0], sleep=waits.append)
    assert limiter.acquire() == 0.0
    assert waits == []
    handler, _ = sequence(
        httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={})
    )
    client, _ = make_client(handler)
    client.limiter = limiter
    client.json("GET", "/x", accept=ACCEPT_V2)
    assert waits[-1] == pytest.approx(2.0, abs=0.05)
