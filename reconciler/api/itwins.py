"""iTwins API v1 (contract §3): URLs and shapes only, no knowledge of manifests or plans."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.api.client import ACCEPT_V1, JSON, ApiClient

ITWINS_PAGE = 1000  # the documented maximum $top of iTwins lists
# X-Max-Return caps the whole pageable result (default 1000: paging past it silently returns
# nothing, contract §2.5); ask for the documented maximum.
MAX_RETURN = 10000
FULL = "return=representation"


class ItwinsApi:
    """``/itwins``: list, get, create, update, delete iTwins."""

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def list_pages(
        self,
        *,
        sub_classes: tuple[str, ...] = (),
        number: str | None = None,
        include_inactive: bool = True,
        query_scope: str | None = None,
    ) -> Iterator[list[JSON]]:
        """Pages of the caller's iTwins (full representation), largest page size.

        ``query_scope="all"`` (``X-iTwin-Query-Scope``) lists every iTwin of an organization
        administrator's organization, not only those it is a member of."""
        params: dict[str, str | int] = {}
        if sub_classes:
            params["subClass"] = ",".join(sub_classes)
        if number is not None:
            params["number"] = number
        if include_inactive:
            params["includeInactive"] = "true"
        headers = {"X-Max-Return": str(MAX_RETURN)}
        if query_scope:
            headers["X-iTwin-Query-Scope"] = query_scope
        return self.client.pages(
            "/itwins/",
            "iTwins",
            accept=ACCEPT_V1,
            top=ITWINS_PAGE,
            params=params,
            prefer=FULL,
            headers=headers,
        )

    def get(self, itwin_id: str) -> JSON:
        body = self.client.json("GET", f"/itwins/{itwin_id}", accept=ACCEPT_V1, prefer=FULL)
        return _object(body, "iTwin")

    def primary_account(self) -> JSON:
        """The caller's primary Account iTwin (its organization's root)."""
        body = self.client.json("GET", "/itwins/myprimaryaccount", accept=ACCEPT_V1)
        return _object(body, "iTwin")

    def create(self, fields: Mapping[str, Any]) -> JSON:
        body = self.client.json(
            "POST", "/itwins/", accept=ACCEPT_V1, json=dict(fields), prefer=FULL
        )
        return _object(body, "iTwin")

    def update(self, itwin_id: str, fields: Mapping[str, Any]) -> JSON:
        body = self.client.json(
            "PATCH", f"/itwins/{itwin_id}", accept=ACCEPT_V1, json=dict(fields), prefer=FULL
        )
        return _object(body, "iTwin")

    def delete(self, itwin_id: str) -> None:
        self.client.request("DELETE", f"/itwins/{itwin_id}", accept=ACCEPT_V1)


def _object(body: JSON, key: str) -> JSON:
    value = body.get(key)
    return value if isinstance(value, dict) else {}
