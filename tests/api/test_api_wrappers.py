"""The thin wrappers: URLs, Accept versions, page sizes (MockTransport for refusals the
emulator does not make)."""

from __future__ import annotations

import httpx

from reconciler.api import ACCEPT_V1, ACCEPT_V2, AccessControlApi, ApiClient, ItwinsApi, StaticToken


def client_for(handler) -> ApiClient:  # type: ignore[no-untyped-def]
    http = httpx.Client(transport=httpx.MockTransport(handler), base_url="https://api.test")
    return ApiClient(http, StaticToken("t"))


def test_access_lists_fall_back_to_pages_of_100_when_1000_is_refused() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params["$top"] != "100":
            error = {
                "code": "InvalidiTwinsMemberRequest",
                "message": "Request body or query is invalid.",
                "details": [{"code": "InvalidValue", "message": "out of range", "target": "$top"}],
            }
            return httpx.Response(422, json={"error": error})
        return httpx.Response(200, json={"members": [{"id": "m"}]})

    access = AccessControlApi(client_for(handler))
    assert access.user_members("i") == [{"id": "m"}]
    assert access.owners("i") == [{"id": "m"}]
    assert [r.url.params["$top"] for r in seen] == ["1000", "100", "100"]
    assert all(r.headers["Accept"] == ACCEPT_V2 for r in seen)
    assert seen[0].url.path == "/accesscontrol/itwins/i/members/users"


def test_itwins_list_asks_for_the_largest_page_and_result_set() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"iTwins": []})

    pages = list(ItwinsApi(client_for(handler)).list_pages(number="N-1", query_scope="all"))
    assert pages == [[]]
    request = seen[0]
    assert request.headers["Accept"] == ACCEPT_V1
    assert request.headers["Prefer"] == "return=representation"
    assert request.headers["X-Max-Return"] == "10000"
    assert request.headers["X-iTwin-Query-Scope"] == "all"
    assert dict(request.url.params) == {
        "number": "N-1",
        "includeInactive": "true",
        "$top": "1000",
        "$skip": "0",
    }
