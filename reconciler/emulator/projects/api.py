"""Projects API (deprecated, contract §5 and §9): projects, favorites, recents, permissions.

Team members and roles are in :mod:`reconciler.emulator.projects.team`; tables, rights, shapes
and the seed loader in :mod:`reconciler.emulator.projects.store`. ``ROUTES`` lists every route;
``SCHEMA``/``TABLES``/``load_seed`` are what the app factory and the seed loader hook in.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from reconciler.emulator.errors import forbidden, json_response, no_content
from reconciler.emulator.policy import ALL_PERMISSIONS
from reconciler.emulator.projects import team
from reconciler.emulator.projects.seed import load_seed
from reconciler.emulator.projects.store import (
    CODE,
    RECENTS_MAX,
    SCHEMA,
    TABLES,
    delete_project_rows,
    insert_project,
    not_found,
    number_taken,
    project_columns,
    project_exists,
    project_json,
    visibility_sql,
    visible_project,
)
from reconciler.emulator.records import update_row
from reconciler.emulator.web import Api, Req, op

__all__ = ["ROUTES", "SCHEMA", "TABLES", "load_seed"]

# Lists of projects: [I] default 100 and at most 1000 per page, as the iTwins API documents.
_MAX_TOP = 1000


def origin(req: Req) -> str:
    url = req.request.url
    return f"{url.scheme}://{url.netloc}"


def _page(
    req: Req, *, join: str = "", join_args: tuple[Any, ...] = (), extra: str = "",
    extra_args: tuple[Any, ...] = (), order: str = "p.seq",
) -> Response:  # fmt: skip
    """One page of the projects the caller sees, optionally joined to favorites/recents."""
    skip, top = req.paging(CODE, default_top=100, max_top=_MAX_TOP)
    seen, seen_args = visibility_sql(req.caller)
    rows = req.db.execute(
        f"SELECT p.* FROM projects p {join} WHERE {seen} {extra} ORDER BY {order} LIMIT ? OFFSET ?",
        (*join_args, *seen_args, *extra_args, top + 1, skip),
    ).fetchall()
    full = req.representation
    body = {
        "projects": [project_json(r, full, origin(req)) for r in rows[:top]],
        "_links": req.links(skip, top, len(rows) > top),
    }
    return json_response(body)


# -- projects --------------------------------------------------------------------------------
def list_projects(req: Req) -> Response:
    """``GET /projects/?projectNumber&displayName&$search&$top&$skip`` ([I] exact filters are
    case-insensitive; ``$search`` is a case-insensitive substring of projectNumber or
    displayName; all filters combine with AND)."""
    extra = ""
    args: list[Any] = []
    for param, col in (("projectNumber", "project_number"), ("displayName", "display_name")):
        value = req.q(param)
        if value is not None:
            extra += f" AND p.{col} = ? COLLATE NOCASE"
            args.append(value)
    search = req.q("$search")
    if search:
        extra += " AND (instr(lower(p.project_number), ?) OR instr(lower(p.display_name), ?))"
        args.extend([search.lower(), search.lower()])
    return _page(req, extra=extra, extra_args=tuple(args))


def get_project(req: Req) -> Response:
    project, _ = visible_project(req.db, req.caller, req.params["projectId"])
    return json_response({"project": project_json(project, req.representation, origin(req))})


def create_project(req: Req) -> Response:
    """``POST /projects/``: an org-affiliated caller must be an org admin and the project
    belongs to the organization; an unaffiliated caller owns the project (contract §5)."""
    caller = req.caller
    if caller.org is not None and not caller.org_admin:
        raise forbidden()
    cols = project_columns(req.json_object(), creating=True)
    owner_id = None if caller.org is not None else caller.id
    if number_taken(req.db, caller.org, owner_id, cols["project_number"]):
        raise project_exists()
    pid = insert_project(
        req.db, cols, org=caller.org, owner_id=owner_id, registered_by=caller.id, now=req.now
    )
    row = req.db.execute("SELECT * FROM projects WHERE id=?", (pid,)).fetchone()
    # [I] Create and update answer the full representation whatever Prefer says (sample app).
    return json_response({"project": project_json(row, True, origin(req))}, 201)


def update_project(req: Req) -> Response:
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    if not got.admin:
        raise forbidden()
    cols = project_columns(req.json_object(), creating=False)
    number = cols.get("project_number")
    if number is not None and number_taken(
        req.db, project["org"], project["owner_id"], number, project["id"]
    ):
        raise project_exists()
    row = update_row(req.db, "projects", project["id"], cols)
    return json_response({"project": project_json(row, True, origin(req))})


def delete_project(req: Req) -> Response:
    project, got = visible_project(req.db, req.caller, req.params["projectId"])
    if not got.admin:
        raise forbidden()
    delete_project_rows(req.db, project["id"])
    return no_content()


def my_permissions(req: Req) -> Response:
    """``GET /projects/{id}/permissions``: the caller's permissions, catalogue order ([I] path)."""
    _, got = visible_project(req.db, req.caller, req.params["projectId"])
    return json_response({"permissions": [p for p in ALL_PERMISSIONS if p in got.permissions]})


