"""Row-level reads and writes shared by the API modules and the seed loader.

Table and column names passed to the helpers below are the emulator's own, never request input.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable
from typing import Any

from reconciler.emulator.clock import iso
from reconciler.emulator.errors import ApiError

INVITATION_LIFETIME = 7 * 24 * 3600


def new_id() -> str:
    return str(uuid.uuid4())


def row_in_itwin(
    db: sqlite3.Connection, table: str, row_id: str, itwin_id: str, missing: ApiError
) -> sqlite3.Row:
    """Row ``row_id`` of ``table`` if it belongs to ``itwin_id``, else ``missing`` is raised
    (an id of another iTwin is as unknown as a made-up one)."""
    row: sqlite3.Row | None = db.execute(
        f"SELECT * FROM {table} WHERE id=? AND itwin_id=?", (row_id, itwin_id)
    ).fetchone()
    if row is None:
        raise missing
    return row


def update_row(
    db: sqlite3.Connection, table: str, row_id: str, cols: dict[str, Any]
) -> sqlite3.Row:
    """Set ``cols`` (column -> value; none is a no-op) on row ``row_id`` of ``table`` and
    answer the row as it now is."""
    if cols:
        sets = ",".join(f"{c}=?" for c in cols)
        db.execute(f"UPDATE {table} SET {sets} WHERE id=?", (*cols.values(), row_id))
    row: sqlite3.Row = db.execute(f"SELECT * FROM {table} WHERE id=?", (row_id,)).fetchone()
    return row


def find_user(db: sqlite3.Connection, email: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM users WHERE email=?", (email.strip(),)
    ).fetchone()
    return row


def account_id_of(db: sqlite3.Connection, org: str | None) -> str | None:
    if org is None:
        return None
    row = db.execute("SELECT account_id FROM orgs WHERE name=?", (org,)).fetchone()
    return None if row is None else str(row[0])


def insert_itwin(
    db: sqlite3.Connection,
    fields: dict[str, Any],
    *,
    org: str | None,
    created_by: str | None,
    now: float,
    itwin_id: str | None = None,
) -> str:
    """Insert an iTwin from API-shaped ``fields`` (already validated)."""
    itwin_id = itwin_id or new_id()
    stamp = iso(now)
    account_id = fields.get("iTwinAccountId") or account_id_of(db, org)
    parent_id = fields.get("parentId")
    if fields.get("class") == "Account":
        account_id = itwin_id
    elif not parent_id:
        # [I] contract C10: an iTwin created without a parent reads back with its Account
        # iTwin as parentId (null only for an iTwin of no organization).
        parent_id = account_id
    db.execute(
        "INSERT INTO itwins(id, org, class, sub_class, type, number, display_name, "
        "geographic_location, latitude, longitude, iana_time_zone, data_center_location, status, "
        "parent_id, account_id, image_name, image, created, created_by, modified, modified_by) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            itwin_id,
            org,
            fields["class"],
            fields["subClass"],
            fields.get("type"),
            fields.get("number") or itwin_id,
            fields["displayName"],
            fields.get("geographicLocation"),
            fields.get("latitude"),
            fields.get("longitude"),
            fields.get("ianaTimeZone"),
            fields.get("dataCenterLocation") or "East US",
            fields.get("status") or "Active",
            parent_id,
            account_id,
            None,
            None,
            stamp,
            created_by,
            stamp,
            created_by,
        ),
    )
    return itwin_id


def add_default_roles(db: sqlite3.Connection, itwin_id: str) -> None:
    """Give a new iTwin the seed's ``defaultRoles`` as roles of type ``Default`` (C6)."""
    row = db.execute("SELECT value FROM meta WHERE key='default_roles'").fetchone()
    for role in json.loads(row[0]) if row is not None else []:
        insert_role(db, itwin_id, role["displayName"], role["description"], role["permissions"],
                    role_type="Default")  # fmt: skip


