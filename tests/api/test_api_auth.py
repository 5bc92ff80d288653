"""Auth: client-credentials form, token caching and renewal, identity from the JWT, secrets."""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse

import httpx
import pytest

from reconciler.api import (
    ACCEPT_V1,
    ApiClient,
    ClientCredentials,
    RetryPolicy,
    StaticToken,
    connect,
    default_token_url,
    email_from_token,
)
from reconciler.errors import ApiError, ConfigError

SECRET = "very-secret-client-secret"


def jwt(claims: dict[str, object]) -> str:
    def part(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.c2ln"


class FakeIms:
    """A token endpoint plus one API route that accepts only the latest token."""

    def __init__(self, lifetime: int = 3600) -> None:
        self.lifetime = lifetime
        self.issued: list[str] = []
        self.forms: list[dict[str, str]] = []
        self.api_calls = 0
        self.revoked: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            form = dict(urllib.parse.parse_qsl(request.content.decode()))
            with self.lock:
                self.forms.append(form)
                if form.get("client_secret") != SECRET:
                    return httpx.Response(
                        401,
                        json={
                            "error": "invalid_client",
                            "error_description": f"bad secret {form.get('client_secret')}",
                        },
                    )
                token = jwt({"email": "App@Contoso.com", "n": len(self.issued)})
                self.issued.append(token)
            return httpx.Response(
                200,
                json={"access_token": token, "expires_in": self.lifetime, "token_type": "Bearer"},
            )
        self.api_calls += 1
        auth = request.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") in self.revoked:
            return httpx.Response(401, json={"error": {"code": "Unauthorized", "message": "no"}})
        return httpx.Response(200, json={"ok": True})


def setup(ims: FakeIms, now: list[float], secret: str = SECRET) -> ApiClient:
    http = httpx.Client(transport=httpx.MockTransport(ims), base_url="http://emu")
    auth = ClientCredentials(
        http, "my-app", secret, token_url="http://emu/connect/token", clock=lambda: now[0]
    )
    return ApiClient(http, auth, retry=RetryPolicy(sleep=lambda _s: None))


def test_client_credentials_form_fields_per_contract() -> None:
    ims = FakeIms()
    client = setup(ims, [0.0])
    client.json("GET", "/itwins/", accept=ACCEPT_V1)
    assert ims.forms == [
        {
            "grant_type": "client_credentials",
            "client_id": "my-app",
            "client_secret": SECRET,
            "scope": "itwin-platform",
        }
    ]


def test_token_is_cached_then_renewed_before_expiry() -> None:
    ims = FakeIms(lifetime=3600)
    now = [0.0]
    client = setup(ims, now)
    for _ in range(5):
        client.json("GET", "/x", accept=ACCEPT_V1)
    assert len(ims.issued) == 1
    now[0] = 3600 - 60  # inside the renewal margin, not yet expired
    client.json("GET", "/x", accept=ACCEPT_V1)
    assert len(ims.issued) == 2
    assert client.auth.token_requests == 2


def test_a_401_renews_the_token_once_and_retries() -> None:
    ims = FakeIms()
    client = setup(ims, [0.0])
    client.json("GET", "/x", accept=ACCEPT_V1)
    ims.revoked.add(ims.issued[0])
    assert client.json("GET", "/x", accept=ACCEPT_V1) == {"ok": True}
    assert len(ims.issued) == 2


def test_a_second_401_is_final() -> None:
    ims = FakeIms()
    client = setup(ims, [0.0])

    def always_revoked(request: httpx.Request) -> httpx.Response:
        response = ims(request)
        if request.url.path != "/connect/token":
            return httpx.Response(401, json={"error": {"code": "Unauthorized", "message": "x"}})
        return response

    client.http = httpx.Client(transport=httpx.MockTransport(always_revoked))
    client.auth._http = client.http  # type: ignore[attr-defined]
    with pytest.raises(ApiError) as info:
        client.json("GET", "/x", accept=ACCEPT_V1)
    assert info.value.status == 401
    assert len(ims.issued) == 2


def test_concurrent_workers_share_one_token_request() -> None:
    ims = FakeIms()
    client = setup(ims, [0.0])
    threads = [
        threading.Thread(target=client.json, args=("GET", "/x"), kwargs={"accept": ACCEPT_V1})
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ims.api_calls == 8
    assert len(ims.issued) == 1


def test_refused_credentials_raise_without_the_secret() -> None:
    ims = FakeIms()
    client = setup(ims, [0.0], secret="wrong-" + SECRET)
    with pytest.raises(ApiError) as info:
        client.json("GET", "/x", accept=ACCEPT_V1)
    err = info.value
    assert (err.method, err.path, err.status, err.code) == (
        "POST",
        "/connect/token",
        401,
        "invalid_client",
    )
    assert SECRET not in str(err)
    assert SECRET not in (err.message or "")
    assert SECRET not in repr(client.auth)
    assert len(ims.forms) == 1  # a refusal is not retried


def test_token_endpoint_outage_is_retried() -> None:
    ims = FakeIms()
    calls = [0]

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/connect/token":
            calls[0] += 1
            if calls[0] == 1:
                raise httpx.ConnectError("down")
            if calls[0] == 2:
                return httpx.Response(503)
        return ims(request)

    client = setup(ims, [0.0])
    client.http = httpx.Client(transport=httpx.MockTransport(flaky))
    client.auth._http = client.http  # type: ignore[attr-defined]
    assert client.json("GET", "/x", accept=ACCEPT_V1) == {"ok": True}
    assert calls[0] == 3


def test_identity_from_the_jwt_payload() -> None:
    assert email_from_token(jwt({"email": " Alice@Contoso.COM "})) == "alice@contoso.com"
    assert email_from_token(jwt({"sub": "x"})) is None
    assert email_from_token("alice-token") is None
    assert email_from_token("a.%%%.c") is None
    assert email_from_token("a." + base64.urlsafe_b64encode(b"[1]").decode() + ".c") is None


def test_static_token_repr_hides_it() -> None:
    assert "abc123" not in repr(StaticToken("abc123"))
    with pytest.raises(ValueError, match="empty"):
        StaticToken("")


def test_default_token_urls() -> None:
    assert default_token_url("https://api.bentley.com") == "https://ims.bentley.com/connect/token"
    assert (
        default_token_url("https://qa-api.bentley.com")
        == "https://qa-ims.bentley.com/connect/token"
    )
    assert default_token_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/connect/token"


def test_connect_picks_the_auth_method() -> None:
    http = httpx.Client(base_url="http://127.0.0.1:9")
    assert isinstance(connect(http, token="t").auth, StaticToken)
    client = connect(http, client_id="a", client_secret="b", scope="s")
    assert isinstance(client.auth, ClientCredentials)
    assert client.auth.token_url == "http://127.0.0.1:9/connect/token"
    assert client.auth.scope == "s"
    with pytest.raises(ConfigError, match="ITWIN_ACCESS_TOKEN"):
        connect(http)


@pytest.mark.parametrize(
    ("given", "lacking"), [({"client_id": "ci"}, "secret"), ({"client_secret": "s3"}, "client id")]
)
def test_half_a_client_credential_names_what_is_missing(
    given: dict[str, str], lacking: str
) -> None:
    http = httpx.Client(base_url="http://127.0.0.1:9")
    with pytest.raises(ConfigError, match=f"its {lacking} is not") as caught:
        connect(http, **given)
    assert "s3" not in str(caught.value)  # never the secret itself
