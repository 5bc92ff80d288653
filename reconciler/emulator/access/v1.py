"""Access Control v1 members (contract §4.1), served under ``Accept: ...v1+json``.

v1 has no invitations: [I] a user in the directory is added directly whatever the caller's
organization; an email not in the directory, like an unknown role, is 404 ``ItwinNotFound``
(as the v1 page documents). One ``roleId`` per member (the old client's ``roleid`` is accepted).
Listing, reading, updating (``roleIds``) and removing a member are v2's user-member handlers
(same rows, same answers); roles and permissions answer as in v2 (``access.roles``).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator import records
from reconciler.emulator.access.members import (
    BASE,
    CODE,
    already_member,
    get_user,
    list_users,
    member_list,
    remove_user,
    update_user,
    user_row,
)
from reconciler.emulator.errors import (
    MSG_ITWIN_NOT_FOUND,
    MSG_TOO_MANY,
    ApiError,
    invalid,
    json_response,
    missing,
)
from reconciler.emulator.policy import ac_itwin, require
from reconciler.emulator.shapes import role_map, user_member_json
from reconciler.emulator.web import Api, Req, op

MAX_MEMBERS = 50


def add_members(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require(req.db, req.caller, itwin, "administration_invite_member")
    members = member_list(req.json_object())
    if len(members) > MAX_MEMBERS:
        raise invalid(CODE, "InvalidProperty", MSG_TOO_MANY, "members")
    roles = role_map(req.db, itwin)
    plan: list[tuple[str, str]] = []
    for i, member in enumerate(members):
        email = member.get("email")
        if not isinstance(email, str) or not email.strip():
            raise missing(CODE, f"members[{i}].email")
        role_id = member.get("roleId", member.get("roleid"))
        if not isinstance(role_id, str) or not role_id:
            raise missing(CODE, f"members[{i}].roleId")
        user = records.find_user(req.db, email)
        if user is None or role_id not in roles:
            raise ApiError(404, "ItwinNotFound", MSG_ITWIN_NOT_FOUND)
        if (
            any(uid == user["id"] for uid, _ in plan)
            or req.db.execute(
                "SELECT 1 FROM members WHERE itwin_id=? AND user_id=?", (itwin["id"], user["id"])
            ).fetchone()
        ):
            raise already_member(user["id"], itwin["id"])
        plan.append((user["id"], role_id))
    out = []
    for user_id, role_id in plan:
        records.add_member(req.db, itwin["id"], user_id, [role_id])
        out.append(user_member_json(user_row(req, itwin["id"], user_id), roles))
    return json_response({"members": out}, 201)


def _v1(method: str, path: str, handler: Any) -> BaseRoute:
    return op(method, BASE + path, handler, api=Api.ACCESS, versions=(1,), invalid_code=CODE)


ROUTES: list[BaseRoute] = [
    _v1("GET", "", list_users),
    _v1("POST", "", add_members),
    _v1("GET", "/{member_id}", get_user),
    _v1("PATCH", "/{member_id}", update_user),
    _v1("DELETE", "/{member_id}", remove_user),
]
