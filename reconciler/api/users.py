"""Users API (contract C12): who the caller is. URLs and shapes only."""

from __future__ import annotations

from reconciler.api.client import ACCEPT_V1, JSON, ApiClient


class UsersApi:
    """``/users``: the caller's own user (``/users/me``)."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def me(self) -> JSON:
        """``GET /users/me``: the caller's user; a service application's own user account."""
        body = self.client.json("GET", "/users/me", accept=ACCEPT_V1)
        user = body.get("user")
        return user if isinstance(user, dict) else {}

    def my_email(self) -> str | None:
        """The caller's lower-cased email, or None when the answer has none."""
        email = self.me().get("email")
        if isinstance(email, str) and email.strip():
            return email.strip().lower()
        return None
