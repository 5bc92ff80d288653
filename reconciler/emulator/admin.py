"""The admin surface under ``/__emulator/`` (only when the app is created with ``admin=True``).

It needs no token: it is a test and benchmark tool for a loopback emulator.

- ``POST /__emulator/reset``: wipe everything and load the instance's seed again (or the seed
  in the body, YAML or JSON).
- ``POST /__emulator/seed[?replace=true]``: load a seed (YAML or JSON body) on top of the
  current state, or instead of it with ``replace=true``.
- ``GET /__emulator/counters`` / ``DELETE /__emulator/counters``: requests per route and status.
- ``GET /__emulator/clock`` / ``POST /__emulator/clock`` ``{"advanceSeconds": N}``.
- ``POST /__emulator/users`` ``{"email", "givenName", "surname", "organization", "orgAdmin"}``:
  add a directory user; ``DELETE /__emulator/users/{email}``: delete one, leaving its
  memberships behind as "missing users".
"""

from __future__ import annotations

from typing import Any

import yaml
from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator.clock import iso
from reconciler.emulator.errors import ApiError, json_response, no_content
from reconciler.emulator.identity import ensure_secret, user_id_for
from reconciler.emulator.seed import SeedError, apply_seed, read_seed
from reconciler.emulator.web import Api, Emulator, Req, op


def _bad(message: str) -> ApiError:
    return ApiError(422, "InvalidRequest", message)


def _body_seed(req: Req) -> dict[str, Any] | None:
    if not req.body.strip():
        return None
    try:
        data = yaml.safe_load(req.body.decode("utf-8"))  # JSON is YAML too
    except (yaml.YAMLError, UnicodeDecodeError):
        raise _bad("The body is not a YAML or JSON seed.") from None
    try:
        return read_seed(data if data is not None else {})
    except SeedError as exc:
        raise _bad(str(exc)) from None


def _load(req: Req, seed: dict[str, Any], replace: bool) -> None:
    emu: Emulator = req.emu
    if replace:
        emu.store.wipe(req.db)
        emu.seed = seed
    try:
        apply_seed(req.db, seed, req.now, emu.projects_hook)
    except SeedError as exc:
        raise _bad(str(exc)) from None
    req.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('seeded', '1')")
    emu.secret = ensure_secret(req.db)
    emu.forget_callers()
    emu.limiter.reset()


def reset(req: Req) -> Response:
    seed = _body_seed(req) or req.emu.seed
    _load(req, seed, replace=True)
    req.emu.counters.reset()
    req.emu.injector.reseed()
    return json_response({"reset": True})


def load_seed(req: Req) -> Response:
    seed = _body_seed(req)
    if seed is None:
        raise _bad("Send a seed (YAML or JSON) in the body.")
    _load(req, seed, replace=req.q("replace") == "true")
    return json_response({"loaded": True})


def counters(req: Req) -> Response:
    return json_response(req.emu.counters.snapshot())


def reset_counters(req: Req) -> Response:
    req.emu.counters.reset()
    return no_content()


def clock(req: Req) -> Response:
    return json_response({"now": iso(req.now), "offsetSeconds": req.emu.clock.offset})


def advance_clock(req: Req) -> Response:
    body = req.json_object()
    seconds = body.get("advanceSeconds")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise _bad("advanceSeconds must be a non-negative number.")
    req.emu.clock.advance(float(seconds))
    return clock(req)


def add_user(req: Req) -> Response:
    body = req.json_object()
    email = body.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _bad("email is required.")
    org = body.get("organization")
    known = req.db.execute("SELECT 1 FROM orgs WHERE name=?", (org,)).fetchone()
    if org is not None and known is None:
        raise _bad(f"Unknown organization {org}.")
    req.db.execute(
        "INSERT INTO users(id, email, given_name, surname, org, org_admin) VALUES (?,?,?,?,?,?)"
        " ON CONFLICT(email) DO UPDATE SET given_name=excluded.given_name, "
        "surname=excluded.surname, org=excluded.org, org_admin=excluded.org_admin",
        (user_id_for(email), email, body.get("givenName"), body.get("surname"), org,
         int(bool(body.get("orgAdmin", False)))),
    )  # fmt: skip
    req.emu.forget_callers()
    return json_response({"id": user_id_for(email), "email": email}, 201)


def delete_user(req: Req) -> Response:
    cur = req.db.execute("DELETE FROM users WHERE email=?", (req.params["email"],))
    if cur.rowcount == 0:
        raise ApiError(404, "UserNotFound", "No such user in the directory.")
    req.emu.forget_callers()
    return no_content()


ROUTES: list[BaseRoute] = [
    op("POST", "/__emulator/reset", reset, api=Api.ADMIN, auth=False),
    op("POST", "/__emulator/seed", load_seed, api=Api.ADMIN, auth=False),
    op("GET", "/__emulator/counters", counters, api=Api.ADMIN, auth=False),
    op("DELETE", "/__emulator/counters", reset_counters, api=Api.ADMIN, auth=False),
    op("GET", "/__emulator/clock", clock, api=Api.ADMIN, auth=False),
    op("POST", "/__emulator/clock", advance_clock, api=Api.ADMIN, auth=False),
    op("POST", "/__emulator/users", add_user, api=Api.ADMIN, auth=False),
    op("DELETE", "/__emulator/users/{email}", delete_user, api=Api.ADMIN, auth=False),
]
