"""Access Control v2 members: user members, group members and owners (contract §4).

Adding a user: a user of the caller's organization is added at once; anyone else (another
organization, no organization, not in the directory) is invited, and so is everyone a service
application adds (contract §4, §7.16). Re-adding an existing member is 409
``iTwinMemberAlreadyExists`` ([I] as v1 does; contract §8).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator import records
from reconciler.emulator.errors import (
    MSG_BAD_BODY,
    MSG_MEMBER_NOT_FOUND,
    MSG_ROLE_NOT_FOUND,
    MSG_TOO_MANY,
    ApiError,
    invalid,
    json_response,
    missing,
    no_content,
)
from reconciler.emulator.identity import Caller
from reconciler.emulator.policy import ac_itwin, require, require_member, require_owner_or_org_admin
from reconciler.emulator.shapes import (
    RoleMap,
    group_member_json,
    invitation_json,
    person_json,
    role_map,
    user_member_json,
    user_members_page,
)
from reconciler.emulator.web import Api, Req, op

CODE = "InvalidiTwinsMemberRequest"
BASE = "/accesscontrol/itwins/{itwin_id}/members"
MAX_ROLE_ASSIGNMENTS = 50

USER_COLUMNS = (
    "SELECT m.user_id, m.role_ids, u.email, u.given_name, u.surname, u.org "
    "FROM members m LEFT JOIN users u ON u.id = m.user_id "
)
GROUP_COLUMNS = (
    "SELECT gm.group_id, gm.role_ids, g.name, g.description "
    "FROM group_members gm JOIN groups g ON g.id = gm.group_id "
)
OWNER_COLUMNS = (
    "SELECT o.user_id, u.email, u.given_name, u.surname, u.org "
    "FROM owners o LEFT JOIN users u ON u.id = o.user_id "
)


def member_not_found() -> ApiError:
    return ApiError(404, "TeamMemberNotFound", MSG_MEMBER_NOT_FOUND)


def already_member(member_id: str, itwin_id: str) -> ApiError:
    return ApiError(
        409,
        "iTwinMemberAlreadyExists",
        f"Member '{member_id}' already exists in iTwin '{itwin_id}'.",
    )


def check_role_ids(value: Any, roles: RoleMap, target: str) -> list[str]:
    """A member's ``roleIds``: required, a non-empty list of known roles (contract §4)."""
    if value is None:
        raise missing(CODE, target)
    if not isinstance(value, list) or not value or not all(isinstance(r, str) for r in value):
        raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY, target)
    if len(value) > MAX_ROLE_ASSIGNMENTS:
        raise invalid(CODE, "InvalidProperty", MSG_TOO_MANY, target)
    for j, role_id in enumerate(value):
        if role_id not in roles:
            raise ApiError(404, "RoleNotFound", MSG_ROLE_NOT_FOUND, target=f"{target}[{j}]")
    return list(dict.fromkeys(value))


