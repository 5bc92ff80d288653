"""The caller/permission policy engine (contract §6).

- Owners hold every permission on their iTwin, without a role.
- Organization administrators have full control of every iTwin of their organization.
- Everyone else holds the permissions of the roles assigned to them directly or through a group
  they belong to (roles may be defined on the iTwin or on its Account iTwin).
- Owners and organization administrators (who need not be owners) add and remove owners and
  delete iTwins, nobody else: a role with invite/remove permissions is not enough (contract C1,
  C2; checked by the handlers with :func:`require_owner_or_org_admin`).
"""

from __future__ import annotations

import json
import sqlite3

from reconciler.emulator.errors import MSG_ITWIN_NOT_FOUND, ApiError, forbidden
from reconciler.emulator.identity import Caller

# The catalogue answered by GET /accesscontrol/itwins/permissions, in this order (docs/emulator.md;
# tests/fixtures/permissions.txt is the reviewed copy the tests compare against).
ALL_PERMISSIONS: tuple[str, ...] = (
    "administration_invite_member",
    "administration_remove_member",
    "administration_manage_roles",
    "administration_manage_groups",
    "itwins_read",
    "itwins_create",
    "itwins_modify",
    "itwins_delete",
    "imodels_read",
    "imodels_webview",
    "imodels_write",
    "imodels_manage",
    "imodels_delete",
    "storage_read",
    "storage_write",
    "storage_delete",
    "forms_read",
    "forms_write",
    "forms_delete",
    "issues_read",
    "issues_write",
    "issues_delete",
    "realitydata_read",
    "realitydata_use",
    "realitydata_modify",
    "realitydata_delete",
    "synchronization_read",
    "synchronization_write",
    "changedelements_read",
    "clashdetection_read",
    "clashdetection_write",
    "savedviews_read",
    "savedviews_write",
    "webhooks_read",
    "webhooks_write",
)
PERMISSION_SET = frozenset(ALL_PERMISSIONS)


def get_itwin(db: sqlite3.Connection, itwin_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute("SELECT * FROM itwins WHERE id=?", (itwin_id,)).fetchone()
    return row


def is_org_admin(caller: Caller, itwin: sqlite3.Row) -> bool:
    return caller.org_admin and caller.org is not None and itwin["org"] == caller.org


def is_owner(db: sqlite3.Connection, itwin_id: str, user_id: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM owners WHERE itwin_id=? AND user_id=?", (itwin_id, user_id)
    ).fetchone()
    return row is not None


def assigned_role_ids(db: sqlite3.Connection, itwin_id: str, user_id: str) -> set[str]:
    """Role ids a user holds on an iTwin, directly or through groups."""
    rows = db.execute(
        "SELECT role_ids FROM members WHERE itwin_id=? AND user_id=? "
        "UNION ALL SELECT gm.role_ids FROM group_members gm "
        "JOIN group_users gu ON gu.group_id = gm.group_id "
        "WHERE gm.itwin_id=? AND gu.user_id=?",
        (itwin_id, user_id, itwin_id, user_id),
    ).fetchall()
    out: set[str] = set()
    for row in rows:
        out.update(json.loads(row[0]))
    return out


def is_member(db: sqlite3.Connection, caller: Caller, itwin_id: str) -> bool:
    """A user member, an owner, or a member of a group that is a member."""
    row = db.execute(
        "SELECT 1 FROM members WHERE itwin_id=?1 AND user_id=?2 "
        "UNION ALL SELECT 1 FROM owners WHERE itwin_id=?1 AND user_id=?2 "
        "UNION ALL SELECT 1 FROM group_members gm JOIN group_users gu "
        "ON gu.group_id = gm.group_id WHERE gm.itwin_id=?1 AND gu.user_id=?2 LIMIT 1",
        (itwin_id, caller.id),
    ).fetchone()
    return row is not None


def permissions_of(db: sqlite3.Connection, caller: Caller, itwin: sqlite3.Row) -> frozenset[str]:
    if is_org_admin(caller, itwin) or is_owner(db, itwin["id"], caller.id):
        return PERMISSION_SET
    role_ids = assigned_role_ids(db, itwin["id"], caller.id)
    if not role_ids:
        return frozenset()
    marks = ",".join("?" * len(role_ids))
    rows = db.execute(
        f"SELECT permissions FROM roles WHERE id IN ({marks})",
        tuple(role_ids),
    ).fetchall()
    out: set[str] = set()
    for row in rows:
        out.update(json.loads(row[0]))
    return frozenset(out)


def can_see(db: sqlite3.Connection, caller: Caller, itwin: sqlite3.Row) -> bool:
    """Members and org admins see an iTwin; org members see their own Account iTwin."""
    if is_org_admin(caller, itwin) or is_member(db, caller, itwin["id"]):
        return True
    return bool(itwin["class"] == "Account" and caller.org and itwin["org"] == caller.org)


def ac_itwin(db: sqlite3.Connection, itwin_id: str) -> sqlite3.Row:
    """The iTwin of an Access Control route, or 404 ``ItwinNotFound`` (capital I)."""
    itwin = get_itwin(db, itwin_id)
    if itwin is None:
        raise ApiError(404, "ItwinNotFound", MSG_ITWIN_NOT_FOUND)
    return itwin


def require_member(db: sqlite3.Connection, caller: Caller, itwin: sqlite3.Row) -> None:
    """Reads of members, owners and invitations: any member of the iTwin or an org admin."""
    if not (is_org_admin(caller, itwin) or is_member(db, caller, itwin["id"])):
        raise forbidden()


def require(db: sqlite3.Connection, caller: Caller, itwin: sqlite3.Row, permission: str) -> None:
    if permission not in permissions_of(db, caller, itwin):
        raise forbidden()


def require_owner_or_org_admin(db: sqlite3.Connection, caller: Caller, itwin: sqlite3.Row) -> None:
    """Adding or removing owners, deleting an iTwin: an owner, or an organization administrator
    of its organization ("the only exception", contract C1/C2); role permissions never suffice."""
    if not (is_org_admin(caller, itwin) or is_owner(db, itwin["id"], caller.id)):
        raise forbidden()
