"""Projects API (deprecated, contract §5): tables, rights, wire shapes and the seed loader.

Projects API projects live in their own tables, separate from iTwins: the emulator serves the two
APIs side by side, like two services, and a project created through one is not visible through
the other. Users come from the shared directory (``users``); a team member whose email is in no
organization keeps its email in ``project_members.email`` (there is no directory row to join).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.emulator.clock import iso
from reconciler.emulator.errors import ApiError, detail, invalid
from reconciler.emulator.identity import Caller
from reconciler.emulator.policy import ALL_PERMISSIONS, PERMISSION_SET
from reconciler.emulator.records import new_id

SCHEMA = """
CREATE TABLE IF NOT EXISTS projects(
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    org TEXT, owner_id TEXT,
    display_name TEXT NOT NULL, project_number TEXT NOT NULL,
    geographic_location TEXT, latitude TEXT, longitude TEXT, time_zone TEXT,
    data_center_location TEXT NOT NULL, billing_country TEXT, status TEXT NOT NULL,
    allow_external INTEGER NOT NULL, registered TEXT NOT NULL, registered_by TEXT);
CREATE INDEX IF NOT EXISTS projects_number ON projects(org, project_number COLLATE NOCASE);
CREATE TABLE IF NOT EXISTS project_roles(
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, project_id TEXT NOT NULL,
    display_name TEXT NOT NULL, description TEXT NOT NULL,
    permissions TEXT NOT NULL DEFAULT '[]', builtin INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS project_roles_project ON project_roles(project_id, seq);
CREATE TABLE IF NOT EXISTS project_members(
    seq INTEGER PRIMARY KEY, project_id TEXT NOT NULL, user_id TEXT NOT NULL, email TEXT,
    role_ids TEXT NOT NULL, UNIQUE(project_id, user_id));
CREATE INDEX IF NOT EXISTS project_members_page ON project_members(project_id, seq);
CREATE INDEX IF NOT EXISTS project_members_user ON project_members(user_id);
CREATE TABLE IF NOT EXISTS project_favorites(
    seq INTEGER PRIMARY KEY, user_id TEXT NOT NULL, project_id TEXT NOT NULL,
    UNIQUE(user_id, project_id));
CREATE TABLE IF NOT EXISTS project_recents(
    user_id TEXT NOT NULL, project_id TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY(user_id, project_id));
"""
TABLES = ("projects", "project_roles", "project_members", "project_favorites", "project_recents")

CODE = "InvalidProjectsRequest"
MSG_PROJECT_NOT_FOUND = "Requested project is not available."
MSG_PROJECT_EXISTS = "A project with the same projectNumber already exists."
MSG_INVALID_VALUE = "Value is invalid."
MSG_NOT_A_STRING_LIST = "Value must be an array of strings."

# [I] Every project has this role; adding a member always assigns it (contract §5: it grants
# write access to Storage and Forms). It cannot be renamed or deleted.
TEAM_MEMBER = "Team Member"
TEAM_MEMBER_PERMISSIONS = ("storage_read", "storage_write", "forms_read", "forms_write")
DATA_CENTERS = (
    "East US", "North Europe", "West Europe", "Southeast Asia", "Australia East", "UK South",
    "Canada Central", "Central India", "Japan East",
)  # fmt: skip
STATUSES = ("active", "inactive", "trial")
MAX_ROLES_PER_MEMBER_REQUEST = 50
RECENTS_MAX = 25
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


def not_found() -> ApiError:
    return ApiError(404, "ProjectNotFound", MSG_PROJECT_NOT_FOUND)


def bad_value(target: str, message: str = MSG_INVALID_VALUE) -> ApiError:
    return invalid(CODE, "InvalidValue", message, target)


# -- rights ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rights:
    """What a caller may do on one project."""

    visible: bool
    admin: bool  # org admin of the owning organization, or the owner of an unaffiliated project
    permissions: frozenset[str]


def rights(db: sqlite3.Connection, caller: Caller, project: sqlite3.Row) -> Rights:
    if caller.org_admin and caller.org is not None and project["org"] == caller.org:
        return Rights(True, True, PERMISSION_SET)
    if project["owner_id"] is not None and project["owner_id"] == caller.id:
        return Rights(True, True, PERMISSION_SET)
    row = db.execute(
        "SELECT role_ids FROM project_members WHERE project_id=? AND user_id=?",
        (project["id"], caller.id),
    ).fetchone()
    if row is None:
        return Rights(False, False, frozenset())
    role_ids = json.loads(row[0])
    perms: set[str] = set()
    if role_ids:
        marks = ",".join("?" * len(role_ids))
        for r in db.execute(
            f"SELECT permissions FROM project_roles WHERE id IN ({marks})",
            tuple(role_ids),
        ):
            perms.update(json.loads(r[0]))
    return Rights(True, False, frozenset(perms))


def visible_project(db: sqlite3.Connection, caller: Caller, project_id: str) -> tuple[Any, Rights]:
    """The project and the caller's rights; 404 ``ProjectNotFound`` when it does not exist or
    the caller may not see it ([I] the API does not reveal projects to non-members)."""
    project = db.execute("SELECT * FROM projects WHERE id=?", (project_id,)).fetchone()
    if project is None:
        raise not_found()
    got = rights(db, caller, project)
    if not got.visible:
        raise not_found()
    return project, got


def visibility_sql(caller: Caller) -> tuple[str, list[Any]]:
    """A WHERE fragment selecting the projects a caller sees (alias ``p``)."""
    clause = (
        "(p.owner_id = ? OR EXISTS(SELECT 1 FROM project_members m "
        "WHERE m.project_id = p.id AND m.user_id = ?)"
    )
    args: list[Any] = [caller.id, caller.id]
    if caller.org_admin and caller.org is not None:
        clause += " OR p.org = ?"
        args.append(caller.org)
    return clause + ")", args


# -- wire shapes -----------------------------------------------------------------------------
def project_json(row: sqlite3.Row, full: bool, origin: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row["id"],
        "displayName": row["display_name"],
        "projectNumber": row["project_number"],
    }
    if full:
        pid = row["id"]
        out.update(
            {
                "registrationDateTime": row["registered"],
                "registeredBy": row["registered_by"],
                "geographicLocation": row["geographic_location"],
                "latitude": row["latitude"],
                "longitude": row["longitude"],
                "timeZone": row["time_zone"],
                "dataCenterLocation": row["data_center_location"],
                "billingCountry": row["billing_country"],
                "status": row["status"],
                "allowExternalTeamMembers": bool(row["allow_external"]),
                # [I] Links to the services that hang off a project (contract §5).
                "_links": {
                    name: {"href": f"{origin}/{name}/?projectId={pid}"}
                    for name in ("storage", "forms", "issues", "imodels")
                },
            }
        )
    return out


def role_json(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "displayName": row["display_name"],
        "description": row["description"],
        "permissions": json.loads(row["permissions"]),
    }


def project_roles(db: sqlite3.Connection, project_id: str) -> list[sqlite3.Row]:
    return db.execute(
        "SELECT * FROM project_roles WHERE project_id=? ORDER BY seq", (project_id,)
    ).fetchall()


MEMBER_SELECT = (
    "SELECT m.user_id, COALESCE(u.email, m.email) AS email, u.given_name, u.surname, "
    "u.org, m.role_ids FROM project_members m LEFT JOIN users u ON u.id = m.user_id "
)


def member_json(row: sqlite3.Row, roles: dict[str, sqlite3.Row], full: bool) -> dict[str, Any]:
    """A team member; ``roles`` are names by default and role objects with
    ``Prefer: return=representation`` (contract §5, §7.9)."""
    assigned = [roles[rid] for rid in json.loads(row["role_ids"]) if rid in roles]
    return {
        "id": row["user_id"],
        "email": row["email"],
        "givenName": row["given_name"],
        "surname": row["surname"],
        "organization": row["org"],
        "roles": [
            {"id": r["id"], "displayName": r["display_name"], "description": r["description"]}
            if full
            else r["display_name"]
            for r in assigned
        ],
    }


# -- validation shared by the API and the seed loader ----------------------------------------
def string_list(value: Any, target: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_value(target, MSG_NOT_A_STRING_LIST)
    return value


def check_permissions(value: Any, target: str = "permissions") -> list[str]:
    perms = string_list(value, target)
    for i, perm in enumerate(perms):
        if perm not in PERMISSION_SET:
            raise bad_value(f"{target}[{i}]", "Requested permission is not available.")
    # Catalogue order, no duplicates: what GET answers does not depend on the request's order.
    wanted = set(perms)
    return [p for p in ALL_PERMISSIONS if p in wanted]


_TEXT = {
    "displayName": "display_name",
    "projectNumber": "project_number",
    "geographicLocation": "geographic_location",
    "timeZone": "time_zone",
}


def _coordinate(value: Any, target: str, limit: float) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_value(target, "Value must be a string holding a decimal number.")
    try:
        number = float(value)
    except ValueError:
        raise bad_value(target, "Value must be a string holding a decimal number.") from None
    if not -limit <= number <= limit:
        raise invalid(CODE, "InvalidValue", "Value outside of valid range.", target)
    return value


def project_columns(body: dict[str, Any], creating: bool) -> dict[str, Any]:
    """Validated column values from a create/update body (unknown and read-only properties
    such as ``id`` or ``registrationDateTime`` are ignored, [I])."""
    cols: dict[str, Any] = {}
    for key, col in _TEXT.items():
        if key not in body:
            continue
        value = body[key]
        required = key in ("displayName", "projectNumber")
        if value is None and not required:
            cols[col] = None
        elif not isinstance(value, str) or (required and not value.strip()):
            raise bad_value(key)
        else:
            cols[col] = value.strip() if required else value
    if creating:
        for key in ("displayName", "projectNumber"):
            if _TEXT[key] not in cols:
                raise invalid(CODE, "MissingRequiredProperty", "Required property is missing.", key)
    if "latitude" in body:
        cols["latitude"] = _coordinate(body["latitude"], "latitude", 90.0)
    if "longitude" in body:
        cols["longitude"] = _coordinate(body["longitude"], "longitude", 180.0)
    if "dataCenterLocation" in body:
        if not creating:
            raise bad_value("dataCenterLocation", "dataCenterLocation cannot be changed.")
        if body["dataCenterLocation"] not in DATA_CENTERS:
            raise bad_value("dataCenterLocation")
        cols["data_center_location"] = body["dataCenterLocation"]
    if "billingCountry" in body:
        country = body["billingCountry"]
        if country is not None and (not isinstance(country, str) or not _COUNTRY.match(country)):
            raise bad_value("billingCountry", "Value must be an ISO 3166 alpha-2 country code.")
        cols["billing_country"] = country.upper() if country else None
    if "status" in body:
        status = body["status"]
        if not isinstance(status, str) or status.lower() not in STATUSES:
            raise bad_value("status")
        cols["status"] = status.lower()
    if "allowExternalTeamMembers" in body:
        if not isinstance(body["allowExternalTeamMembers"], bool):
            raise bad_value("allowExternalTeamMembers")
        cols["allow_external"] = int(body["allowExternalTeamMembers"])
    return cols


def number_taken(
    db: sqlite3.Connection, org: str | None, owner_id: str | None, number: str, but: str = ""
) -> bool:
    """projectNumber is unique within the owning organization (or owner, when unaffiliated)."""
    row = db.execute(
        "SELECT 1 FROM projects WHERE org IS ? AND (org IS NOT NULL OR owner_id IS ?) "
        "AND project_number = ? COLLATE NOCASE AND id != ?",
        (org, owner_id, number, but),
    ).fetchone()
    return row is not None


def project_exists() -> ApiError:
    return ApiError(
        409,
        "ProjectExists",
        MSG_PROJECT_EXISTS,
        details=[detail("InvalidValue", MSG_PROJECT_EXISTS, "projectNumber")],
    )


def insert_project(
    db: sqlite3.Connection,
    cols: dict[str, Any],
    *,
    org: str | None,
    owner_id: str | None,
    registered_by: str | None,
    now: float,
    project_id: str | None = None,
) -> str:
    pid = project_id or new_id()
    values = {
        "geographic_location": None,
        "latitude": None,
        "longitude": None,
        "time_zone": None,
        "data_center_location": "East US",
        "billing_country": None,
        "status": "active",
        "allow_external": 1,
        **cols,
        "id": pid,
        "org": org,
        "owner_id": owner_id,
        "registered": iso(now),
        "registered_by": registered_by,
    }
    names = ",".join(values)
    marks = ",".join("?" * len(values))
    db.execute(f"INSERT INTO projects({names}) VALUES({marks})", tuple(values.values()))
    insert_role(db, pid, TEAM_MEMBER, "Write access to Storage and Forms.", TEAM_MEMBER_PERMISSIONS,
                builtin=True)  # fmt: skip
    return pid


def insert_role(
    db: sqlite3.Connection,
    project_id: str,
    name: str,
    description: str,
    permissions: Sequence[str],
    *,
    builtin: bool = False,
    role_id: str | None = None,
) -> str:
    rid = role_id or new_id()
    db.execute(
        "INSERT INTO project_roles(id, project_id, display_name, description, permissions, "
        "builtin) VALUES(?,?,?,?,?,?)",
        (rid, project_id, name, description, json.dumps(list(permissions)), int(builtin)),
    )
    return rid


def delete_project_rows(db: sqlite3.Connection, project_id: str) -> None:
    for table in ("project_roles", "project_members", "project_favorites", "project_recents"):
        db.execute(f"DELETE FROM {table} WHERE project_id=?", (project_id,))
    db.execute("DELETE FROM projects WHERE id=?", (project_id,))
