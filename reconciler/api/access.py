"""Access Control API v2 (contract §4): URLs and shapes only, no knowledge of manifests.

Paths are under ``/accesscontrol/itwins``; every request sends the v2 Accept header.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.api.client import ACCEPT_V2, JSON, ApiClient
from reconciler.errors import Unprocessable

BASE = "/accesscontrol/itwins"
# The contract states no maximum $top for Access Control lists (out of range -> 422 targeting
# "$top"). 1000 is the largest the emulator accepts (the platform's generic maximum, contract
# §2.5); if a server refuses it, lists fall back to 100, the size of the docs' examples.
ACCESS_PAGE = 1000
FALLBACK_PAGE = 100


class AccessControlApi:
    """Permissions, roles, user/group members, owners, groups and invitations of an iTwin."""

    def __init__(self, client: ApiClient, *, page_size: int = ACCESS_PAGE) -> None:
        self.client = client
        self.page_size = page_size

    def _get(self, path: str) -> JSON:
        return self.client.json("GET", BASE + path, accept=ACCEPT_V2)

    def _list(self, path: str, key: str) -> list[JSON]:
        try:
            return self.client.collect(BASE + path, key, accept=ACCEPT_V2, top=self.page_size)
        except Unprocessable as exc:
            if exc.target == "$top" and self.page_size > FALLBACK_PAGE:
                self.page_size = FALLBACK_PAGE  # sticky: one refusal per run, not per list
                return self._list(path, key)
            raise

    def _send(self, method: str, path: str, body: Any = None, *, ambiguous: bool = True) -> JSON:
        return self.client.json(
            method, BASE + path, accept=ACCEPT_V2, json=body, ambiguous_retry=ambiguous
        )

    # ------------------------------------------------------------------ permissions

    def all_permissions(self) -> list[str]:
        return _strings(self._get("/permissions").get("permissions"))

    def my_permissions(self, itwin_id: str) -> list[str]:
        return _strings(self._get(f"/{itwin_id}/permissions").get("permissions"))

    # ------------------------------------------------------------------ roles

    def roles(self, itwin_id: str) -> list[JSON]:
        # Not paged (contract §4: "no paging params").
        return _dicts(self._get(f"/{itwin_id}/roles").get("roles"))

    def create_role(self, itwin_id: str, display_name: str, description: str) -> JSON:
        # Role names are not unique server-side, so a POST resent after an ambiguous failure
        # could create a twin: the caller checks the list before resending.
        body = {"displayName": display_name, "description": description}
        return _obj(self._send("POST", f"/{itwin_id}/roles", body, ambiguous=False), "role")

    def update_role(self, itwin_id: str, role_id: str, fields: Mapping[str, Any]) -> JSON:
        return _obj(self._send("PATCH", f"/{itwin_id}/roles/{role_id}", dict(fields)), "role")

    def delete_role(self, itwin_id: str, role_id: str) -> None:
        self._send("DELETE", f"/{itwin_id}/roles/{role_id}")

    # ------------------------------------------------------------------ user members

    def user_members(self, itwin_id: str) -> list[JSON]:
        return self._list(f"/{itwin_id}/members/users", "members")

    def add_user_members(self, itwin_id: str, members: Sequence[tuple[str, Sequence[str]]]) -> JSON:
        """POST members as ``(email, roleIds)``; returns ``{"members": [...], "invitations"}``."""
        body = {"members": [{"email": e, "roleIds": list(r)} for e, r in members]}
        return self._send("POST", f"/{itwin_id}/members/users", body)

    def update_user_member(self, itwin_id: str, member_id: str, role_ids: Sequence[str]) -> JSON:
        path = f"/{itwin_id}/members/users/{member_id}"
        return _obj(self._send("PATCH", path, {"roleIds": list(role_ids)}), "member")

    def remove_user_member(self, itwin_id: str, member_id: str) -> None:
        self._send("DELETE", f"/{itwin_id}/members/users/{member_id}")

    # ------------------------------------------------------------------ group members

    def group_members(self, itwin_id: str) -> list[JSON]:
        return self._list(f"/{itwin_id}/members/groups", "members")

    def add_group_members(
        self, itwin_id: str, members: Sequence[tuple[str, Sequence[str]]]
    ) -> JSON:
        """POST group members as ``(groupId, roleIds)``."""
        body = {"members": [{"groupId": g, "roleIds": list(r)} for g, r in members]}
        return self._send("POST", f"/{itwin_id}/members/groups", body)

    def update_group_member(self, itwin_id: str, group_id: str, role_ids: Sequence[str]) -> JSON:
        path = f"/{itwin_id}/members/groups/{group_id}"
        return _obj(self._send("PATCH", path, {"roleIds": list(role_ids)}), "member")

    def remove_group_member(self, itwin_id: str, group_id: str) -> None:
        self._send("DELETE", f"/{itwin_id}/members/groups/{group_id}")

    # ------------------------------------------------------------------ owners

    def owners(self, itwin_id: str) -> list[JSON]:
        return self._list(f"/{itwin_id}/members/owners", "members")

    def add_owner(self, itwin_id: str, email: str) -> JSON:
        """Returns ``{"member": owner|None, "invitation": invitation|None}``."""
        return self._send("POST", f"/{itwin_id}/members/owners", {"email": email})

    def remove_owner(self, itwin_id: str, member_id: str) -> None:
        self._send("DELETE", f"/{itwin_id}/members/owners/{member_id}")

    # ------------------------------------------------------------------ groups

    def groups(self, itwin_id: str) -> list[JSON]:
        return self._list(f"/{itwin_id}/groups", "groups")

    def create_group(self, itwin_id: str, name: str, description: str) -> JSON:
        body = {"name": name, "description": description}
        return _obj(self._send("POST", f"/{itwin_id}/groups", body, ambiguous=False), "group")

    def update_group(self, itwin_id: str, group_id: str, fields: Mapping[str, Any]) -> JSON:
        return _obj(self._send("PATCH", f"/{itwin_id}/groups/{group_id}", dict(fields)), "group")

    def delete_group(self, itwin_id: str, group_id: str) -> None:
        self._send("DELETE", f"/{itwin_id}/groups/{group_id}")

    # ------------------------------------------------------------------ invitations

    def invitations(self, itwin_id: str) -> list[JSON]:
        return self._list(f"/{itwin_id}/members/invitations", "invitations")

    def group_invitations(self, itwin_id: str, group_id: str) -> list[JSON]:
        return self._list(f"/{itwin_id}/groups/{group_id}/invitations", "invitations")

    def cancel_invitation(self, itwin_id: str, invitation_id: str) -> None:
        self._send("DELETE", f"/{itwin_id}/members/invitations/{invitation_id}")

    # ------------------------------------------------------------------ jobs

    def create_job(self, itwin_id: str, actions: Mapping[str, Sequence[JSON]]) -> JSON:
        """POST a bulk job (``assignRoles``, ``unassignRoles``, ``removeMembers``; at most
        ``JOB_ACTIONS`` entries each); returns ``{"id","itwinId","status"}`` (C8: unwrapped;
        an enveloped ``{"job": ...}`` is read too). Resent after an ambiguous failure like any
        request: its actions are idempotent (assigning or unassigning again changes nothing),
        except that removing again answers ``TeamMemberNotFound``, which the caller counts
        as done."""
        body = {"actions": {k: list(v) for k, v in actions.items() if v}}
        return _job(self._send("POST", f"/{itwin_id}/jobs", body))

    def get_job(self, itwin_id: str, job_id: str) -> JSON:
        """The job with its ``error`` list (``Prefer: return=representation``, C8)."""
        body = self.client.json(
            "GET", f"{BASE}/{itwin_id}/jobs/{job_id}", accept=ACCEPT_V2,
            prefer="return=representation",
        )  # fmt: skip
        return _job(body)

    def job_actions(self, itwin_id: str, job_id: str) -> JSON:
        """``{"assignRoles": [{email, roleIds, status, error?}], ...}``: each action's fate."""
        return _obj(self._get(f"/{itwin_id}/jobs/{job_id}/actions"), "actions")


# contract §4: at most 100 entries per action group of a job (and 100 role ids per entry).
JOB_ACTIONS = 100


def _job(body: JSON) -> JSON:
    inner = body.get("job")
    return inner if isinstance(inner, dict) else body


def _obj(body: JSON, key: str) -> JSON:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[JSON]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _strings(value: object) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []
