"""What both targets share: the client they talk through, the applying identity, how requests
are counted, and how an organization administrator is recognised.

``ClientTarget`` is the base of ``ItwinsTarget`` and ``ProjectsTarget``; what differs between
them (finding projects, reading, writing) stays in their own modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import httpx

from reconciler.api import (
    DEFAULT_RATE_LIMIT,
    AccessControlApi,
    ApiClient,
    ClientCredentials,
    ItwinsApi,
    UsersApi,
    connect,
    email_from_token,
)
from reconciler.errors import ApiError, Forbidden, NotFound, Unauthorized
from reconciler.plan.operations import Operation


class ClientTarget:
    """A target over one ``ApiClient``; ``identity`` (an email) is the applying identity when
    the config names it, else it is learnt from the token or the Users API. Gives the
    defaults of ``reconciler.cli.backend.Backend`` that a backend does not override."""

    # Members one add request may carry; None: the plan's default batching.
    members_per_request: int | None = None

    def __init__(self, client: ApiClient, *, identity: str | None = None) -> None:
        self.client = client
        self._identity = identity.strip().lower() if identity else None
        self._identity_read = False
        # Project number -> members the last read left out (a backend that leaves some out).
        self.left_out: dict[str, list[str]] = {}

    @property
    def notices(self) -> tuple[str, ...]:
        """What the run should tell the user once, after it; none by default."""
        return ()

    def secrets(self) -> tuple[str, ...]:
        """Every secret the client holds, to scrub from any output."""
        return tuple(s for s in self.client.auth.secrets() if s)

    def job_batches(self, operations: Sequence[Operation]) -> dict[str, int]:
        """No bulk jobs by default: every operation is its own request (or add batch)."""
        del operations
        return {}

    @classmethod
    def connect(
        cls,
        http: httpx.Client,
        *,
        base_url: str | None = None,
        token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_url: str | None = None,
        scope: str = "itwin-platform",
        rate_limit: float | str | None = DEFAULT_RATE_LIMIT,
        **options: Any,
    ) -> Self:
        """A target over ``http`` at ``base_url`` (default: the client's own base URL);
        ``options`` (identity, concurrency, ...) go to the constructor."""
        client = connect(
            http,
            base_url=base_url,
            token=token,
            client_id=client_id,
            client_secret=client_secret,
            token_url=token_url,
            scope=scope,
            rate_limit=rate_limit,
        )
        return cls(client, **options)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.client!r})"

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (retries included), token requests included."""
        return self.client.stats.requests + self.client.auth.token_requests

    def service_app(self) -> bool:
        """Whether the client signs in as a service application (client credentials)."""
        return isinstance(self.client.auth, ClientCredentials)

    def warm(self) -> None:
        """Learn now what every read begins with (here: the applying identity, and so the
        token), so that a caller can overlap it with other work; a read after it reuses it."""
        self.identity()

    def identity(self) -> str | None:
        """The applying identity, learnt once per target: the config's ``identity`` (an
        override), else the token's ``email`` claim, else ``GET /users/me`` (opaque tokens and
        service tokens without an email claim; contract C12). None when none of them says."""
        if not self._identity_read:
            self._identity_read = True
            if self._identity is None:
                self._identity = email_from_token(self.client.auth.token()) or self._me()
        return self._identity

    def _me(self) -> str | None:
        try:
            return UsersApi(self.client).my_email()
        except ApiError as exc:
            if isinstance(exc, Unauthorized | Forbidden | NotFound):
                return None  # no Users API here, or not for this token
            raise


def holds_every_permission(client: ApiClient, known: frozenset[str]) -> bool:
    """Whether the caller administers its organization, read as "holds every permission on
    its primary Account iTwin" (org admins control every iTwin of the organization without
    a role, contract §2.2). [I] No endpoint states it directly. Two requests; any refusal
    means no."""
    try:
        account = ItwinsApi(client).primary_account()
        held = set(AccessControlApi(client).my_permissions(str(account["id"])))
    except (ApiError, KeyError):
        held = set()
    return bool(known) and known <= held
