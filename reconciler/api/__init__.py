"""HTTP access to the iTwin Platform: auth, pacing, retries, paging, one wrapper per API.

Knows URLs and wire shapes only; nothing of manifests, plans or the CLI (import-linter).

    connect(http, token=...)                     -> ApiClient   (bearer token given)
    connect(http, client_id=..., client_secret=...) -> ApiClient (client-credentials grant)
    ItwinsApi(client), AccessControlApi(client), UsersApi(client)  thin wrappers
"""

from __future__ import annotations

import httpx

from reconciler.api.access import AccessControlApi
from reconciler.api.auth import (
    DEFAULT_SCOPE,
    DEFAULT_TOKEN_URL,
    Auth,
    ClientCredentials,
    StaticToken,
    email_from_token,
    issued_at_from_token,
)
from reconciler.api.client import (
    ACCEPT_V1,
    ACCEPT_V2,
    DEFAULT_MAX_WAIT,
    ApiClient,
    RequestEvent,
    RequestStats,
)
from reconciler.api.concurrency import DEFAULT_CONCURRENCY, bounded_imap, bounded_map
from reconciler.api.itwins import ItwinsApi
from reconciler.api.limits import Pacer, Pacers, RateLimiter, RetryPolicy, pacer
from reconciler.api.pacing import WAIT_CAP, AdaptivePacer, WaitBudget
from reconciler.api.users import UsersApi
from reconciler.errors import ConfigError

# Issue 17: the pace follows the server (api/limits.py): Standard for Bentley's hosts, none for
# an emulator that declares no limit.
DEFAULT_RATE_LIMIT = "auto"

__all__ = [
    "ACCEPT_V1",
    "ACCEPT_V2",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_MAX_WAIT",
    "DEFAULT_RATE_LIMIT",
    "WAIT_CAP",
    "AccessControlApi",
    "AdaptivePacer",
    "ApiClient",
    "Auth",
    "ClientCredentials",
    "ItwinsApi",
    "Pacer",
    "Pacers",
    "RateLimiter",
    "RequestEvent",
    "RequestStats",
    "RetryPolicy",
    "StaticToken",
    "UsersApi",
    "WaitBudget",
    "bounded_imap",
    "bounded_map",
    "connect",
    "default_token_url",
    "email_from_token",
    "issued_at_from_token",
    "pacer",
]


def connect(
    http: httpx.Client,
    *,
    base_url: str | None = None,
    token: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    token_url: str | None = None,
    scope: str = DEFAULT_SCOPE,
    rate_limit: float | str | None = DEFAULT_RATE_LIMIT,
    retry: RetryPolicy | None = None,
    max_wait: float = DEFAULT_MAX_WAIT,
) -> ApiClient:
    """An ``ApiClient`` over ``http``: a given bearer ``token`` wins, else client credentials.

    ``token_url`` defaults per ``default_token_url``; ``rate_limit`` is requests per minute, a
    tier (``community``, ``standard``), ``auto`` (by host, see ``limits.pacer``) or None (no
    client-side pace); on top of it the client's ``AdaptivePacer`` slows down on 429s (and
    their tier header) and speeds up again. ``max_wait`` caps the seconds one run waits.
    """
    root = (base_url if base_url is not None else str(http.base_url)).rstrip("/")
    auth: Auth
    if token:
        auth = StaticToken(token)
    elif client_id and client_secret:
        url = token_url or default_token_url(root)
        auth = ClientCredentials(http, client_id, client_secret, token_url=url, scope=scope)
    elif client_id or client_secret:
        # Half a service-application credential is a typo in CI settings, not "no credentials".
        have, lack = ("client id", "secret") if client_id else ("secret", "client id")
        raise ConfigError(
            f"a service application {have} is set but its {lack} is not: set both "
            "ITWIN_CLIENT_ID and ITWIN_CLIENT_SECRET (or ITWIN_ACCESS_TOKEN instead)"
        )
    else:
        raise ConfigError(
            "no credentials: set ITWIN_ACCESS_TOKEN, or ITWIN_CLIENT_ID and ITWIN_CLIENT_SECRET"
        )
    adaptive = AdaptivePacer(limiter=pacer(rate_limit, root))
    return ApiClient(http, auth, base_url=root, retry=retry, pacer=adaptive, max_wait=max_wait)


def default_token_url(base_url: str) -> str:
    """Bentley IMS for Bentley's API hosts (keeping a ``dev-``/``qa-`` prefix); otherwise
    ``{base_url}/connect/token``, the emulator's layout (BRIEF decision 3)."""
    host = httpx.URL(base_url).host if base_url else ""
    if not host or host.endswith("api.bentley.com"):
        prefix = host[: -len("api.bentley.com")] if host else ""
        return DEFAULT_TOKEN_URL.replace("://ims.", f"://{prefix}ims.")
    return f"{base_url.rstrip('/')}/connect/token"
