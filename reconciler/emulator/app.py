"""``create_app``: the emulator as one Starlette app composed from the API modules' routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.emulator import admin, auth, users_api
from reconciler.emulator.access import groups as access_groups
from reconciler.emulator.access import invitations as access_invitations
from reconciler.emulator.access import jobs as access_jobs
from reconciler.emulator.access import members as access_members
from reconciler.emulator.access import roles as access_roles
from reconciler.emulator.access import v1 as access_v1
from reconciler.emulator.clock import Clock
from reconciler.emulator.errors import MSG_RESOURCE_NOT_FOUND, ApiError, json_response
from reconciler.emulator.identity import ensure_secret
from reconciler.emulator.itwins import api as itwins_api
from reconciler.emulator.limits import Faults
from reconciler.emulator.projects import api as projects_api
from reconciler.emulator.routing import RouteTable
from reconciler.emulator.seed import SeedError, apply_seed, read_seed
from reconciler.emulator.store import Store
from reconciler.emulator.web import Emulator


class _NormalizePath:
    """Tolerate trailing slashes (``POST /itwins/``, ``GET /projects/``) by stripping them
    before routing, instead of Starlette's redirect (which clients would not follow on POST)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope = dict(scope)
                scope["path"] = path.rstrip("/") or "/"
                scope["raw_path"] = scope["path"].encode("utf-8")
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unknown paths and methods look like the gateway's answer (contract §2.1).
    return ApiError(404, "ResourceNotFound", MSG_RESOURCE_NOT_FOUND).response()


async def _server_error(request: Request, exc: Exception) -> Response:
    return json_response(
        {"error": {"code": "InternalServerError", "message": "An internal error occurred."}}, 500
    )


def api_routes() -> list[BaseRoute]:
    # Order matters where paths overlap: v2 `/members/users` before v1 `/members/{memberId}`.
    return [
        *auth.ROUTES,
        *itwins_api.ROUTES,
        *access_roles.ROUTES,
        *access_members.ROUTES,
        *access_invitations.ROUTES,
        *access_groups.ROUTES,
        *access_jobs.ROUTES,
        *access_v1.ROUTES,
        *projects_api.ROUTES,
        *users_api.ROUTES,
    ]


def create_app(
    db_path: str | Path,
    seed: str | Path | dict[str, Any] | None = None,
    faults: Faults | None = None,
    admin: bool = False,
    clock: Clock | None = None,
) -> Starlette:
    """The emulator over the SQLite file ``db_path``.

    A new database is loaded with ``seed`` (a YAML path or a parsed mapping; the built-in demo
    seed when None); an existing one keeps its state and ignores ``seed`` (use the admin
    reset to start over). ``faults`` turns on latency, faults and rate limits; ``admin``
    mounts ``/__emulator/``; ``clock`` lets tests share and advance the emulator's time.
    """
    seed_data = read_seed(seed)
    store = Store(db_path)
    if projects_api.SCHEMA:
        store.add_schema(projects_api.SCHEMA, projects_api.TABLES)
    emu = Emulator(
        store=store,
        clock=clock or Clock(),
        faults=faults or Faults(),
        admin=admin,
        seed=seed_data,
        projects_hook=projects_api.load_seed,
    )
    try:
        with store.write() as db:
            if db.execute("SELECT 1 FROM meta WHERE key='seeded'").fetchone() is None:
                try:
                    apply_seed(db, seed_data, emu.clock.now(), projects_api.load_seed)
                except SeedError as exc:
                    where = f"{seed}: " if isinstance(seed, str | Path) else ""
                    raise SeedError(f"{where}{exc}") from None
                db.execute("INSERT INTO meta(key, value) VALUES('seeded', '1')")
            emu.secret = ensure_secret(db)
    except BaseException:
        store.close()
        raise
    routes = api_routes() + (admin_routes() if admin else [])
    app = Starlette(
        middleware=[Middleware(_NormalizePath)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    # Set before the first request builds the middleware stack around it (``routing``).
    app.router = RouteTable(routes, redirect_slashes=False)
    app.state.emu = emu
    return app


def admin_routes() -> list[BaseRoute]:
    return list(admin.ROUTES)
