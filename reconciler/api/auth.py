"""Bearer tokens: a static one from the environment, or the OAuth2 client-credentials grant.

Secrets live only in these objects' private attributes. ``repr`` never shows them, and every
error raised here names the token endpoint and the OAuth error code, never a value sent to it.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from reconciler.errors import ApiError

# Renew this long before the server-stated expiry, so a token never expires mid-request.
RENEW_MARGIN_SECONDS = 120.0
DEFAULT_SCOPE = "itwin-platform"
DEFAULT_TOKEN_URL = "https://ims.bentley.com/connect/token"


class Auth(Protocol):
    """What the API client needs from an authentication method."""

    def token(self) -> str:
        """A currently valid access token (fetching or renewing it if needed)."""
        ...

    def invalidate(self) -> bool:
        """Forget the cached token after a 401; True when a fresh one can be obtained."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this object holds, so callers can scrub them from messages."""
        ...

    @property
    def token_requests(self) -> int:
        """How many token requests were sent (for request accounting)."""
        ...


def _claims(token: str) -> dict[str, Any]:
    """A JWT's claims, decoded without verification; empty for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


def issued_at_from_token(token: str) -> float | None:
    """A JWT's ``iat`` claim (seconds since the epoch), else None: the server's time when it
    issued the token, for judging invitation expiry when no response carried a Date."""
    iat = _claims(token).get("iat")
    return float(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else None


def email_from_token(token: str) -> str | None:
    """The lower-cased ``email`` claim of a JWT, decoded without verification, else None.

    Used only to learn who we are (BRIEF decision 2); opaque tokens simply have no identity.
    """
    email = _claims(token).get("email")
    if isinstance(email, str) and email.strip():
        return email.strip().lower()
    return None


class StaticToken:
    """A bearer token given directly (``ITWIN_ACCESS_TOKEN``); it cannot be renewed."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("empty access token")
        self._token = token

    def token(self) -> str:
        return self._token

    def invalidate(self) -> bool:
        return False

    def secrets(self) -> tuple[str, ...]:
        return (self._token,)

    @property
    def token_requests(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "StaticToken(<redacted>)"


class ClientCredentials:
    """The client-credentials grant of a service application (contract §2.2).

    The token is cached and shared by all threads; it is renewed ``RENEW_MARGIN_SECONDS``
    before its stated expiry, and once more on demand after a 401.
    """

    def __init__(
        self,
        http: httpx.Client,
        client_id: str,
        client_secret: str,
        *,
        token_url: str = DEFAULT_TOKEN_URL,
        scope: str = DEFAULT_SCOPE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not client_id or not client_secret:
            raise ValueError("client id and client secret are both required")
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url
        self.scope = scope
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self._count = 0

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, scope={self.scope!r})"

    @property
    def token_requests(self) -> int:
        return self._count

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._client_secret, self._token) if s)

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def token(self) -> str:
        # One lock around fetch: concurrent workers wait for a single token request instead of
        # each sending their own.
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._token, lifetime = self._fetch()
                self._renew_at = self._clock() + max(lifetime - RENEW_MARGIN_SECONDS, 0.0)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        path = httpx.URL(self.token_url).path or "/"
        data = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "scope": self.scope,
        }
        self._count += 1
        try:
            response = self._http.post(
                self.token_url, data=data, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            # The exception text names the URL only; our form data is never part of it.
            raise ApiError("POST", path, None, type(exc).__name__, "token request failed") from exc
        body: object = None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            code, message = None, None
            if isinstance(body, dict):
                error = body.get("error")
                if isinstance(error, str):  # OAuth style: {"error": "...", "error_description"}
                    code = error
                    desc = body.get("error_description")
                    message = desc if isinstance(desc, str) else None
                elif isinstance(error, dict):  # platform envelope
                    code = error.get("code") if isinstance(error.get("code"), str) else None
                    msg = error.get("message")
                    message = msg if isinstance(msg, str) else None
            raise ApiError("POST", path, response.status_code, code, self._scrub(message))
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ApiError("POST", path, 200, None, "token response has no access_token")
        expires_in = body.get("expires_in", 3600)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        return body["access_token"], lifetime

    def _scrub(self, text: str | None) -> str | None:
        if text is None:
            return None
        for secret in (self._client_secret, self._token):
            if secret:
                text = text.replace(secret, "<redacted>")
        return text
