"""Projects API v1, deprecated (contract §5): URLs and shapes only, no knowledge of manifests.

Reads ask for ``Prefer: return=representation``: projects then carry every field, and members
carry their roles as objects (with ids) instead of bare role names (contract §7.9).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler.api.client import ACCEPT_V1, JSON, ApiClient

BASE = "/projects"
# Contract §5: members lists accept $top up to 100; the same page size is used for projects
# (their maximum is not documented).
PROJECTS_PAGE = 100
FULL = "return=representation"


class ProjectsApi:
    """``/projects``: projects, their roles, and their team members (one per request)."""

    def __init__(self, client: ApiClient, *, page_size: int = PROJECTS_PAGE) -> None:
        self.client = client
        self.page_size = page_size

    def _send(self, method: str, path: str, body: Any = None, *, ambiguous: bool = True) -> JSON:
        return self.client.json(
            method, BASE + path, accept=ACCEPT_V1, json=body, prefer=FULL, ambiguous_retry=ambiguous
        )

    # ------------------------------------------------------------------ projects

    def list_pages(self, *, number: str | None = None) -> Iterator[list[JSON]]:
        """Pages of the caller's projects (full representation); ``number``: exact match."""
        params: dict[str, str | int] = {}
        if number is not None:
            params["projectNumber"] = number
        return self.client.pages(
            BASE + "/", "projects", accept=ACCEPT_V1, top=self.page_size, params=params, prefer=FULL
        )

    def get(self, project_id: str) -> JSON:
        return _obj(self._send("GET", f"/{project_id}"), "project")

    def create(self, fields: Mapping[str, Any]) -> JSON:
        # The project number is unique: a POST resent after an ambiguous failure cannot create a
        # twin, but it would fail with a conflict; the caller looks the project up instead.
        return _obj(self._send("POST", "/", dict(fields), ambiguous=False), "project")

    def update(self, project_id: str, fields: Mapping[str, Any]) -> JSON:
        return _obj(self._send("PATCH", f"/{project_id}", dict(fields)), "project")

    def delete(self, project_id: str) -> None:
        self._send("DELETE", f"/{project_id}")

    def my_permissions(self, project_id: str) -> list[str]:
        body = self._send("GET", f"/{project_id}/permissions")
        return [p for p in body.get("permissions") or [] if isinstance(p, str)]

    # ------------------------------------------------------------------ roles

    def roles(self, project_id: str) -> list[JSON]:
        return _dicts(self._send("GET", f"/{project_id}/roles").get("roles"))

    def create_role(self, project_id: str, display_name: str, description: str | None) -> JSON:
        body: dict[str, Any] = {"displayName": display_name}
        if description is not None:
            body["description"] = description
        # Role names are not unique server-side: no blind resend (the caller checks the list).
        return _obj(self._send("POST", f"/{project_id}/roles", body, ambiguous=False), "role")

    def update_role(self, project_id: str, role_id: str, fields: Mapping[str, Any]) -> JSON:
        return _obj(self._send("PATCH", f"/{project_id}/roles/{role_id}", dict(fields)), "role")

    def delete_role(self, project_id: str, role_id: str) -> None:
        self._send("DELETE", f"/{project_id}/roles/{role_id}")

    # ------------------------------------------------------------------ team members

    def members(self, project_id: str) -> list[JSON]:
        return self.client.collect(
            f"{BASE}/{project_id}/members",
            "members",
            accept=ACCEPT_V1,
            top=self.page_size,
            prefer=FULL,
        )

    def add_member(self, project_id: str, email: str, role_names: Sequence[str]) -> JSON:
        """One member per request (contract §5); the API adds the "Team Member" role itself."""
        body = {"email": email, "roleNames": list(role_names)}
        return _obj(self._send("POST", f"/{project_id}/members", body), "member")

    def update_member(self, project_id: str, member_id: str, role_ids: Sequence[str]) -> JSON:
        body = {"roleIds": list(role_ids)}
        return _obj(self._send("PATCH", f"/{project_id}/members/{member_id}", body), "member")

    def remove_member(self, project_id: str, member_id: str) -> None:
        self._send("DELETE", f"/{project_id}/members/{member_id}")


def _obj(body: JSON, key: str) -> JSON:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
