"""Wire shapes (contract §3.1, §4): database rows -> JSON objects with the exact field names."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reconciler.emulator.clock import iso

MINIMAL_ITWIN = ("id", "class", "subClass", "type", "number", "displayName", "iTwinAccountId")


def itwin_json(row: sqlite3.Row, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "class": row["class"],
        "subClass": row["sub_class"],
        "type": row["type"],
        "number": row["number"],
        "displayName": row["display_name"],
        "iTwinAccountId": row["account_id"],
    }
    if full:
        out.update(
            {
                "geographicLocation": row["geographic_location"],
                "latitude": row["latitude"],
                "longitude": row["longitude"],
                "ianaTimeZone": row["iana_time_zone"],
                "dataCenterLocation": row["data_center_location"],
                "status": row["status"],
                "parentId": row["parent_id"],
                "imageName": row["image_name"],
                "image": row["image"],
                "createdDateTime": row["created"],
                "createdBy": row["created_by"],
                "lastModifiedDateTime": row["modified"],
                "lastModifiedBy": row["modified_by"],
            }
        )
    return out


def role_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "displayName": row["display_name"],
        "description": row["description"],
        "permissions": json.loads(row["permissions"]),
        "type": row["type"],
    }


RoleMap = dict[str, dict[str, Any]]


def role_map(db: sqlite3.Connection, itwin: sqlite3.Row) -> RoleMap:
    """Role summaries (id, displayName, description) assignable on an iTwin: its own roles
    and those of its Account iTwin."""
    ids = (itwin["id"], itwin["account_id"] or itwin["id"])
    rows = db.execute(
        "SELECT id, display_name, description FROM roles WHERE itwin_id IN (?, ?) ORDER BY seq",
        ids,
    ).fetchall()
    return {
        r["id"]: {"id": r["id"], "displayName": r["display_name"], "description": r["description"]}
        for r in rows
    }


def role_summaries(roles: RoleMap, role_ids_json: str) -> list[dict[str, Any]]:
    return [roles[rid] for rid in json.loads(role_ids_json) if rid in roles]


class RoleSummaries:
    """Memoised ``role_summaries`` for one response: members of a page mostly share a few
    role combinations, so each distinct ``role_ids`` string is decoded once (list pages are the
    emulator's hot path)."""

    __slots__ = ("_memo", "roles")

    def __init__(self, roles: RoleMap) -> None:
        self.roles = roles
        self._memo: dict[str, list[dict[str, Any]]] = {}

    def __call__(self, role_ids_json: str) -> list[dict[str, Any]]:
        hit = self._memo.get(role_ids_json)
        if hit is None:
            hit = self._memo[role_ids_json] = role_summaries(self.roles, role_ids_json)
        return hit


def user_members_page(rows: list[tuple[Any, ...]], roles: RoleMap) -> list[dict[str, Any]]:
    """User members from plain tuples ``(user_id, role_ids, email, given_name, surname, org)``
    (the column order of ``access.members.USER_COLUMNS``)."""
    summaries = RoleSummaries(roles)
    return [
        {
            "id": r[0],
            "email": r[2],
            "givenName": r[3],
            "surname": r[4],
            "organization": r[5],
            "roles": summaries(r[1]),
        }
        for r in rows
    ]


def person_json(row: sqlite3.Row, id_key: str = "id") -> dict[str, Any]:
    """A user as Access Control shows it; a user deleted from the directory ("missing user")
    keeps its id and shows null email, givenName, surname and organization (contract §2.6)."""
    return {
        id_key: row["user_id"],
        "email": row["email"],
        "givenName": row["given_name"],
        "surname": row["surname"],
        "organization": row["org"],
    }


def user_member_json(row: sqlite3.Row, roles: RoleMap) -> dict[str, Any]:
    out = person_json(row)
    out["roles"] = role_summaries(roles, row["role_ids"])
    return out


def group_member_json(row: sqlite3.Row, roles: RoleMap) -> dict[str, Any]:
    return {
        "id": row["group_id"],
        "groupName": row["name"],
        "groupDescription": row["description"],
        "roles": role_summaries(roles, row["role_ids"]),
    }


def invitation_json(row: sqlite3.Row, roles: RoleMap | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "email": row["email"],
        "invitedByEmail": row["inviter_email"],
        "status": row["status"],
        "createdDate": iso(row["created"]),
        "expirationDate": iso(row["expires"]),
    }
    if roles is not None:
        out["roles"] = [
            {"id": r["id"], "displayName": r["displayName"]}
            for r in role_summaries(roles, row["role_ids"])
        ]
    return out
