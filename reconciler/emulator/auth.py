"""``POST /connect/token``: the OAuth2 client-credentials grant of IMS (contract §2.2).

Form fields ``grant_type=client_credentials``, ``client_id``, ``client_secret``, ``scope``.
Errors follow OAuth2 (RFC 6749 §5.2: ``{"error": "invalid_client"}``), as IMS does, not the
platform envelope.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator.errors import json_response
from reconciler.emulator.identity import caller_from_row, issue_token
from reconciler.emulator.web import Api, Req, op


def _oauth_error(code: str, description: str, status: int = 400) -> Response:
    return json_response({"error": code, "error_description": description}, status)


def token(req: Req) -> Response:
    try:
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8")).items()}
    except UnicodeDecodeError:
        return _oauth_error("invalid_request", "The form body is not UTF-8.")
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only client_credentials is supported.")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if not client_id or not secret:
        return _oauth_error("invalid_request", "client_id and client_secret are required.")
    row = req.db.execute("SELECT * FROM users WHERE client_id=?", (client_id,)).fetchone()
    if row is None or row["client_secret"] != secret:
        return _oauth_error("invalid_client", "Unknown client or wrong secret.", 401)
    scope = form.get("scope") or "itwin-platform"
    access_token, lifetime = issue_token(req.emu.secret, caller_from_row(row), scope, req.now)
    return json_response(
        {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
        },
        headers={"Cache-Control": "no-store"},
    )


ROUTES: list[BaseRoute] = [op("POST", "/connect/token", token, api=Api.AUTH, auth=False)]