def delete_itwin(db: sqlite3.Connection, itwin_id: str) -> None:
    """Delete an iTwin and everything that hangs off it."""
    groups = [r[0] for r in db.execute("SELECT id FROM groups WHERE itwin_id=?", (itwin_id,))]
    for group_id in groups:
        db.execute("DELETE FROM group_users WHERE group_id=?", (group_id,))
        db.execute("DELETE FROM group_members WHERE group_id=?", (group_id,))
        db.execute("DELETE FROM invitations WHERE group_id=?", (group_id,))
    for table in ("roles", "members", "owners", "groups", "group_members", "invitations", "jobs"):
        db.execute(f"DELETE FROM {table} WHERE itwin_id=?", (itwin_id,))
    db.execute("DELETE FROM favorites WHERE itwin_id=?", (itwin_id,))
    db.execute("DELETE FROM recents WHERE itwin_id=?", (itwin_id,))
    db.execute("DELETE FROM itwins WHERE id=?", (itwin_id,))


def insert_role(
    db: sqlite3.Connection,
    itwin_id: str,
    display_name: str,
    description: str,
    permissions: Iterable[str] = (),
    *,
    role_type: str = "Custom",
    role_id: str | None = None,
) -> str:
    role_id = role_id or new_id()
    db.execute(
        "INSERT INTO roles(id, itwin_id, display_name, description, permissions, type) "
        "VALUES (?,?,?,?,?,?)",
        (role_id, itwin_id, display_name, description, json.dumps(list(permissions)), role_type),
    )
    return role_id


def add_member(db: sqlite3.Connection, itwin_id: str, user_id: str, role_ids: list[str]) -> None:
    db.execute(
        "INSERT INTO members(itwin_id, user_id, role_ids) VALUES (?,?,?)",
        (itwin_id, user_id, json.dumps(role_ids)),
    )


def add_owner(db: sqlite3.Connection, itwin_id: str, user_id: str) -> None:
    db.execute("INSERT OR IGNORE INTO owners(itwin_id, user_id) VALUES (?,?)", (itwin_id, user_id))


def upsert_invitation(
    db: sqlite3.Connection,
    *,
    itwin_id: str,
    kind: str,
    email: str,
    role_ids: list[str],
    inviter_id: str | None,
    inviter_email: str | None,
    now: float,
    group_id: str | None = None,
) -> str:
    """Invite ``email``; a pending, unexpired invitation of the same kind is renewed instead
    (its roles replaced and its 7 days restarted), so re-inviting never duplicates."""
    row = db.execute(
        "SELECT id FROM invitations WHERE itwin_id=? AND kind=? AND email=? "
        "AND COALESCE(group_id, '')=? AND status='Pending' AND expires>?",
        (itwin_id, kind, email, group_id or "", now),
    ).fetchone()
    expires = now + INVITATION_LIFETIME
    if row is not None:
        db.execute(
            "UPDATE invitations SET role_ids=?, created=?, expires=?, inviter_id=?, "
            "inviter_email=? WHERE id=?",
            (json.dumps(role_ids), now, expires, inviter_id, inviter_email, row[0]),
        )
        return str(row[0])
    invitation_id = new_id()
    db.execute(
        "INSERT INTO invitations(id, itwin_id, kind, group_id, email, role_ids, inviter_id, "
        "inviter_email, created, expires) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            invitation_id,
            itwin_id,
            kind,
            group_id,
            email,
            json.dumps(role_ids),
            inviter_id,
            inviter_email,
            now,
            expires,
        ),
    )
    return invitation_id


def remove_role_everywhere(db: sqlite3.Connection, role_id: str) -> None:
    """Deleting a role is not blocked by assignments (contract §4 [I]); they vanish.

    A member cannot hold zero roles (as when a job unassigns the last one): a user, group or
    member invitation left with none goes too. Kept, a role-less member invitation would be
    indistinguishable on the wire from an owner invitation (neither carries roles).
    """
    like = f'%"{role_id}"%'
    for table, key in (("members", "seq"), ("group_members", "seq"), ("invitations", "seq")):
        rows = db.execute(
            f"SELECT {key}, role_ids FROM {table} WHERE role_ids LIKE ?",
            (like,),
        ).fetchall()
        for row in rows:
            ids = [r for r in json.loads(row[1]) if r != role_id]
            if not ids:
                db.execute(f"DELETE FROM {table} WHERE {key}=?", (row[0],))
                continue
            db.execute(
                f"UPDATE {table} SET role_ids=? WHERE {key}=?",
                (json.dumps(ids), row[0]),
            )
