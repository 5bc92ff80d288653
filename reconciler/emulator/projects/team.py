"""Projects API team members and roles (contract §5).

Members are added one per request, by ``email`` (+ optional ``roleNames``) or by ``userId``
(+ optional ``roleIds``), and always receive the project's "Team Member" role. Member reads are
open to anyone who sees the project; adding and changing roles needs
``administration_invite_member``, removing ``administration_remove_member``, roles
``administration_manage_roles`` (org admins and owners of unaffiliated projects hold them all).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.responses import Response

from reconciler.emulator.errors import (
    MSG_BAD_BODY,
    MSG_INVALID_REQUEST,
    MSG_MEMBER_NOT_FOUND,
    MSG_ROLE_NOT_FOUND,
    MSG_TOO_MANY,
    ApiError,
    detail,
    forbidden,
    invalid,
    json_response,
    missing,
    no_content,
)
from reconciler.emulator.identity import user_id_for
from reconciler.emulator.projects.store import (
    CODE,
    MAX_ROLES_PER_MEMBER_REQUEST,
    MEMBER_SELECT,
    TEAM_MEMBER,
    Rights,
    bad_value,
    check_permissions,
    insert_role,
    member_json,
    project_roles,
    role_json,
    string_list,
    visible_project,
)
from reconciler.emulator.records import find_user, update_row
from reconciler.emulator.web import Req

# Team member pages: $top at most 100 (contract §5, get-project-team-members).
MEMBERS_MAX_TOP = 100


def _need(got: Rights, permission: str) -> None:
    if permission not in got.permissions:
        raise forbidden()


def member_not_found(target: str | None = None) -> ApiError:
    return ApiError(404, "TeamMemberNotFound", MSG_MEMBER_NOT_FOUND, target=target)


def role_not_found(target: str | None = None) -> ApiError:
    return ApiError(404, "RoleNotFound", MSG_ROLE_NOT_FOUND, target=target)


def _role_index(db: sqlite3.Connection, project_id: str) -> dict[str, sqlite3.Row]:
    return {r["id"]: r for r in project_roles(db, project_id)}


def _member_row(db: sqlite3.Connection, project_id: str, user_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        MEMBER_SELECT + "WHERE m.project_id=? AND m.user_id=?", (project_id, user_id)
    ).fetchone()
    return row


def _role_list(body: dict[str, Any], key: str) -> list[str]:
    values = string_list(body[key], key)
    if len(values) > MAX_ROLES_PER_MEMBER_REQUEST:
        raise invalid(CODE, "InvalidProperty", MSG_TOO_MANY, key)
    return values


# -- members ---------------------------------------------------------------------------------
def list_members(req: Req) -> Response:
    project, _ = visible_project(req.db, req.caller, req.params["projectId"])
    skip, top = req.paging(CODE, default_top=MEMBERS_MAX_TOP, max_top=MEMBERS_MAX_TOP)
    rows = req.db.execute(
        MEMBER_SELECT + "WHERE m.project_id=? ORDER BY m.seq LIMIT ? OFFSET ?",
        (project["id"], top + 1, skip),
    ).fetchall()
    roles = _role_index(req.db, project["id"])
    full = req.representation
    return json_response(
        {
            "members": [member_json(r, roles, full) for r in rows[:top]],
            "_links": req.links(skip, top, len(rows) > top),
        }
    )


def get_member(req: Req) -> Response:
    project, _ = visible_project(req.db, req.caller, req.params["projectId"])
    row = _member_row(req.db, project["id"], req.params["memberId"])
    if row is None:
        raise member_not_found()
    roles = _role_index(req.db, project["id"])
    return json_response({"member": member_json(row, roles, req.representation)})


def add_member(req: Req) -> Response:
    """``POST /projects/{id}/members``: one member; 201 ``{"member"}``.

    [I] ``email`` pairs with ``roleNames`` and ``userId`` with ``roleIds`` (as the docs word
    it); exactly one of ``email``/``userId``. An email in the directory adds that user; an
    email in no organization adds an external member when the project allows external team
    members; a user of another organization likewise. Adding an existing member is a 422.
    """
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    _need(got, "administration_invite_member")
    body = req.json_object()
    email, user_id = body.get("email"), body.get("userId")
    if email is None and user_id is None:
        raise missing(CODE, "email")
    if email is not None and user_id is not None:
        raise bad_value("userId", "Provide either email or userId, not both.")
    roles = project_roles(req.db, project["id"])
    team_member = next(r["id"] for r in roles if r["builtin"])
    wanted: list[str] = []
    if email is not None:
        if not isinstance(email, str) or "@" not in email:
            raise bad_value("email")
        if "roleIds" in body:
            raise bad_value("roleIds", "roleIds go with userId; use roleNames with email.")
        user = find_user(req.db, email)
        uid = user["id"] if user is not None else user_id_for(email)
        stored_email: str | None = None if user is not None else email.strip()
        names = _role_list(body, "roleNames") if "roleNames" in body else []
        by_name = {r["display_name"].casefold(): r["id"] for r in roles}
        for i, name in enumerate(names):
            if name.casefold() not in by_name:
                raise role_not_found(f"roleNames[{i}]")
            wanted.append(by_name[name.casefold()])
    else:
        if not isinstance(user_id, str):
            raise bad_value("userId")
        if "roleNames" in body:
            raise bad_value("roleNames", "roleNames go with email; use roleIds with userId.")
        user = req.db.execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone()
        if user is None:
            raise member_not_found("userId")
        uid, stored_email = user["id"], None
        ids = _role_list(body, "roleIds") if "roleIds" in body else []
        known = {r["id"] for r in roles}
        for i, rid in enumerate(ids):
            if rid not in known:
                raise role_not_found(f"roleIds[{i}]")
            wanted.append(rid)
    user_org = user["org"] if user is not None else None
    if (user_org is None or user_org != project["org"]) and not project["allow_external"]:
        raise bad_value(
            "userId" if user_id is not None else "email",
            "The project does not allow external team members.",
        )
    if _member_row(req.db, project["id"], uid) is not None:
        raise bad_value(
            "userId" if user_id is not None else "email", "The user is already a team member."
        )
    role_ids = list(dict.fromkeys([team_member, *wanted]))
    req.db.execute(
        "INSERT INTO project_members(project_id, user_id, email, role_ids) VALUES(?,?,?,?)",
        (project["id"], uid, stored_email, json.dumps(role_ids)),
    )
    row = _member_row(req.db, project["id"], uid)
    assert row is not None
    index = {r["id"]: r for r in roles}
    return json_response({"member": member_json(row, index, req.representation)}, 201)


def update_member(req: Req) -> Response:
    """``PATCH`` ``{"roleIds": [...]}``: the complete new set ([I] empty is a 422, as in Access
    Control: remove the member instead; "Team Member" is kept only if listed)."""
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    _need(got, "administration_invite_member")
    body = req.json_object()
    if "roleIds" not in body:
        raise missing(CODE, "roleIds")
    ids = _role_list(body, "roleIds")
    if not ids:
        raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY, "roleIds")
    if _member_row(req.db, project["id"], req.params["memberId"]) is None:
        raise member_not_found()
    index = _role_index(req.db, project["id"])
    for i, rid in enumerate(ids):
        if rid not in index:
            raise role_not_found(f"roleIds[{i}]")
    req.db.execute(
        "UPDATE project_members SET role_ids=? WHERE project_id=? AND user_id=?",
        (json.dumps(list(dict.fromkeys(ids))), project["id"], req.params["memberId"]),
    )
    row = _member_row(req.db, project["id"], req.params["memberId"])
    assert row is not None
    return json_response({"member": member_json(row, index, req.representation)})


def remove_member(req: Req) -> Response:
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    _need(got, "administration_remove_member")
    done = req.db.execute(
        "DELETE FROM project_members WHERE project_id=? AND user_id=?",
        (project["id"], req.params["memberId"]),
    )
    if done.rowcount == 0:
        raise member_not_found()
    return no_content()


# -- roles -----------------------------------------------------------------------------------
def _grantable(got: Rights, permissions: list[str]) -> None:
    """Non-admins may grant only permissions they hold on the project (update-project-role)."""
    if not got.admin and not set(permissions) <= got.permissions:
        raise forbidden()


def _name_taken(db: sqlite3.Connection, project_id: str, name: str, but: str = "") -> bool:
    row = db.execute(
        "SELECT 1 FROM project_roles WHERE project_id=? AND display_name=? COLLATE NOCASE "
        "AND id != ?",
        (project_id, name, but),
    ).fetchone()
    return row is not None


def _text(body: dict[str, Any], key: str, required: bool) -> str | None:
    if key not in body or body[key] is None:
        if required:
            raise missing(CODE, key)
        return None
    value = body[key]
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad_value(key)
    return value.strip() if required else value


def list_roles(req: Req) -> Response:
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    _need(got, "administration_manage_roles")
    return json_response({"roles": [role_json(r) for r in project_roles(req.db, project["id"])]})


def create_role(req: Req) -> Response:
    """``displayName`` required, ``description`` optional; [I] ``permissions`` accepted too;
    a displayName already used in the project (any case) is a 422."""
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    _need(got, "administration_manage_roles")
    body = req.json_object()
    name = _text(body, "displayName", required=True)
    assert name is not None
    description = _text(body, "description", required=False) or ""
    permissions = check_permissions(body["permissions"]) if body.get("permissions") else []
    _grantable(got, permissions)
    if _name_taken(req.db, project["id"], name):
        raise bad_value("displayName", "A role with this displayName already exists.")
    rid = insert_role(req.db, project["id"], name, description, permissions)
    row = req.db.execute("SELECT * FROM project_roles WHERE id=?", (rid,)).fetchone()
    return json_response({"role": role_json(row)}, 201)


def _project_role(req: Req, project_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = req.db.execute(
        "SELECT * FROM project_roles WHERE id=? AND project_id=?",
        (req.params["roleId"], project_id),
    ).fetchone()
    if row is None:
        raise role_not_found()
    return row


def update_role(req: Req) -> Response:
    """Any of ``displayName``, ``description``, ``permissions`` (replaces the set); other keys
    (the sample app sends the whole role, ``id`` included) are ignored."""
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    _need(got, "administration_manage_roles")
    role = _project_role(req, project["id"])
    body = req.json_object()
    if not {"displayName", "description", "permissions"} & body.keys():
        raise ApiError(
            422, CODE, MSG_INVALID_REQUEST, details=[detail("InvalidRequestBody", MSG_BAD_BODY)]
        )
    cols: dict[str, Any] = {}
    name = _text(body, "displayName", required=False)
    if name is not None and name.strip() != role["display_name"]:
        if role["builtin"]:
            raise bad_value("displayName", f"The {TEAM_MEMBER} role cannot be renamed.")
        if not name.strip() or _name_taken(req.db, project["id"], name.strip(), role["id"]):
            raise bad_value("displayName", "A role with this displayName already exists.")
        cols["display_name"] = name.strip()
    description = _text(body, "description", required=False)
    if description is not None:
        cols["description"] = description
    if "permissions" in body:
        permissions = check_permissions(body["permissions"])
        _grantable(got, permissions)
        cols["permissions"] = json.dumps(permissions)
    row = update_row(req.db, "project_roles", role["id"], cols)
    return json_response({"role": role_json(row)})


def delete_role(req: Req) -> Response:
    """204; the role disappears from every member ([I] members keep their other roles; the
    built-in "Team Member" role cannot be deleted: 422)."""
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    _need(got, "administration_manage_roles")
    role = _project_role(req, project["id"])
    if role["builtin"]:
        raise bad_value("roleId", f"The {TEAM_MEMBER} role cannot be deleted.")
    req.db.execute("DELETE FROM project_roles WHERE id=?", (role["id"],))
    rows = req.db.execute(
        "SELECT user_id, role_ids FROM project_members WHERE project_id=?", (project["id"],)
    ).fetchall()
    for row in rows:
        ids = json.loads(row["role_ids"])
        if role["id"] in ids:
            req.db.execute(
                "UPDATE project_members SET role_ids=? WHERE project_id=? AND user_id=?",
                (json.dumps([i for i in ids if i != role["id"]]), project["id"], row["user_id"]),
            )
    return no_content()
