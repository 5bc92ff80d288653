"""Helpers for the emulator tests: a thin wrapper over a TestClient with the demo seed."""

from __future__ import annotations

from typing import Any

import httpx

V1 = "application/vnd.bentley.itwin-platform.v1+json"
V2 = "application/vnd.bentley.itwin-platform.v2+json"
AC = "/accesscontrol/itwins"
VIEW = ["imodels_read", "imodels_webview"]


def h(token: str | None, version: int | None = None, **extra: str) -> dict[str, str]:
    headers = dict(extra)
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if version is not None:
        headers["Accept"] = V1 if version == 1 else V2
    return headers


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def error_target(response: httpx.Response) -> str | None:
    error = response.json()["error"]
    if error.get("details"):
        target: str | None = error["details"][0].get("target")
        return target
    return error.get("target")  # type: ignore[no-any-return]


class Emu:
    """Calls the emulator as the demo users: alice (org admin), bob, xena (Fabrikam)."""

    def __init__(self, client: httpx.Client) -> None:
        self.c = client

    def app_token(self, client_id: str = "itwin-access-demo", secret: str = "demo-secret") -> str:
        r = self.c.post(
            "/connect/token",
            data={"grant_type": "client_credentials", "client_id": client_id,
                  "client_secret": secret, "scope": "itwin-platform"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    def itwin(self, token: str = "alice-token", **fields: Any) -> dict[str, Any]:
        body = {"class": "Endeavor", "subClass": "Project", "displayName": "Bridge", **fields}
        r = self.c.post("/itwins/", json=body, headers=h(token))
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()["iTwin"]
        return out

    def role(
        self, itwin_id: str, name: str = "Viewer", permissions: list[str] | None = None,
        token: str = "alice-token",
    ) -> str:  # fmt: skip
        r = self.c.post(f"{AC}/{itwin_id}/roles", json={"displayName": name, "description": name},
                        headers=h(token, 2))  # fmt: skip
        assert r.status_code == 201, r.text
        role_id: str = r.json()["role"]["id"]
        if permissions:
            r = self.c.patch(f"{AC}/{itwin_id}/roles/{role_id}", json={"permissions": permissions},
                             headers=h(token, 2))  # fmt: skip
            assert r.status_code == 200, r.text
        return role_id

    def add_users(
        self, itwin_id: str, members: list[dict[str, Any]], token: str = "alice-token"
    ) -> httpx.Response:
        return self.c.post(f"{AC}/{itwin_id}/members/users", json={"members": members},
                           headers=h(token, 2))  # fmt: skip

    def member(self, itwin_id: str, email: str, role_ids: list[str]) -> dict[str, Any]:
        r = self.add_users(itwin_id, [{"email": email, "roleIds": role_ids}])
        assert r.status_code == 201, r.text
        assert r.json()["members"], r.text
        out: dict[str, Any] = r.json()["members"][0]
        return out
