"""Access Control v2 groups (contract §4): CRUD, members as emails (full replacement), IMS
groups, and group-member invitations for users outside the caller's organization.

[I] Listing and reading groups is allowed to org admins and to holders of
``administration_manage_groups`` (so owners too): the docs say "org admins only", but then an
owner could create a group it cannot read back (contract §7.15).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator import records
from reconciler.emulator.access.members import adds_directly
from reconciler.emulator.errors import (
    MSG_BAD_BODY,
    MSG_GROUP_NOT_FOUND,
    MSG_MEMBER_NOT_FOUND,
    MSG_TOO_MANY,
    ApiError,
    forbidden,
    invalid,
    json_response,
    no_content,
    text_field,
)
from reconciler.emulator.policy import ac_itwin, is_org_admin, permissions_of, require
from reconciler.emulator.web import Api, Req, op

CODE = "InvalidiTwinsGroupRequest"
BASE = "/accesscontrol/itwins/{itwin_id}/groups"
MAX_GROUP_ITEMS = 50


def group_json(db: sqlite3.Connection, group: sqlite3.Row, capped: bool = True) -> dict[str, Any]:
    """A group; ``members`` and ``imsGroups`` are capped at 50 each unless ``capped`` is False
    (a list sent with paging parameters, contract C5)."""
    cap = MAX_GROUP_ITEMS if capped else -1  # SQLite: LIMIT -1 is no limit
    users = db.execute(
        "SELECT gu.user_id, u.email, u.given_name, u.surname, u.org FROM group_users gu "
        "LEFT JOIN users u ON u.id = gu.user_id WHERE gu.group_id=? ORDER BY gu.seq LIMIT ?",
        (group["id"], cap),
    ).fetchall()
    ims = json.loads(group["ims_groups"])
    return {
        "id": group["id"],
        "name": group["name"],
        "description": group["description"],
        "members": [
            {
                "userId": u["user_id"],
                "email": u["email"],
                "givenName": u["given_name"],
                "surname": u["surname"],
                "organization": u["org"],
            }
            for u in users
        ],
        "imsGroups": ims[:MAX_GROUP_ITEMS] if capped else ims,
    }


def group_of(req: Req, itwin: sqlite3.Row) -> sqlite3.Row:
    unknown = ApiError(404, "GroupNotFound", MSG_GROUP_NOT_FOUND)
    return records.row_in_itwin(req.db, "groups", req.params["group_id"], itwin["id"], unknown)


def _managing_itwin(req: Req) -> sqlite3.Row:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    if itwin["class"] == "Account":
        if not is_org_admin(req.caller, itwin):  # Account-iTwin groups: org admins only
            raise forbidden()
    else:
        require(req.db, req.caller, itwin, "administration_manage_groups")
    return itwin


def list_groups(req: Req) -> Response:
    itwin = _managing_itwin(req)
    paged = req.q("$top") is not None or req.q("$skip") is not None
    skip, top = req.paging(CODE)
    rows = req.db.execute(
        "SELECT * FROM groups WHERE itwin_id=? ORDER BY seq LIMIT ? OFFSET ?",
        (itwin["id"], top + 1, skip),
    ).fetchall()
    # Paging parameters lift the 50-item cap of members/imsGroups (contract C5).
    groups = [group_json(req.db, r, capped=not paged) for r in rows[:top]]
    body: dict[str, Any] = {"groups": groups}
    if paged:  # `_links` only when paging parameters were sent (client CHANGELOG 4.1.0)
        body["_links"] = req.links(skip, top, len(rows) > top)
    return json_response(body)


def get_group(req: Req) -> Response:
    itwin = _managing_itwin(req)
    return json_response({"group": group_json(req.db, group_of(req, itwin))})


def _check_unique(req: Req, itwin_id: str, name: str, group_id: str | None) -> None:
    row = req.db.execute(
        "SELECT 1 FROM groups WHERE itwin_id=? AND name=? COLLATE NOCASE AND id IS NOT ?",
        (itwin_id, name, group_id),
    ).fetchone()
    if row is not None:  # [I] the client's test accepts 409 or 422; we answer 422
        raise invalid(CODE, "InvalidValue", "A group with this name already exists.", "name")


def _string_list(body: dict[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY, name)
    if len(value) > MAX_GROUP_ITEMS:
        raise invalid(CODE, "InvalidProperty", MSG_TOO_MANY, name)
    return list(dict.fromkeys(v.strip() for v in value))


def _set_members(req: Req, itwin: sqlite3.Row, group_id: str, emails: list[str]) -> None:
    """Full replacement of a group's members; outsiders get group-member invitations."""
    caller = req.caller
    users: list[tuple[str, sqlite3.Row]] = []
    for i, email in enumerate(emails):
        user = records.find_user(req.db, email)
        if user is None:  # unknown email (contract §4: 404 TeamMemberNotFound)
            raise ApiError(404, "TeamMemberNotFound", MSG_MEMBER_NOT_FOUND, target=f"members[{i}]")
        users.append((email, user))
    current = {
        r[0]
        for r in req.db.execute("SELECT user_id FROM group_users WHERE group_id=?", (group_id,))
    }
    wanted_direct = {u["id"] for _, u in users if adds_directly(caller, u)}
    # Listed members stay, even those this caller could only have invited (a service app
    # listing someone who accepted its invitation): only the unlisted are removed.
    unlisted = current - {u["id"] for _, u in users}
    held = permissions_of(req.db, caller, itwin)
    adding = bool(wanted_direct - current) or any(not adds_directly(caller, u) for _, u in users)
    if adding and "administration_invite_member" not in held:
        raise forbidden()
    if unlisted and "administration_remove_member" not in held:
        raise forbidden()
    for user_id in unlisted:
        req.db.execute(
            "DELETE FROM group_users WHERE group_id=? AND user_id=?", (group_id, user_id)
        )
    for email, user in users:
        if adds_directly(caller, user):
            req.db.execute(
                "INSERT OR IGNORE INTO group_users(group_id, user_id) VALUES (?,?)",
                (group_id, user["id"]),
            )
        elif user["id"] not in current:
            records.upsert_invitation(
                req.db, itwin_id=itwin["id"], kind="group", email=email, role_ids=[],
                inviter_id=caller.id, inviter_email=caller.email, now=req.now, group_id=group_id,
            )  # fmt: skip
    # Pending invitations of people no longer listed are withdrawn.
    listed = {e.lower() for e, _ in users}
    for inv in req.db.execute(
        "SELECT id, email FROM invitations WHERE group_id=?", (group_id,)
    ).fetchall():
        if inv["email"].lower() not in listed:
            req.db.execute("DELETE FROM invitations WHERE id=?", (inv["id"],))


