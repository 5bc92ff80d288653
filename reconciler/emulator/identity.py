"""Who is calling: bearer tokens (static seed tokens and JWT-shaped tokens) -> :class:`Caller`.

Issued tokens are JWT-shaped (base64url header.payload.signature) with ``sub``, ``email``,
``client_id``, ``scope``, ``iat`` and ``exp`` like real IMS tokens (BRIEF decision 2). The
signature is an HMAC with a per-database secret, so tokens survive a restart of the same
database without being stored, and a forged or foreign token is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

TOKEN_LIFETIME = 3600
USER_NAMESPACE = uuid.UUID("6f1c2a8e-4b8d-4a51-9b43-2f7c8e0a9d10")


@dataclass(frozen=True)
class Caller:
    """An authenticated user or service application."""

    id: str
    email: str
    org: str | None
    org_admin: bool
    client_id: str | None
    given_name: str | None = None
    surname: str | None = None

    @property
    def is_app(self) -> bool:
        return self.client_id is not None

    @property
    def key(self) -> str:
        """The rate-limit key: a service app's client id, else the user's email."""
        return self.client_id or self.email.lower()


def user_id_for(email: str) -> str:
    """Stable id per email, so a re-seeded database keeps the same user ids."""
    return str(uuid.uuid5(USER_NAMESPACE, email.strip().lower()))


def caller_from_row(row: sqlite3.Row) -> Caller:
    return Caller(
        id=row["id"],
        email=row["email"],
        org=row["org"],
        org_admin=bool(row["org_admin"]),
        client_id=row["client_id"],
        given_name=row["given_name"],
        surname=row["surname"],
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def ensure_secret(db: sqlite3.Connection) -> bytes:
    row = db.execute("SELECT value FROM meta WHERE key='token_secret'").fetchone()
    if row is not None:
        return bytes.fromhex(row[0])
    secret = secrets.token_bytes(32)
    db.execute("INSERT INTO meta(key, value) VALUES('token_secret', ?)", (secret.hex(),))
    return secret


def issue_token(secret: bytes, caller: Caller, scope: str, now: float) -> tuple[str, int]:
    """A signed JWT-shaped access token and its lifetime in seconds."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims: dict[str, Any] = {
        "iss": "itwin-access-emulator",
        "sub": caller.id,
        "email": caller.email,
        "client_id": caller.client_id,
        "scope": scope,
        "iat": int(now),
        "exp": int(now) + TOKEN_LIFETIME,
        "jti": secrets.token_hex(8),
    }
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = _b64(hmac.new(secret, signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}", TOKEN_LIFETIME


def verify_jwt(secret: bytes, token: str) -> dict[str, Any] | None:
    """The claims of a token this database issued, or None (expiry is checked by the caller)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = _b64(hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def lookup_token(
    db: sqlite3.Connection, secret: bytes, token: str
) -> tuple[Caller, float | None] | None:
    """The caller behind a token and the token's expiry (None = never), or None if unknown."""
    claims = verify_jwt(secret, token)
    if claims is not None:
        row = db.execute("SELECT * FROM users WHERE id=?", (claims.get("sub"),)).fetchone()
        if row is None:
            return None
        return caller_from_row(row), float(claims.get("exp", 0))
    row = db.execute(
        "SELECT u.* FROM static_tokens t JOIN users u ON u.email = t.email WHERE t.token=?",
        (token,),
    ).fetchone()
    return None if row is None else (caller_from_row(row), None)
