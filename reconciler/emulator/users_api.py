"""Users API: ``GET /users/me`` (contract C12), who the caller is.

Users answer their directory entry; a service application answers its own user account (the
email shown in its registration), as the contract infers. Fields the directory does not hold
(phone, city, ...) are null.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator.errors import json_response
from reconciler.emulator.web import Api, Req, op


def me(req: Req) -> Response:
    caller = req.caller
    names = [n for n in (caller.given_name, caller.surname) if n]
    display = " ".join(names) or caller.client_id or caller.email
    return json_response(
        {
            "user": {
                "id": caller.id,
                "displayName": display,
                "givenName": caller.given_name,
                "surname": caller.surname,
                "email": caller.email,
                "alternateEmail": None,
                "phone": None,
                "organizationName": caller.org,
                "city": None,
                "country": None,
                "language": None,
                "createdDateTime": None,
            }
        }
    )


ROUTES: list[BaseRoute] = [op("GET", "/users/me", me, api=Api.USERS, versions=(1,))]
