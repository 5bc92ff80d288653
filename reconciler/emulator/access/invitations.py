"""Access Control v2 invitations (contract §4): member (and owner) invitations, group-member
invitations, accept. Invitations expire 7 days after creation by the emulator clock and then
vanish from every answer.

Accepting (only the invited email may) consumes the invitation and makes the caller a member, an
owner, or a group member; a member invitation brings the roles of all the caller's pending
member invitations on that iTwin, all consumed, merged into any roles it already holds (C7).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator import records
from reconciler.emulator.access.groups import group_of
from reconciler.emulator.errors import (
    MSG_INVITATION_NOT_FOUND,
    ApiError,
    forbidden,
    json_response,
    no_content,
)
from reconciler.emulator.policy import (
    ac_itwin,
    is_member,
    is_org_admin,
    is_owner,
    permissions_of,
    require_member,
)
from reconciler.emulator.shapes import invitation_json, role_map
from reconciler.emulator.web import Api, Req, op

CODE = "InvalidiTwinsMemberInvitationsRequest"
BASE = "/accesscontrol/itwins/{itwin_id}"


def _not_found() -> ApiError:
    return ApiError(404, "InvitationNotFound", MSG_INVITATION_NOT_FOUND)


def _sees_all(req: Req, itwin: sqlite3.Row) -> bool:
    return is_org_admin(req.caller, itwin) or is_owner(req.db, itwin["id"], req.caller.id)


def _page(req: Req, itwin: sqlite3.Row, where: str, args: tuple[Any, ...], roles: bool) -> Response:
    require_member(req.db, req.caller, itwin)
    skip, top = req.paging(CODE)
    if not _sees_all(req, itwin):  # others see the invitations they sent
        where += " AND inviter_id = ?"
        args = (*args, req.caller.id)
    rows = req.db.execute(
        f"SELECT * FROM invitations WHERE itwin_id=? AND expires > ? AND {where} "
        "ORDER BY seq LIMIT ? OFFSET ?",
        (itwin["id"], req.now, *args, top + 1, skip),
    ).fetchall()
    role_names = role_map(req.db, itwin) if roles else None
    items = [invitation_json(r, role_names) for r in rows[:top]]
    return json_response({"invitations": items, "_links": req.links(skip, top, len(rows) > top)})


def list_member_invitations(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    return _page(req, itwin, "kind IN ('member', 'owner')", (), True)


def list_group_invitations(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require_member(req.db, req.caller, itwin)
    group = group_of(req, itwin)
    return _page(req, itwin, "kind = 'group' AND group_id = ?", (group["id"],), False)


def _invitation(req: Req, itwin: sqlite3.Row, kinds: tuple[str, ...]) -> sqlite3.Row:
    row: sqlite3.Row | None = req.db.execute(
        "SELECT * FROM invitations WHERE id=? AND itwin_id=? AND expires > ?",
        (req.params["invitation_id"], itwin["id"], req.now),
    ).fetchone()
    if row is None or row["kind"] not in kinds:
        raise _not_found()
    return row


def get_member_invitation(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require_member(req.db, req.caller, itwin)
    row = _invitation(req, itwin, ("member", "owner"))
    # C7: an org admin, or a member who is the invitee or the inviter (owners included: the
    # page names no exception for them); anyone else is answered as if it did not exist.
    caller = req.caller
    involved = row["inviter_id"] == caller.id or row["email"].lower() == caller.email.lower()
    if not (is_org_admin(caller, itwin) or involved):
        raise _not_found()
    inviter = req.db.execute("SELECT * FROM users WHERE id=?", (row["inviter_id"],)).fetchone()
    out = invitation_json(row, role_map(req.db, itwin))
    out.update(
        {
            "inviterGivenName": inviter["given_name"] if inviter else None,
            "inviterSurname": inviter["surname"] if inviter else None,
            "inviterOrganization": inviter["org"] if inviter else None,
            "projectDisplayName": itwin["display_name"],
        }
    )
    return json_response({"invitation": out})


def _may_cancel(req: Req, itwin: sqlite3.Row, row: sqlite3.Row) -> None:
    if row["inviter_id"] == req.caller.id:
        return
    if "administration_remove_member" not in permissions_of(req.db, req.caller, itwin):
        raise forbidden()


def delete_member_invitation(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    row = _invitation(req, itwin, ("member", "owner"))
    _may_cancel(req, itwin, row)
    req.db.execute("DELETE FROM invitations WHERE id=?", (row["id"],))
    return no_content()


def delete_group_invitation(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    group = group_of(req, itwin)
    row = _invitation(req, itwin, ("group",))
    if row["group_id"] != group["id"]:
        raise _not_found()
    _may_cancel(req, itwin, row)
    req.db.execute("DELETE FROM invitations WHERE id=?", (row["id"],))
    return no_content()


def accept_invitation(req: Req) -> Response:
    caller = req.caller
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    row = req.db.execute(
        "SELECT * FROM invitations WHERE id=? AND itwin_id=? AND expires > ?",
        (req.params["invitation_id"], itwin["id"], req.now),
    ).fetchone()
    if row is None or row["email"].lower() != caller.email.lower():
        if is_member(req.db, caller, itwin["id"]):
            return no_content()  # as observed live: 204 for any id once a member
        raise _not_found()
    if row["kind"] == "owner":
        records.add_owner(req.db, itwin["id"], caller.id)
    elif row["kind"] == "group":
        req.db.execute(
            "INSERT OR IGNORE INTO group_users(group_id, user_id) VALUES (?,?)",
            (row["group_id"], caller.id),
        )
    else:
        existing = req.db.execute(
            "SELECT role_ids FROM members WHERE itwin_id=? AND user_id=?", (itwin["id"], caller.id)
        ).fetchone()
        # C7: the roles of all the user's pending member invitations on this iTwin, all
        # consumed by one accept.
        pending = req.db.execute(
            "SELECT id, role_ids FROM invitations WHERE itwin_id=? AND kind='member' "
            "AND email=? COLLATE NOCASE AND expires > ? ORDER BY seq",
            (itwin["id"], caller.email, req.now),
        ).fetchall()
        invited = list(dict.fromkeys(r for p in pending for r in json.loads(p["role_ids"])))
        for other in pending:
            req.db.execute("DELETE FROM invitations WHERE id=?", (other["id"],))
        if existing is None:
            records.add_member(req.db, itwin["id"], caller.id, invited)
        else:
            merged = list(dict.fromkeys([*json.loads(existing[0]), *invited]))
            req.db.execute(
                "UPDATE members SET role_ids=? WHERE itwin_id=? AND user_id=?",
                (json.dumps(merged), itwin["id"], caller.id),
            )
    req.db.execute("DELETE FROM invitations WHERE id=?", (row["id"],))
    return no_content()


def _i(method: str, path: str, handler: Any) -> BaseRoute:
    return op(method, BASE + path, handler, api=Api.ACCESS, versions=(2,), invalid_code=CODE)


ROUTES: list[BaseRoute] = [
    _i("GET", "/members/invitations", list_member_invitations),
    _i("GET", "/members/invitations/{invitation_id}", get_member_invitation),
    _i("DELETE", "/members/invitations/{invitation_id}", delete_member_invitation),
    _i("POST", "/members/invitations/{invitation_id}/accept", accept_invitation),
    _i("GET", "/groups/{group_id}/invitations", list_group_invitations),
    _i("DELETE", "/groups/{group_id}/invitations/{invitation_id}", delete_group_invitation),
]
