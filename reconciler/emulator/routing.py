"""``RouteTable``: Starlette's router with an index in front of its walk through the routes.

Starlette tries the routes one by one, a regular expression each, and the emulator has over 80:
a read of ``.../members/invitations`` tried some 40 before its own (~0.1 ms of the emulator's
CPU per request, issue 17). The index keys the routes by method, number of path segments and
last segment (a literal, or any value for a path parameter); a request tries only the routes
under its key, in the order Starlette would, so the first full match is the one Starlette's
walk finds. Everything else (a method the path does not allow, an unknown path) is left to
Starlette's own walk, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path  # what Route.matches reads the path with
from starlette.convertors import StringConvertor
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

_ANY = None  # the last segment of a route ending in a path parameter: any value


def _shape(route: BaseRoute) -> tuple[int, str | None] | None:
    """(segments, last segment or _ANY) of a route the index can place, else None."""
    if not isinstance(route, Route) or route.methods is None:  # None: every method
        return None
    # A parameter matches one whole segment only for the string convertor ([^/]+); another
    # (``path``) may span several, and the index could not count them.
    if not all(type(c) is StringConvertor for c in route.param_convertors.values()):
        return None
    last = route.path.rsplit("/", 1)[1]
    return route.path.count("/"), (_ANY if "{" in last else last)


class RouteTable(Router):
    """A ``Router`` that finds a request's route through an index (module docstring); with a
    route the index cannot place, it is Starlette's router as it is."""

    def __init__(self, routes: Sequence[BaseRoute], **options: Any) -> None:
        super().__init__(routes=list(routes), **options)
        self._index: dict[tuple[str, int, str | None], list[BaseRoute]] | None = None
        placed = [(route, _shape(route)) for route in self.routes]
        shapes = [(route, shape) for route, shape in placed if shape is not None]
        if len(shapes) < len(placed):
            return
        literals: dict[int, set[str]] = {}
        for _, (depth, last) in shapes:
            if last is not _ANY:
                literals.setdefault(depth, set()).add(last)
        index: dict[tuple[str, int, str | None], list[BaseRoute]] = {}
        for route, (depth, last) in shapes:
            # A route ending in a parameter also serves every literal ending at its depth.
            ends = [last] if last is not _ANY else [_ANY, *literals.get(depth, ())]
            for method in getattr(route, "methods", None) or ():
                for end in ends:
                    index.setdefault((method, depth, end), []).append(route)
        self._index = index

    def candidates(self, method: str, path: str) -> Sequence[BaseRoute] | None:
        """The routes that may fully match ``method path``, in the router's order; None when
        the index is off (then every route may)."""
        if self._index is None:
            return None
        depth = path.count("/")
        last = path.rsplit("/", 1)[1]
        found = self._index.get((method, depth, last))
        return found if found is not None else self._index.get((method, depth, _ANY), ())

    def full_match(self, scope: Scope) -> tuple[BaseRoute, Scope] | None:
        """The first route that fully matches an HTTP request and its child scope, found
        through the index; None when none under its key does (or the index is off)."""
        for route in self.candidates(scope["method"], get_route_path(scope)) or ():
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                return route, child_scope
        return None

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.full_match(scope) if scope["type"] == "http" else None
        if found is None:
            # Starlette's walk decides, as ever: 405s (a path of another method), 404s.
            await super().app(scope, receive, send)
            return
        route, child_scope = found
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)
