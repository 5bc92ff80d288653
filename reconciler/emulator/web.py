"""The request plumbing every API module shares.

An API module is a list of routes built with :func:`op`. ``op`` wraps a small *synchronous*
handler ``(Req) -> Response`` with everything cross-cutting, in this order: request counters,
latency, rate limit (429), fault injection (500/503/dropped connection), Accept-header version
check (404 ``ResourceNotFound``), bearer auth (401), then the handler inside one database
transaction (a read for GET, a write transaction otherwise) under the store's lock. Handlers run
on the event loop without a thread hop: they are short, and serialising them is what makes
concurrent writers safe.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formatdate
from enum import Enum
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from reconciler.emulator.clock import Clock
from reconciler.emulator.errors import (
    MSG_BAD_BODY,
    MSG_HEADER_NOT_FOUND,
    MSG_INVALID_REQUEST,
    MSG_OUT_OF_RANGE,
    MSG_RESOURCE_NOT_FOUND,
    MSG_UNAUTHORIZED,
    ApiError,
    detail,
    json_response,
)
from reconciler.emulator.identity import Caller, lookup_token
from reconciler.emulator.limits import FaultInjector, Faults, RateLimiter
from reconciler.emulator.store import Store

ProjectsHook = Callable[[sqlite3.Connection, list[dict[str, Any]], float], None]

log = logging.getLogger("reconciler.emulator")

_VERSION = re.compile(r"application/vnd\.bentley\.itwin-platform\.v(\d+)\+json", re.IGNORECASE)


class Api(Enum):
    """Which API a route belongs to: decides the default version, 429 code and fault scope."""

    ITWINS = "itwins"
    ACCESS = "access-control"
    PROJECTS = "projects"
    USERS = "users"
    AUTH = "auth"
    ADMIN = "admin"


_DEFAULT_VERSION = {
    Api.ITWINS: 1, Api.ACCESS: 2, Api.PROJECTS: 1, Api.USERS: 1, Api.AUTH: 1, Api.ADMIN: 1
}  # fmt: skip
_INVALID_CODE = {
    Api.ITWINS: "InvalidiTwinsRequest",
    Api.ACCESS: "InvalidiTwinsMemberRequest",
    Api.PROJECTS: "InvalidProjectsRequest",
    Api.USERS: "InvalidUsersRequest",
    Api.AUTH: "invalid_request",
    Api.ADMIN: "InvalidRequest",
}


class Counters:
    """Requests per route template and status (read by benchmarks via the admin surface)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: dict[str, dict[str, int]] = {}

    def add(self, route: str, status: str) -> None:
        with self._lock:
            per = self._routes.setdefault(route, {})
            per[status] = per.get(status, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            routes = {
                name: {"count": sum(st.values()), "statuses": dict(st)}
                for name, st in sorted(self._routes.items())
            }
        return {"total": sum(r["count"] for r in routes.values()), "routes": routes}

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()


@dataclass
class Emulator:
    """Everything one emulator instance owns; reachable as ``request.app.state.emu``."""

    store: Store
    clock: Clock
    faults: Faults
    admin: bool
    seed: dict[str, Any]
    projects_hook: ProjectsHook | None = None
    secret: bytes = b""
    counters: Counters = field(default_factory=Counters)
    injector: FaultInjector = field(init=False)
    limiter: RateLimiter = field(init=False)
    # token -> (caller, expiry); cleared whenever the directory changes (admin surface).
    callers: dict[str, tuple[Caller, float | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.injector = FaultInjector(self.faults)
        self.limiter = RateLimiter(self.faults.rate_limit)

    def forget_callers(self) -> None:
        """Drop cached token lookups (after the directory or the database changed)."""
        self.callers.clear()

    def resolve(self, authorization: str | None) -> Caller | ApiError:
        if not authorization:
            return ApiError(401, "HeaderNotFound", MSG_HEADER_NOT_FOUND)
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return ApiError(401, "Unauthorized", MSG_UNAUTHORIZED)
        token = token.strip()
        hit = self.callers.get(token)
        if hit is None:
            with self.store.read() as db:
                hit = lookup_token(db, self.secret, token)
            if hit is None:
                return ApiError(401, "Unauthorized", MSG_UNAUTHORIZED)
            self.callers[token] = hit
        caller, expires = hit
        if expires is not None and self.clock.now() >= expires:
            return ApiError(401, "Unauthorized", MSG_UNAUTHORIZED)
        return caller


class Req:
    """What a handler sees: the request, the open database connection and the caller."""

    __slots__ = ("_caller", "body", "db", "emu", "invalid_code", "params", "request", "version")

    def __init__(
        self,
        request: Request,
        emu: Emulator,
        db: sqlite3.Connection,
        caller: Caller | None,
        version: int,
        body: bytes,
        invalid_code: str,
    ) -> None:
        self.request = request
        self.emu = emu
        self.db = db
        self._caller = caller
        self.version = version
        self.body = body
        self.params: dict[str, str] = request.path_params
        self.invalid_code = invalid_code

    @property
    def caller(self) -> Caller:
        if self._caller is None:  # only routes declared auth=False see no caller
            raise ApiError(401, "HeaderNotFound", MSG_HEADER_NOT_FOUND)
        return self._caller

    @property
    def now(self) -> float:
        return self.emu.clock.now()

    def q(self, name: str) -> str | None:
        return self.request.query_params.get(name)

    def header(self, name: str) -> str | None:
        return self.request.headers.get(name)

    @property
    def representation(self) -> bool:
        """``Prefer: return=representation`` (the default is minimal)."""
        prefer = self.request.headers.get("prefer", "")
        return "return=representation" in prefer.replace(" ", "").lower()

    def json(self) -> Any:
        """The JSON body; malformed JSON is a 422 with ``InvalidRequestBody``."""
        if not self.body.strip():
            return None
        try:
            body = json.loads(self.body, parse_constant=_no_constant, parse_float=_finite)
            _check_strings(body)
        except (ValueError, RecursionError):
            # Malformed, NaN/Infinity, a number out of range, nesting deeper than the parser
            # goes, or a lone surrogate (no UTF-8 form to store): all one 422, never a 500.
            raise ApiError(
                422,
                self.invalid_code,
                MSG_INVALID_REQUEST,
                details=[detail("InvalidRequestBody", MSG_BAD_BODY)],
            ) from None
        return body

    def json_object(self) -> dict[str, Any]:
        """The JSON body, which must be an object."""
        body = self.json()
        if not isinstance(body, dict):
            raise ApiError(
                422,
                self.invalid_code,
                MSG_INVALID_REQUEST,
                details=[detail("InvalidRequestBody", MSG_BAD_BODY)],
            )
        return body

    # -- paging (contract §2.5) ------------------------------------------------------------
    def paging(self, code: str, *, default_top: int = 100, max_top: int = 1000) -> tuple[int, int]:
        """``($skip, $top)``; out-of-range or non-integer values are 422 ``InvalidValue``."""
        skip = self._int_param("$skip", 0, 0, 10**9, code)
        top = self._int_param("$top", default_top, 1, max_top, code)
        return skip, top

    def _int_param(self, name: str, default: int, low: int, high: int, code: str) -> int:
        raw = self.q(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            out_of_range = detail("InvalidValue", MSG_OUT_OF_RANGE, name)
            raise ApiError(422, code, MSG_INVALID_REQUEST, details=[out_of_range])
        return value

    def links(self, skip: int, top: int, more: bool) -> dict[str, dict[str, str]]:
        """Absolute ``_links``: self always, prev always (= self on the first page, as in the
        docs' examples), next only while more items remain."""
        url = self.request.url
        base = f"{url.scheme}://{url.netloc}{self.request.scope['path']}"
        others = [
            f"{quote(k, safe='$')}={quote(v, safe=',')}"
            for k, v in self.request.query_params.multi_items()
            if k not in ("$skip", "$top")
        ]
        prefix = "&".join(others) + "&" if others else ""

        def href(s: int) -> dict[str, str]:
            return {"href": f"{base}?{prefix}$skip={s}&$top={top}"}

        out = {"self": href(skip), "prev": href(max(0, skip - top))}
        if more:
            out["next"] = href(skip + top)
        return out


Handler = Callable[[Req], Response]


class _Dropped(Response):
    """A 'dropped connection': start a response, then end without a body.

    Under uvicorn this closes the socket mid-response (uvicorn logs "ASGI callable returned
    without completing response" and closes the transport), so an HTTP client sees a
    connection error (httpx: ``RemoteProtocolError``) rather than an answer.
    """

    def __init__(self) -> None:
        super().__init__(status_code=503)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-length", b"64"), (b"content-type", b"application/json")],
            }
        )


# [I] the contract names no body limit; 1 MiB is far above any request of the APIs (the
# largest, 50 members with their roles, is a few kB). docs/emulator.md records it.
MAX_BODY_BYTES = 1024 * 1024
MSG_TOO_LARGE = "The request body is too large."


def _declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length") or 0)
    except ValueError:
        return 0


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def _check_strings(body: Any) -> None:
    """ValueError for a string (or key) with no UTF-8 form: a lone surrogate like "\\ud800"."""
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError is a ValueError
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _fault_response(kind: str) -> Response:
    if kind == "drop":
        return _Dropped()
    if kind == "503":
        return json_response(
            {"error": {"code": "ServiceUnavailable", "message": "The service is unavailable."}},
            503,
            {"Retry-After": "1"},
        )
    return json_response(
        {"error": {"code": "InternalServerError", "message": "An internal error occurred."}}, 500
    )


def _rate_limited(
    api: Api, version: int, template: str, caller: Caller | None, wait: int
) -> Response:
    # Older pages (v1, Projects) document TooManyRequests; newer ones RateLimitExceeded.
    if api is Api.PROJECTS or (api is Api.ACCESS and version == 1):
        code = "TooManyRequests"
        message = "More requests were received than the subscription rate-limit allows."
    else:
        code = "RateLimitExceeded"
        message = (
            "The client sent more requests than allowed by this API "
            "for the current tier of the client."
        )
    headers = {
        "Retry-After": str(wait),
        "ITwinPlatform-RateLimited-Tier": "Emulator",
        "ITwinPlatform-RateLimited-API": api.value,
        "ITwinPlatform-RateLimited-Operation": template,
        "ITwinPlatform-RateLimited-Application": (caller.client_id or "") if caller else "",
    }
    return json_response({"error": {"code": code, "message": message}}, 429, headers)


def requested_version(request: Request, api: Api) -> int:
    accept = request.headers.get("accept")
    if accept:
        match = _VERSION.search(accept)
        if match:
            return int(match.group(1))
    return _DEFAULT_VERSION[api]


def op(
    method: str,
    path: str,
    handler: Handler,
    *,
    api: Api,
    versions: Iterable[int] | None = None,
    auth: bool = True,
    invalid_code: str | None = None,
    invalid_message: str | None = None,
) -> Route:
    """A route for one operation; see the module docstring for what the wrapper does.

    ``invalid_message`` replaces the generic message of the route's own 422s where the docs
    give the operation its own (e.g. "Cannot create Role."; contract §2.3)."""
    template = f"{method} {path}"
    allowed = frozenset(versions) if versions is not None else frozenset({_DEFAULT_VERSION[api]})
    bad_body = invalid_code or _INVALID_CODE[api]
    limited = api in (Api.ITWINS, Api.ACCESS, Api.PROJECTS, Api.USERS)
    writes = method != "GET"

    async def endpoint(request: Request) -> Response:
        emu: Emulator = request.app.state.emu
        status = "error"
        try:
            response = await _run(request, emu)
            status = "drop" if isinstance(response, _Dropped) else str(response.status_code)
            correlation = request.headers.get("x-correlation-id")
            if correlation is not None:  # [I] echoed, as older iTwin.js clients expect
                response.headers["X-Correlation-Id"] = correlation
            # HTTP's Date header, from the emulator's clock (which the admin surface advances),
            # so a client judging invitation expiry by server time sees the emulated time.
            response.headers["Date"] = formatdate(emu.clock.now(), usegmt=True)
            return response
        finally:
            emu.counters.add(template, status)

    async def _run(request: Request, emu: Emulator) -> Response:
        faults = emu.faults
        resolved: Caller | ApiError | None = None
        version = requested_version(request, api)
        if limited:
            if faults.latency_ms > 0:
                await asyncio.sleep(faults.latency_ms / 1000.0)
            resolved = emu.resolve(request.headers.get("authorization"))
            if faults.rate_limit > 0:
                caller = resolved if isinstance(resolved, Caller) else None
                peer = request.client.host if request.client else ""
                key = caller.key if caller else f"peer:{peer}"
                wait = emu.limiter.check(key, emu.clock.now())
                if wait:
                    return _rate_limited(api, version, template, caller, wait)
            kind = emu.injector.draw()
            if kind is not None:
                return _fault_response(kind)
        if limited and version not in allowed:
            return ApiError(404, "ResourceNotFound", MSG_RESOURCE_NOT_FOUND).response()
        caller_obj: Caller | None = None
        if auth:
            if resolved is None:
                resolved = emu.resolve(request.headers.get("authorization"))
            if isinstance(resolved, ApiError):
                return resolved.response()
            caller_obj = resolved
        if writes and _declared_length(request) > MAX_BODY_BYTES:
            return ApiError(413, "RequestTooLarge", MSG_TOO_LARGE).response()
        body = await request.body() if writes else b""
        if len(body) > MAX_BODY_BYTES:
            return ApiError(413, "RequestTooLarge", MSG_TOO_LARGE).response()
        try:
            if writes:
                with emu.store.write() as db:
                    return handler(Req(request, emu, db, caller_obj, version, body, bad_body))
            with emu.store.read() as db:
                return handler(Req(request, emu, db, caller_obj, version, body, bad_body))
        except ApiError as exc:
            if invalid_message is not None and exc.status == 422 and exc.code == bad_body:
                exc.message = invalid_message
            return exc.response()

    endpoint.__name__ = handler.__name__
    return Route(path, endpoint, methods=[method])
