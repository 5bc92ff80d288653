"""Access Control v2 jobs (contract §4 and C8): bulk assignRoles / unassignRoles / removeMembers.

C8: ``POST`` answers 201 with the job unwrapped, ``{"id","itwinId","status"}``; ``GET`` likewise,
plus ``error`` with ``Prefer: return=representation``. A malformed email or an unknown role id
anywhere in the job is refused at creation (422), not run as a failed action. [I] Permission:
``administration_invite_member``, plus ``administration_remove_member`` when ``unassignRoles``
or ``removeMembers`` is present; owners and organization administrators always.

[I] Jobs run synchronously when created, so a new job is already ``Completed``,
``PartialCompleted`` (some actions failed) or ``Failed`` (all failed); ``GET .../actions``
shows each action with its own ``status`` and, when it failed, its ``error`` (whose ``target``
is the action's email). What can still fail at run time: removing or unassigning someone who is
no member (``TeamMemberNotFound``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator import records
from reconciler.emulator.access.members import CODE, adds_directly
from reconciler.emulator.clock import iso
from reconciler.emulator.errors import (
    MSG_BAD_BODY,
    MSG_BAD_EMAIL,
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
)
from reconciler.emulator.policy import ac_itwin, permissions_of, require_member
from reconciler.emulator.shapes import RoleMap, role_map
from reconciler.emulator.web import Api, Req, op

BASE = "/accesscontrol/itwins/{itwin_id}/jobs"
KINDS = ("assignRoles", "unassignRoles", "removeMembers")
MAX_PER_ACTION = 100


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _validate(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    actions = body.get("actions")
    if actions is None:
        raise missing(CODE, "actions")
    if not isinstance(actions, dict) or not any(actions.get(k) for k in KINDS):
        raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY, "actions")
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in KINDS:
        items = actions.get(kind) or []
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY, f"actions.{kind}")
        if len(items) > MAX_PER_ACTION:
            raise invalid(CODE, "InvalidProperty", MSG_TOO_MANY, f"actions.{kind}")
        for i, item in enumerate(items):
            if not isinstance(item.get("email"), str) or not item["email"].strip():
                raise missing(CODE, f"actions.{kind}[{i}].email")
            if not _EMAIL.match(item["email"].strip()):
                raise invalid(CODE, "InvalidProperty", MSG_BAD_EMAIL, f"actions.{kind}[{i}].email")
            if kind != "removeMembers":
                ids = item.get("roleIds")
                if not isinstance(ids, list) or not ids or len(ids) > MAX_PER_ACTION:
                    raise invalid(CODE, "InvalidRequestBody", MSG_BAD_BODY,
                                  f"actions.{kind}[{i}].roleIds")  # fmt: skip
        if items:
            out[kind] = items
    return out


# SQLite's NOCASE folds ASCII letters only; the job's lookups fold emails the same way.
_NOCASE = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _fold(email: str) -> str:
    return email.lower() if email.isascii() else email.translate(_NOCASE)


class _Members:
    """The job's users and their memberships of the iTwin, read once per job (two statements)
    and kept as the actions change them, instead of two lookups and a write per action; what
    changed is written once at the end (``write``), in the job's one transaction: a job of 25
    entries was ~105 statements, now ~30 (issue 17). Each action sees what the ones before it
    did, as when every action read and wrote the database itself."""

    def __init__(self, db: sqlite3.Connection, itwin_id: str, emails: list[str]) -> None:
        self.db = db
        self.itwin_id = itwin_id
        wanted = sorted({_fold(e) for e in emails})
        marks = ",".join("?" * len(wanted))
        users = db.execute(f"SELECT * FROM users WHERE email IN ({marks})", wanted).fetchall()
        self.users: dict[str, sqlite3.Row] = {_fold(str(u["email"])): u for u in users}
        ids = [u["id"] for u in users]
        marks = ",".join("?" * len(ids))
        rows = db.execute(
            f"SELECT user_id, role_ids FROM members WHERE itwin_id=? AND user_id IN ({marks})",
            (itwin_id, *ids),
        ).fetchall()
        self.before: dict[str, list[str]] = {r[0]: list(json.loads(r[1])) for r in rows}
        self.roles: dict[str, list[str]] = dict(self.before)
        # Members added by this job, in the order they were added (their rows' order, which
        # is the members list's), and members removed then added again (a new row, last; the
        # actions run assignRoles first, so only another order of them would meet this).
        self.added: dict[str, None] = {}
        self.renewed: set[str] = set()

    def user(self, email: str) -> sqlite3.Row | None:
        return self.users.get(_fold(email))

    def add(self, user_id: str, ids: list[str]) -> None:
        if user_id in self.before:
            self.renewed.add(user_id)
        self.added.pop(user_id, None)
        self.added[user_id] = None
        self.roles[user_id] = ids

    def set_roles(self, user_id: str, ids: list[str]) -> None:
        if ids:
            self.roles[user_id] = ids
        else:  # a member cannot hold zero roles: removing the last role removes the member
            self.roles.pop(user_id, None)

    def write(self) -> None:
        """The members as the actions left them: removed rows deleted, changed rows updated,
        new rows inserted in the order they were added."""
        gone = [u for u in self.before if u not in self.roles or u in self.renewed]
        changed = [
            u for u in self.before
            if u in self.roles and u not in self.renewed and self.roles[u] != self.before[u]
        ]  # fmt: skip
        new = [u for u in self.added if u in self.roles]
        self.db.executemany(
            "DELETE FROM members WHERE itwin_id=? AND user_id=?",
            [(self.itwin_id, u) for u in gone],
        )
        self.db.executemany(
            "UPDATE members SET role_ids=? WHERE itwin_id=? AND user_id=?",
            [(json.dumps(self.roles[u]), self.itwin_id, u) for u in changed],
        )
        for user_id in new:
            records.add_member(self.db, self.itwin_id, user_id, self.roles[user_id])


def _run_one(
    req: Req, itwin: sqlite3.Row, members: _Members, kind: str, item: dict[str, Any]
) -> dict[str, str] | None:
    """Carry out one action; return an error detail when it fails."""
    email = item["email"].strip()
    # removeMembers carries no roles: whatever it sends as roleIds is ignored.
    ids = [str(r) for r in item.get("roleIds") or []] if kind != "removeMembers" else []
    user = members.user(email)
    current = members.roles.get(user["id"]) if user is not None else None
    if kind == "assignRoles":
        if current is not None and user is not None:
            members.set_roles(user["id"], list(dict.fromkeys([*current, *ids])))
        elif user is not None and adds_directly(req.caller, user):
            members.add(user["id"], list(dict.fromkeys(ids)))
        else:
            records.upsert_invitation(
                req.db, itwin_id=itwin["id"], kind="member", email=email, role_ids=ids,
                inviter_id=req.caller.id, inviter_email=req.caller.email, now=req.now,
            )  # fmt: skip
        return None
    if current is None or user is None:
        return detail("TeamMemberNotFound", MSG_MEMBER_NOT_FOUND, email)
    if kind == "unassignRoles":
        members.set_roles(user["id"], [r for r in current if r not in ids])
    else:
        members.set_roles(user["id"], [])
    return None


def _check_roles(actions: dict[str, list[dict[str, Any]]], roles: RoleMap) -> None:
    """C8: an unknown role id anywhere is a 422 at creation."""
    for kind in ("assignRoles", "unassignRoles"):
        for i, item in enumerate(actions.get(kind, [])):
            for j, role_id in enumerate(item["roleIds"]):
                if str(role_id) not in roles:
                    raise ApiError(
                        422, CODE, MSG_INVALID_REQUEST,
                        details=[detail("RoleNotFound", MSG_ROLE_NOT_FOUND,
                                        f"actions.{kind}[{i}].roleIds[{j}]")],
                    )  # fmt: skip


def create_job(req: Req) -> Response:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    held = permissions_of(req.db, req.caller, itwin)
    actions = _validate(req.json_object())
    if "administration_invite_member" not in held:
        raise forbidden()
    if set(actions) - {"assignRoles"} and "administration_remove_member" not in held:
        raise forbidden()
    roles = role_map(req.db, itwin)
    _check_roles(actions, roles)
    emails = [item["email"].strip() for items in actions.values() for item in items]
    members = _Members(req.db, itwin["id"], emails)
    errors: list[dict[str, str]] = []
    done: dict[str, list[dict[str, Any]]] = {}
    total = 0
    for kind, items in actions.items():
        done[kind] = []
        for item in items:
            total += 1
            error = _run_one(req, itwin, members, kind, item)
            entry: dict[str, Any] = {"email": item["email"].strip()}
            if kind != "removeMembers":
                entry["roleIds"] = item["roleIds"]
            entry["status"] = "Failed" if error else "Completed"
            if error:
                entry["error"] = error
                errors.append(error)
            done[kind].append(entry)
    members.write()
    status = "Completed" if not errors else "Failed" if len(errors) == total else "PartialCompleted"
    job_id = records.new_id()
    req.db.execute(
        "INSERT INTO jobs(id, itwin_id, status, created, actions, errors) VALUES (?,?,?,?,?,?)",
        (job_id, itwin["id"], status, iso(req.now), json.dumps(done), json.dumps(errors)),
    )
    return json_response({"id": job_id, "itwinId": itwin["id"], "status": status}, 201)


def _job(req: Req) -> sqlite3.Row:
    itwin = ac_itwin(req.db, req.params["itwin_id"])
    require_member(req.db, req.caller, itwin)
    unknown = ApiError(404, "JobNotFound", "Requested job is not available.")
    return records.row_in_itwin(req.db, "jobs", req.params["job_id"], itwin["id"], unknown)


def get_job(req: Req) -> Response:
    row = _job(req)
    job: dict[str, Any] = {"id": row["id"], "itwinId": row["itwin_id"], "status": row["status"]}
    if req.representation:
        job["error"] = json.loads(row["errors"])
    return json_response(job)


def get_job_actions(req: Req) -> Response:
    row = _job(req)
    return json_response({"actions": json.loads(row["actions"])})


def _j(method: str, path: str, handler: Any) -> BaseRoute:
    return op(method, BASE + path, handler, api=Api.ACCESS, versions=(2,), invalid_code=CODE)


ROUTES: list[BaseRoute] = [
    _j("POST", "", create_job),
    _j("GET", "/{job_id}", get_job),
    _j("GET", "/{job_id}/actions", get_job_actions),
]
