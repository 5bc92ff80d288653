"""``CookielessClient``: a response's ``Set-Cookie`` is not kept, so the next request carries no
``Cookie`` (the iTwin APIs use bearer tokens only); the session talks through one."""

from __future__ import annotations

import httpx

from reconciler.api.http import CookielessClient


def test_set_cookie_is_not_kept_nor_sent_back() -> None:
    sent: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, json={})

    for client, kept in (
        (httpx.Client(transport=httpx.MockTransport(answer)), "session=abc"),
        (CookielessClient(transport=httpx.MockTransport(answer)), None),
    ):
        sent.clear()
        with client:
            client.get("http://platform.test/itwins")
            client.get("http://platform.test/itwins")
            client.cookies = {"other": "1"}  # nothing to keep, whatever is set
            client.get("http://platform.test/itwins")
        assert sent[:2] == [None, kept]  # plain httpx sends the cookie back; ours does not
        assert (sent[2] is None) == (kept is None)
        assert len(client.cookies) == (0 if kept is None else 2)
