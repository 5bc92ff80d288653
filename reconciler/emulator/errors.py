"""The error envelope of the iTwin Platform (contract §2.3) and the exception handlers raise.

Handlers raise :class:`ApiError`; the endpoint wrapper turns it into
``{"error": {"code", "message", "target"?, "details"?}}`` with the status code.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

# Standard messages (contract §2.3), kept in one place so every module answers alike.
MSG_HEADER_NOT_FOUND = "Header Authorization was not found in the request. Access denied."
MSG_UNAUTHORIZED = (
    "Access denied due to invalid access_token. "
    "Make sure to provide a valid token for this API endpoint."
)
MSG_FORBIDDEN = "The user has insufficient permissions for the requested operation."
MSG_ITWIN_NOT_FOUND = "Requested iTwin is not available."
MSG_MEMBER_NOT_FOUND = "Requested team member is not available."
MSG_ROLE_NOT_FOUND = "Requested Role is not available."
MSG_GROUP_NOT_FOUND = "Requested group is not available."
MSG_PERMISSION_NOT_FOUND = "Requested permission is not available."
MSG_INVITATION_NOT_FOUND = "Requested invitation is not available."
MSG_RESOURCE_NOT_FOUND = (
    "The requested resource was not found. Verify the API URL and the Accept header."
)
MSG_MISSING = "Required property is missing."
MSG_OUT_OF_RANGE = "Value outside of valid range."
MSG_TOO_MANY = "Collection size exceeds maximum size."
MSG_BAD_BODY = "Failed to parse request body or collection is empty."
MSG_INVALID_REQUEST = "Request body or query is invalid."
MSG_BAD_EMAIL = "Provided email is invalid."


def detail(code: str, message: str, target: str | None = None) -> dict[str, str]:
    """One entry of ``error.details``."""
    out = {"code": code, "message": message}
    if target is not None:
        out["target"] = target
    return out


class ApiError(Exception):
    """An error answer: status, code, message, optional target and details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> Response:
        return json_response(self.body(), self.status, self.headers)


def invalid(code: str, detail_code: str, message: str, target: str | None) -> ApiError:
    """A 422 with one detail (the usual shape of validation errors)."""
    return ApiError(422, code, MSG_INVALID_REQUEST, details=[detail(detail_code, message, target)])


def missing(code: str, target: str) -> ApiError:
    return invalid(code, "MissingRequiredProperty", MSG_MISSING, target)


def text_field(
    body: dict[str, Any], name: str, code: str, *, required: bool, non_blank: bool = False
) -> str | None:
    """A string property of a request body (Access Control roles and groups): absent or null
    is None unless ``required``; anything but a string (or a blank one, if ``non_blank``) is a
    422 ``InvalidValue`` naming it."""
    value = body.get(name)
    if value is None:
        if required:
            raise missing(code, name)
        return None
    if not isinstance(value, str) or (non_blank and not value.strip()):
        raise invalid(code, "InvalidValue", f"{name} must be a non-empty string.", name)
    return value


def forbidden() -> ApiError:
    return ApiError(403, "InsufficientPermissions", MSG_FORBIDDEN)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response (every non-204 answer of the emulator is JSON)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return Response(body, status, headers, media_type="application/json")


def no_content() -> Response:
    """204: no body and no Content-Type (contract §9, issue 3)."""
    return Response(status_code=204)