def member_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``members`` of an add request (v2 here, v1 too): a non-empty list of objects."""
    members = body.get("members")
    if members is None:
        raise missing(CODE, "members")
    if (
        not isinstance(members, list)
        or not members
        or not all(isinstance(m, dict) for m in members)
    ):
        raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY, "members")
    return members


def check_member_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    members = member_list(body)
    total = sum(len(m["roleIds"]) for m in members if isinstance(m.get("roleIds"), list))
    if total > MAX_ROLE_ASSIGNMENTS:  # the limit is per request, across all members
        raise invalid(CODE, "InvalidProperty", MSG_TOO_MANY, "members")
    return members


def adds_directly(caller: Caller, user: sqlite3.Row | None) -> bool:
    """Same-organization users are added; everyone else (and every add by an app) is invited."""
    return (
        user is not None
        and not caller.is_app
        and caller.org is not None
        and user["org"] == caller.org
    )


def _itwin_for_read(req: Req) -> sqlite3.Row:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require_member(req.db, req.caller, itwin)
    return itwin


def user_row(req: Req, itwin_id: str, user_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = req.db.execute(
        USER_COLUMNS + "WHERE m.itwin_id=? AND m.user_id=?", (itwin_id, user_id)
    ).fetchone()
    if row is None:
        raise member_not_found()
    return row


# -- user members ---------------------------------------------------------------------------
def list_users(req: Req) -> Response:
    itwin = _itwin_for_read(req)
    skip, top = req.paging(CODE)
    members, more = user_member_page(req.db, itwin, skip, top)
    return json_response({"members": members, "_links": req.links(skip, top, more)})


def user_member_page(
    db: sqlite3.Connection, itwin: sqlite3.Row, skip: int, top: int
) -> tuple[list[dict[str, Any]], bool]:
    """One page of user members and whether more follow (plain tuples: the hot path)."""
    cur = db.cursor()
    cur.row_factory = None
    rows = cur.execute(
        USER_COLUMNS + "WHERE m.itwin_id=? ORDER BY m.seq LIMIT ? OFFSET ?",
        (itwin["id"], top + 1, skip),
    ).fetchall()
    return user_members_page(rows[:top], role_map(db, itwin)), len(rows) > top


def get_user(req: Req) -> Response:
    itwin = _itwin_for_read(req)
    row = user_row(req, itwin["id"], req.params["member_id"])
    return json_response({"member": user_member_json(row, role_map(req.db, itwin))})


def add_users(req: Req) -> Response:
    caller = req.caller
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require(req.db, caller, itwin, "administration_invite_member")
    members = check_member_list(req.json_object())
    roles = role_map(req.db, itwin)
    plan: list[tuple[str, sqlite3.Row | None, list[str]]] = []
    seen: set[str] = set()
    for i, member in enumerate(members):
        email = member.get("email")
        if not isinstance(email, str) or not email.strip():
            raise missing(CODE, f"members[{i}].email")
        email = email.strip()
        if "@" not in email or email.lower() in seen:
            raise invalid(
                CODE, "InvalidValue", "Invalid or duplicate email.", f"members[{i}].email"
            )
        seen.add(email.lower())
        role_ids = check_role_ids(member.get("roleIds"), roles, f"members[{i}].roleIds")
        user = records.find_user(req.db, email)
        if (
            user is not None
            and req.db.execute(
                "SELECT 1 FROM members WHERE itwin_id=? AND user_id=?", (itwin["id"], user["id"])
            ).fetchone()
        ):
            raise already_member(user["id"], itwin["id"])
        plan.append((email, user, role_ids))
    added: list[dict[str, Any]] = []
    invited: list[dict[str, Any]] = []
    for email, user, role_ids in plan:
        if user is not None and adds_directly(caller, user):
            records.add_member(req.db, itwin["id"], user["id"], role_ids)
            added.append(user_member_json(user_row(req, itwin["id"], user["id"]), roles))
        else:
            inv_id = records.upsert_invitation(
                req.db, itwin_id=itwin["id"], kind="member", email=email, role_ids=role_ids,
                inviter_id=caller.id, inviter_email=caller.email, now=req.now,
            )  # fmt: skip
            row = req.db.execute("SELECT * FROM invitations WHERE id=?", (inv_id,)).fetchone()
            invited.append(invitation_json(row, roles))
    return json_response({"members": added, "invitations": invited}, 201)


def update_user(req: Req) -> Response:
    return _update_roles(req, _USERS, user_row, user_member_json)


def remove_user(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require(req.db, req.caller, itwin, "administration_remove_member")
    return _delete(req, itwin, _USERS)


# -- group members --------------------------------------------------------------------------
def _group_member(req: Req, itwin_id: str, group_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = req.db.execute(
        GROUP_COLUMNS + "WHERE gm.itwin_id=? AND gm.group_id=?", (itwin_id, group_id)
    ).fetchone()
    if row is None:
        raise member_not_found()
    return row


def list_groups(req: Req) -> Response:
    itwin = _itwin_for_read(req)
    skip, top = req.paging(CODE)
    rows = req.db.execute(
        GROUP_COLUMNS + "WHERE gm.itwin_id=? ORDER BY gm.seq LIMIT ? OFFSET ?",
        (itwin["id"], top + 1, skip),
    ).fetchall()
    roles = role_map(req.db, itwin)
    members = [group_member_json(r, roles) for r in rows[:top]]
    return json_response({"members": members, "_links": req.links(skip, top, len(rows) > top)})


def get_group(req: Req) -> Response:
    itwin = _itwin_for_read(req)
    row = _group_member(req, itwin["id"], req.params["group_id"])
    return json_response({"member": group_member_json(row, role_map(req.db, itwin))})


def add_groups(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require(req.db, req.caller, itwin, "administration_invite_member")
    members = check_member_list(req.json_object())
    roles = role_map(req.db, itwin)
    plan: list[tuple[str, list[str]]] = []
    for i, member in enumerate(members):
        group_id = member.get("groupId")
        if not isinstance(group_id, str) or not group_id:
            raise missing(CODE, f"members[{i}].groupId")
        role_ids = check_role_ids(member.get("roleIds"), roles, f"members[{i}].roleIds")
        # Groups of the iTwin or of its Account iTwin may be assigned (contract §4).
        group = req.db.execute(
            "SELECT 1 FROM groups WHERE id=? AND itwin_id IN (?, ?)",
            (group_id, itwin["id"], itwin["account_id"] or itwin["id"]),
        ).fetchone()
        if group is None:
            raise ApiError(404, "TeamMemberNotFound", MSG_MEMBER_NOT_FOUND,
                           target=f"members[{i}].groupId")  # fmt: skip
        if (
            any(g == group_id for g, _ in plan)
            or req.db.execute(
                "SELECT 1 FROM group_members WHERE itwin_id=? AND group_id=?",
                (itwin["id"], group_id),
            ).fetchone()
        ):
            raise already_member(group_id, itwin["id"])
        plan.append((group_id, role_ids))
    out = []
    for group_id, role_ids in plan:
        req.db.execute(
            "INSERT INTO group_members(itwin_id, group_id, role_ids) VALUES (?,?,?)",
            (itwin["id"], group_id, json.dumps(role_ids)),
        )
        out.append(group_member_json(_group_member(req, itwin["id"], group_id), roles))
    return json_response({"members": out}, 201)


def update_group(req: Req) -> Response:
    return _update_roles(req, _GROUPS, _group_member, group_member_json)


def remove_group(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require(req.db, req.caller, itwin, "administration_remove_member")
    return _delete(req, itwin, _GROUPS)


# -- owners ---------------------------------------------------------------------------------
def list_owners(req: Req) -> Response:
    itwin = _itwin_for_read(req)
    skip, top = req.paging(CODE)
    rows = req.db.execute(
        OWNER_COLUMNS + "WHERE o.itwin_id=? ORDER BY o.seq LIMIT ? OFFSET ?",
        (itwin["id"], top + 1, skip),
    ).fetchall()
    members = [person_json(r) for r in rows[:top]]
    return json_response({"members": members, "_links": req.links(skip, top, len(rows) > top)})


def add_owner(req: Req) -> Response:
    caller = req.caller
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require_owner_or_org_admin(req.db, caller, itwin)
    email = req.json_object().get("email")
    if not isinstance(email, str) or not email.strip():
        raise missing(CODE, "email")
    email = email.strip()
    if "@" not in email:
        raise invalid(CODE, "InvalidValue", "Invalid email.", "email")
    user = records.find_user(req.db, email)
    if (
        user is not None
        and req.db.execute(
            "SELECT 1 FROM owners WHERE itwin_id=? AND user_id=?", (itwin["id"], user["id"])
        ).fetchone()
    ):
        raise ApiError(409, "OwnerAlreadyExists", "Requested user is already an iTwin Owner.",
                       target="email")  # fmt: skip
    if user is not None and adds_directly(caller, user):
        records.add_owner(req.db, itwin["id"], user["id"])
        row = req.db.execute(
            OWNER_COLUMNS + "WHERE o.itwin_id=? AND o.user_id=?", (itwin["id"], user["id"])
        ).fetchone()
        return json_response({"member": person_json(row), "invitation": None}, 201)
    inv_id = records.upsert_invitation(
        req.db, itwin_id=itwin["id"], kind="owner", email=email, role_ids=[],
        inviter_id=caller.id, inviter_email=caller.email, now=req.now,
    )  # fmt: skip
    inv = req.db.execute("SELECT * FROM invitations WHERE id=?", (inv_id,)).fetchone()
    return json_response({"member": None, "invitation": invitation_json(inv, {})}, 201)


def remove_owner(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require_owner_or_org_admin(req.db, req.caller, itwin)
    # [I] Removing the last owner is allowed (nothing documented; org admins keep control).
    return _delete(req, itwin, _OWNERS)


# -- shared by the three kinds --------------------------------------------------------------
@dataclass(frozen=True)
class _Kind:
    """Where one kind of member lives: its table, its key column, the path parameter naming it."""

    table: str
    column: str
    param: str


_USERS = _Kind("members", "user_id", "member_id")
_GROUPS = _Kind("group_members", "group_id", "group_id")
_OWNERS = _Kind("owners", "user_id", "member_id")


def _update_roles(
    req: Req,
    kind: _Kind,
    row_of: Callable[[Req, str, str], sqlite3.Row],
    to_json: Callable[[sqlite3.Row, RoleMap], dict[str, Any]],
) -> Response:
    """PATCH a user or group member: replace its roles (``roleIds``), answer the member."""
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require(req.db, req.caller, itwin, "administration_invite_member")
    member_id = req.params[kind.param]
    row_of(req, itwin["id"], member_id)
    roles = role_map(req.db, itwin)
    role_ids = check_role_ids(req.json_object().get("roleIds"), roles, "roleIds")
    req.db.execute(
        f"UPDATE {kind.table} SET role_ids=? WHERE itwin_id=? AND {kind.column}=?",
        (json.dumps(role_ids), itwin["id"], member_id),
    )
    return json_response({"member": to_json(row_of(req, itwin["id"], member_id), roles)})


def _delete(req: Req, itwin: sqlite3.Row, kind: _Kind) -> Response:
    """DELETE a member of any kind (the caller's right already checked); 404 if none."""
    cur = req.db.execute(
        f"DELETE FROM {kind.table} WHERE itwin_id=? AND {kind.column}=?",
        (itwin["id"], req.params[kind.param]),
    )
    if cur.rowcount == 0:
        raise member_not_found()
    return no_content()


def _m(method: str, path: str, handler: Any) -> BaseRoute:
    return op(method, BASE + path, handler, api=Api.ACCESS, versions=(2,), invalid_code=CODE)


ROUTES: list[BaseRoute] = [
    _m("GET", "/users", list_users),
    _m("POST", "/users", add_users),
    _m("GET", "/users/{member_id}", get_user),
    _m("PATCH", "/users/{member_id}", update_user),
    _m("DELETE", "/users/{member_id}", remove_user),
    _m("GET", "/groups", list_groups),
    _m("POST", "/groups", add_groups),
    _m("GET", "/groups/{group_id}", get_group),
    _m("PATCH", "/groups/{group_id}", update_group),
    _m("DELETE", "/groups/{group_id}", remove_group),
    _m("GET", "/owners", list_owners),
    _m("POST", "/owners", add_owner),
    _m("DELETE", "/owners/{member_id}", remove_owner),
]
