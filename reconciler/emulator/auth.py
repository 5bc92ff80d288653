"""``POST /connect/token``: the OAuth2 client-credentials grant of IMS (contract §2.2).

Form fields ``grant_type=client_credentials``, ``client_id``, ``client_secret``, ``scope``; the
client may instead authenticate with HTTP Basic (``client_secret_basic``). ``GET
/.well-known/openid-configuration`` is the issuer's discovery document (contract C13).
Errors follow OAuth2 (RFC 6749 §5.2: ``{"error": "invalid_client"}``), as IMS does, not the
platform envelope.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, unquote_plus

from starlette.responses import Response
from starlette.routing import BaseRoute

from reconciler.emulator.errors import json_response
from reconciler.emulator.identity import caller_from_row, issue_token
from reconciler.emulator.web import Api, Req, op


def _oauth_error(code: str, description: str, status: int = 400) -> Response:
    return json_response({"error": code, "error_description": description}, status)


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def token(req: Req) -> Response:
    try:
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8")).items()}
    except UnicodeDecodeError:
        return _oauth_error("invalid_request", "The form body is not UTF-8.")
    grant = form.get("grant_type")
    if grant != "client_credentials":
        return _oauth_error("unsupported_grant_type", "Only client_credentials is supported.")
    client_id, secret = form.get("client_id"), form.get("client_secret")
    basic = _basic_credentials(req.header("authorization"))
    if basic is not None:  # RFC 6749 §2.3.1 client_secret_basic, as Bentley's CLI sends it
        client_id, secret = basic
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


def openid_configuration(req: Req) -> Response:
    """OIDC discovery for the emulator's issuer (contract C13): Bentley's own CLI reads
    ``token_endpoint`` here, then posts the client-credentials grant with Basic auth. Only
    the token endpoint is served; the others are named because discovery requires them."""
    base = str(req.request.base_url).rstrip("/")
    return json_response(
        {
            "issuer": base,
            "authorization_endpoint": f"{base}/connect/authorize",
            "token_endpoint": f"{base}/connect/token",
            "jwks_uri": f"{base}/.well-known/openid-configuration/jwks",
            "response_types_supported": ["code", "token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "grant_types_supported": ["client_credentials"],
            "scopes_supported": ["itwin-platform"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }
    )


def jwks(req: Req) -> Response:
    # The emulator signs with a per-database HMAC secret, which is never published.
    return json_response({"keys": []})


ROUTES: list[BaseRoute] = [
    op("POST", "/connect/token", token, api=Api.AUTH, auth=False),
    op("GET", "/.well-known/openid-configuration", openid_configuration, api=Api.AUTH, auth=False),
    op("GET", "/.well-known/openid-configuration/jwks", jwks, api=Api.AUTH, auth=False),
]