def _apply(req: Req, itwin: sqlite3.Row, group_id: str, body: dict[str, Any]) -> None:
    members = _string_list(body, "members")
    ims = _string_list(body, "imsGroups")
    if members is not None:
        _set_members(req, itwin, group_id, members)
    if ims is not None:
        # Like members: adding IMS groups needs administration_invite_member, removing
        # needs administration_remove_member (contract §4, PATCH groups).
        row = req.db.execute("SELECT ims_groups FROM groups WHERE id=?", (group_id,)).fetchone()
        current = set(json.loads(row[0])) if row is not None else set()
        held = permissions_of(req.db, req.caller, itwin)
        if set(ims) - current and "administration_invite_member" not in held:
            raise forbidden()
        if current - set(ims) and "administration_remove_member" not in held:
            raise forbidden()
        req.db.execute("UPDATE groups SET ims_groups=? WHERE id=?", (json.dumps(ims), group_id))


def create_group(req: Req) -> Response:
    itwin = _managing_itwin(req)
    body = req.json_object()
    name = text_field(body, "name", CODE, required=True, non_blank=True)
    description = text_field(body, "description", CODE, required=True)
    assert name is not None
    _check_unique(req, itwin["id"], name, None)
    group_id = records.new_id()
    req.db.execute(
        "INSERT INTO groups(id, itwin_id, name, description) VALUES (?,?,?,?)",
        (group_id, itwin["id"], name.strip(), description),
    )
    _apply(req, itwin, group_id, body)
    row = req.db.execute("SELECT * FROM groups WHERE id=?", (group_id,)).fetchone()
    return json_response({"group": group_json(req.db, row)}, 201)


def update_group(req: Req) -> Response:
    itwin = _managing_itwin(req)
    group = group_of(req, itwin)
    body = req.json_object()
    name = text_field(body, "name", CODE, required=False, non_blank=True)
    description = text_field(body, "description", CODE, required=False)
    if name is not None:
        _check_unique(req, itwin["id"], name, group["id"])
    req.db.execute(
        "UPDATE groups SET name=COALESCE(?, name), description=COALESCE(?, description) WHERE id=?",
        (name.strip() if name else None, description, group["id"]),
    )
    _apply(req, itwin, group["id"], body)
    row = req.db.execute("SELECT * FROM groups WHERE id=?", (group["id"],)).fetchone()
    return json_response({"group": group_json(req.db, row)})


def delete_group(req: Req) -> Response:
    itwin = _managing_itwin(req)
    group = group_of(req, itwin)
    for sql in (
        "DELETE FROM group_users WHERE group_id=?",
        "DELETE FROM group_members WHERE group_id=?",
        "DELETE FROM invitations WHERE group_id=?",
        "DELETE FROM groups WHERE id=?",
    ):
        req.db.execute(sql, (group["id"],))
    return no_content()


def _g(method: str, path: str, handler: Any, message: str | None = None) -> BaseRoute:
    return op(method, BASE + path, handler, api=Api.ACCESS, versions=(2,), invalid_code=CODE,
              invalid_message=message)  # fmt: skip


ROUTES: list[BaseRoute] = [
    _g("GET", "", list_groups),
    _g("POST", "", create_group, "Cannot create group."),
    _g("GET", "/{group_id}", get_group),
    _g("PATCH", "/{group_id}", update_group, "Cannot update group."),
    _g("DELETE", "/{group_id}", delete_group),
]
