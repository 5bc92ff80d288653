"""The seed's ``projects:`` key (Projects API projects, roles and members in the API's shapes)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from reconciler.emulator.errors import ApiError
from reconciler.emulator.identity import user_id_for
from reconciler.emulator.projects.store import (
    TEAM_MEMBER,
    check_permissions,
    insert_project,
    insert_role,
    number_taken,
    project_columns,
)
from reconciler.emulator.seed import SeedError


def load_seed(db: sqlite3.Connection, entries: Any, now: float) -> None:
    """Load the seed's ``projects:`` list, in the API's own shapes::

        projects:
          - displayName: Bridge A            # + projectNumber and any project property
            projectNumber: P-100
            organization: Contoso            # owning org (default: the seed's first org)
            roles:                           # besides the built-in "Team Member"
              - {displayName: Viewer, description: Read only, permissions: [imodels_read]}
            members:                         # roles as names (the API's default shape)
              - {email: bob@contoso.com, roles: [Team Member, Viewer]}
              - {id: 2f0c..., email: null, roles: [Viewer]}   # a "missing user"

    Members get exactly the roles listed (the seed states existing state; "Team Member" is
    added only by the POST endpoint).
    """
    if entries is None:
        return
    if not isinstance(entries, list):
        raise SeedError("projects: must be a list of projects")
    first_org = db.execute("SELECT name FROM orgs ORDER BY rowid LIMIT 1").fetchone()
    for i, entry in enumerate(entries):
        where = f"projects[{i}]"
        try:
            _seed_project(db, entry, now, first_org[0] if first_org else None, where)
        except sqlite3.IntegrityError:
            # Ids given in the seed that the database already holds (a seed loaded twice).
            raise SeedError(f"{where}: a role id is already in use") from None
        except ApiError as exc:
            problem = exc.details[0] if exc.details else {"message": exc.message}
            target = problem.get("target", "")
            raise SeedError(
                f"{where}{'.' + target if target else ''}: {problem['message']}"
            ) from None


def _seed_project(
    db: sqlite3.Connection, entry: Any, now: float, default_org: str | None, where: str
) -> None:
    if not isinstance(entry, dict):
        raise SeedError(f"{where}: must be a mapping")
    org = entry.get("organization", default_org)
    owner_id = None
    if org is None:
        owner = entry.get("owner")
        if not isinstance(owner, str):
            raise SeedError(f"{where}: a project without organization needs owner: <email>")
        owner_id = _user_id(db, owner)
    elif db.execute("SELECT 1 FROM orgs WHERE name=?", (org,)).fetchone() is None:
        raise SeedError(f"{where}.organization: unknown organization {org!r}")
    cols = project_columns(entry, creating=True)
    if number_taken(db, org, owner_id, cols["project_number"]):
        raise SeedError(
            f"{where}.projectNumber: duplicate projectNumber {cols['project_number']!r}"
        )
    given_id = _opt_str(entry.get("id"), f"{where}.id")
    if given_id and db.execute("SELECT 1 FROM projects WHERE id=?", (given_id,)).fetchone():
        raise SeedError(f"{where}.id: a project with id {given_id!r} already exists")
    pid = insert_project(
        db, cols, org=org, owner_id=owner_id, registered_by=None, now=now, project_id=given_id
    )
    by_name = {TEAM_MEMBER.casefold(): _team_member_id(db, pid)}
    for j, role in enumerate(_list(entry.get("roles"), f"{where}.roles")):
        rwhere = f"{where}.roles[{j}]"
        if not isinstance(role, dict) or not isinstance(role.get("displayName"), str):
            raise SeedError(f"{rwhere}: needs displayName")
        name = role["displayName"].strip()
        perms = check_permissions(role.get("permissions", []), f"roles[{j}].permissions")
        if name.casefold() in by_name:
            if name.casefold() != TEAM_MEMBER.casefold():
                raise SeedError(f"{rwhere}: duplicate role {name!r}")
            db.execute(
                "UPDATE project_roles SET permissions=? WHERE id=?",
                (json.dumps(perms), by_name[name.casefold()]),
            )
            continue
        by_name[name.casefold()] = insert_role(
            db, pid, name, str(role.get("description") or ""), perms,
            role_id=_opt_str(role.get("id"), f"{rwhere}.id"),
        )  # fmt: skip
    for j, member in enumerate(_list(entry.get("members"), f"{where}.members")):
        mwhere = f"{where}.members[{j}]"
        if not isinstance(member, dict):
            raise SeedError(f"{mwhere}: must be a mapping")
        email = member.get("email")
        if email is not None and not isinstance(email, str):
            raise SeedError(f"{mwhere}.email: must be a string or null")
        uid = _opt_str(member.get("id"), f"{mwhere}.id") or (_user_id(db, email) if email else None)
        if uid is None:
            raise SeedError(f"{mwhere}: needs email or id")
        role_ids = []
        for name in _list(member.get("roles"), f"{mwhere}.roles"):
            key = name.get("displayName") if isinstance(name, dict) else name
            if not isinstance(key, str) or key.casefold() not in by_name:
                raise SeedError(f"{mwhere}.roles: unknown role {key!r}")
            role_ids.append(by_name[key.casefold()])
        try:
            db.execute(
                "INSERT INTO project_members(project_id, user_id, email, role_ids) VALUES(?,?,?,?)",
                (
                    pid,
                    uid,
                    _external_email(db, uid, email),
                    json.dumps(list(dict.fromkeys(role_ids))),
                ),
            )
        except sqlite3.IntegrityError:
            raise SeedError(f"{mwhere}: duplicate member") from None


def _team_member_id(db: sqlite3.Connection, project_id: str) -> str:
    row = db.execute(
        "SELECT id FROM project_roles WHERE project_id=? AND builtin=1", (project_id,)
    ).fetchone()
    return str(row[0])


def _external_email(db: sqlite3.Connection, user_id: str, email: str | None) -> str | None:
    """The email kept on the membership: only for users the directory does not hold (a
    directory user's email comes from the directory, so deleting the user leaves a "missing
    user")."""
    if email is None or db.execute("SELECT 1 FROM users WHERE id=?", (user_id,)).fetchone():
        return None
    return email.strip()


def _user_id(db: sqlite3.Connection, email: str) -> str:
    row = db.execute("SELECT id FROM users WHERE email=?", (email.strip(),)).fetchone()
    return str(row[0]) if row is not None else user_id_for(email)


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SeedError(f"{where}: must be a list")
    return value


def _opt_str(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise SeedError(f"{where}: must be a string")