# -- favorites and recents -------------------------------------------------------------------
def list_favorites(req: Req) -> Response:
    join = "JOIN project_favorites f ON f.project_id = p.id AND f.user_id = ?"
    return _page(req, join=join, join_args=(req.caller.id,), order="f.seq")


def list_recents(req: Req) -> Response:
    join = "JOIN project_recents r ON r.project_id = p.id AND r.user_id = ?"
    return _page(req, join=join, join_args=(req.caller.id,), order="r.ts DESC")


def add_favorite(req: Req) -> Response:
    """[I] 200 (the sample app expects 200, not the iTwins API's 204) with the project."""
    project, _ = visible_project(req.db, req.caller, req.params["projectId"])
    req.db.execute(
        "INSERT OR IGNORE INTO project_favorites(user_id, project_id) VALUES(?,?)",
        (req.caller.id, project["id"]),
    )
    return json_response({"project": project_json(project, req.representation, origin(req))})


def remove_favorite(req: Req) -> Response:
    """204 ([I] also when the project was not a favorite: removal is idempotent)."""
    project = req.db.execute(
        "SELECT id FROM projects WHERE id=?", (req.params["projectId"],)
    ).fetchone()
    if project is None:
        raise not_found()
    req.db.execute(
        "DELETE FROM project_favorites WHERE user_id=? AND project_id=?",
        (req.caller.id, project["id"]),
    )
    return no_content()


def add_recent(req: Req) -> Response:
    """200 like favorites; keeps the caller's 25 most recent (contract §5)."""
    project, _ = visible_project(req.db, req.caller, req.params["projectId"])
    uid = req.caller.id
    # A per-user counter rather than the clock: two adds in the same instant stay ordered.
    row = req.db.execute("SELECT MAX(ts) FROM project_recents WHERE user_id=?", (uid,)).fetchone()
    ts = (row[0] or 0) + 1
    req.db.execute(
        "INSERT OR REPLACE INTO project_recents(user_id, project_id, ts) VALUES(?,?,?)",
        (uid, project["id"], ts),
    )
    req.db.execute(
        "DELETE FROM project_recents WHERE user_id=? AND ts <= ?", (uid, ts - RECENTS_MAX)
    )
    return json_response({"project": project_json(project, req.representation, origin(req))})


def _op(method: str, path: str, handler: Any) -> Route:
    # Trailing slashes (``GET /projects/``, the client's ``favorites/``) are stripped by the
    # app before routing, so one route per path suffices.
    return op(method, path, handler, api=Api.PROJECTS)


ROUTES: list[Route] = [
    _op("GET", "/projects", list_projects),
    _op("POST", "/projects", create_project),
    _op("GET", "/projects/favorites", list_favorites),
    _op("GET", "/projects/recents", list_recents),
    _op("POST", "/projects/favorites/{projectId}", add_favorite),
    _op("DELETE", "/projects/favorites/{projectId}", remove_favorite),
    _op("POST", "/projects/recents/{projectId}", add_recent),
    _op("GET", "/projects/{projectId}", get_project),
    _op("PATCH", "/projects/{projectId}", update_project),
    _op("DELETE", "/projects/{projectId}", delete_project),
    _op("GET", "/projects/{projectId}/permissions", my_permissions),
    _op("GET", "/projects/{projectId}/members", team.list_members),
    _op("POST", "/projects/{projectId}/members", team.add_member),
    _op("GET", "/projects/{projectId}/members/{memberId}", team.get_member),
    _op("PATCH", "/projects/{projectId}/members/{memberId}", team.update_member),
    _op("DELETE", "/projects/{projectId}/members/{memberId}", team.remove_member),
    _op("GET", "/projects/{projectId}/roles", team.list_roles),
    _op("POST", "/projects/{projectId}/roles", team.create_role),
    _op("PATCH", "/projects/{projectId}/roles/{roleId}", team.update_role),
    _op("DELETE", "/projects/{projectId}/roles/{roleId}", team.delete_role),
]
