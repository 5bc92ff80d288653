"""Access Control: permissions and roles (contract §4; answered alike under v1 and v2)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator import records
from reconciler.emulator.errors import (
    MSG_BAD_BODY,
    MSG_PERMISSION_NOT_FOUND,
    MSG_ROLE_NOT_FOUND,
    ApiError,
    invalid,
    json_response,
    no_content,
    text_field,
)
from reconciler.emulator.policy import (
    ALL_PERMISSIONS,
    PERMISSION_SET,
    ac_itwin,
    permissions_of,
    require,
)
from reconciler.emulator.shapes import role_json
from reconciler.emulator.web import Api, Req, op

CODE = "InvalidiTwinsRoleRequest"
BASE = "/accesscontrol/itwins"


def all_permissions(req: Req) -> Response:
    return json_response({"permissions": list(ALL_PERMISSIONS)})


def my_permissions(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    held = permissions_of(req.db, req.caller, itwin)
    return json_response({"permissions": [p for p in ALL_PERMISSIONS if p in held]})


def _role(req: Req, itwin: sqlite3.Row) -> sqlite3.Row:
    unknown = ApiError(404, "RoleNotFound", MSG_ROLE_NOT_FOUND)
    return records.row_in_itwin(req.db, "roles", req.params["role_id"], itwin["id"], unknown)


def _managed_itwin(req: Req) -> sqlite3.Row:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require(req.db, req.caller, itwin, "administration_manage_roles")
    return itwin


def list_roles(req: Req) -> Response:
    itwin = _managed_itwin(req)
    rows = req.db.execute(
        "SELECT * FROM roles WHERE itwin_id=? ORDER BY seq", (itwin["id"],)
    ).fetchall()
    return json_response({"roles": [role_json(r) for r in rows]})


def get_role(req: Req) -> Response:
    itwin = _managed_itwin(req)
    return json_response({"role": role_json(_role(req, itwin))})


def create_role(req: Req) -> Response:
    itwin = _managed_itwin(req)
    body = req.json_object()
    name = text_field(body, "displayName", CODE, required=True, non_blank=True)
    description = text_field(body, "description", CODE, required=True)
    assert name is not None
    assert description is not None
    # [I] Permissions cannot be set at creation (contract §4); an empty list is tolerated, as
    # the official client's tests send one, but a non-empty one is refused rather than dropped.
    if body.get("permissions"):
        raise invalid(CODE, "InvalidProperty", "Permissions cannot be set at creation; "
                      "set them with PATCH.", "permissions")  # fmt: skip
    role_id = records.insert_role(req.db, itwin["id"], name, description)
    row = req.db.execute("SELECT * FROM roles WHERE id=?", (role_id,)).fetchone()
    return json_response({"role": role_json(row)}, 201)


def _not_default(role: sqlite3.Row, action: str) -> None:
    """[I] Platform-provided roles (``type`` Default, C6) cannot be changed or deleted."""
    if role["type"] == "Default":
        raise invalid(CODE, "InvalidValue", f"A Default role cannot be {action}.", "type")


def update_role(req: Req) -> Response:
    itwin = _managed_itwin(req)
    role = _role(req, itwin)
    _not_default(role, "updated")
    body = req.json_object()
    name = text_field(body, "displayName", CODE, required=False, non_blank=True)
    description = text_field(body, "description", CODE, required=False)
    permissions = body.get("permissions")
    if permissions is not None:
        if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
            raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY, "permissions")
        for i, permission in enumerate(permissions):
            if permission not in PERMISSION_SET:
                raise ApiError(404, "PermissionNotFound", MSG_PERMISSION_NOT_FOUND,
                               target=f"permissions[{i}]")  # fmt: skip
        permissions = list(dict.fromkeys(permissions))
    req.db.execute(
        "UPDATE roles SET display_name=COALESCE(?, display_name), "
        "description=COALESCE(?, description), permissions=COALESCE(?, permissions) WHERE id=?",
        (name, description, None if permissions is None else json.dumps(permissions), role["id"]),
    )
    row = req.db.execute("SELECT * FROM roles WHERE id=?", (role["id"],)).fetchone()
    return json_response({"role": role_json(row)})


def delete_role(req: Req) -> Response:
    itwin = _managed_itwin(req)
    role = _role(req, itwin)
    _not_default(role, "deleted")
    req.db.execute("DELETE FROM roles WHERE id=?", (role["id"],))
    records.remove_role_everywhere(req.db, role["id"])
    return no_content()


def _ac(method: str, path: str, handler: Any, message: str | None = None) -> BaseRoute:
    return op(method, BASE + path, handler, api=Api.ACCESS, versions=(1, 2), invalid_code=CODE,
              invalid_message=message)  # fmt: skip


ROUTES: list[BaseRoute] = [
    _ac("GET", "/permissions", all_permissions),
    _ac("GET", "/{itwin_id}/permissions", my_permissions),
    _ac("GET", "/{itwin_id}/roles", list_roles),
    _ac("POST", "/{itwin_id}/roles", create_role, "Cannot create Role."),
    _ac("GET", "/{itwin_id}/roles/{role_id}", get_role),
    _ac("PATCH", "/{itwin_id}/roles/{role_id}", update_role, "Cannot update Role."),
    _ac("DELETE", "/{itwin_id}/roles/{role_id}", delete_role, "Cannot delete Role."),
]
