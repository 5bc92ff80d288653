"""Failed answers -> typed errors: the one reader of error bodies and the status -> class map.

Every error body the platform can send is read here: the envelope of contract §2.3
(``{"error": {"code", "message", "target"?, "details"?}}``), the OAuth token endpoint's
``{"error": "...", "error_description": "..."}``, and a bare ``{"code", "message"}`` (the shape
the Projects API is documented with, and of a bulk job's failed action). Above the API layer
code branches on the ``ApiError`` subclass, never on a status number.
"""

from __future__ import annotations

import httpx

from reconciler.errors import (
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    Unprocessable,
)

_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Unprocessable,
    429: RateLimited,
}

Fields = tuple[str | None, str | None, str | None]  # code, message, target


def error_class(status: int | None) -> type[ApiError]:
    """The ``ApiError`` subclass of an answer's status (the base class for the others; a
    missing answer is ``Transport``, raised where the transport fails)."""
    if status is not None and status >= 500:
        return ServerError
    return _BY_STATUS.get(status or 0, ApiError)


def api_error(
    method: str,
    path: str,
    status: int | None,
    code: str | None = None,
    message: str | None = None,
    target: str | None = None,
) -> ApiError:
    """An ``ApiError`` of the class ``status`` calls for."""
    return error_class(status)(method, path, status, code, message, target)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_error_body(response: httpx.Response) -> Fields:
    """(code, message, target) of a failed answer.

    The docs warn that not every failure carries the envelope, nor non-null properties: a
    gateway may answer with HTML or nothing. Then the message is a short excerpt of the body.
    """
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return None, (text[:200] or None), None
    return error_fields(body)


def error_fields(body: object) -> Fields:
    """(code, message, target) of a decoded error body of any shape named above; the
    envelope's ``details`` are folded into the message ("code at target: message; ...")."""
    if not isinstance(body, dict):
        return None, None, None
    error = body.get("error")
    if isinstance(error, str):  # OAuth-style {"error": "...", "error_description": "..."}
        return error, _str(body.get("error_description")), None
    if not isinstance(error, dict):
        return _str(body.get("code")), _str(body.get("message")), None
    code, message = _str(error.get("code")), _str(error.get("message"))
    target = _str(error.get("target"))
    details = error.get("details")
    if isinstance(details, list):
        parts = []
        for detail in details:
            if not isinstance(detail, dict):
                continue
            d_code, d_target = _str(detail.get("code")), _str(detail.get("target"))
            target = target or d_target
            text = " ".join(x for x in (d_code, f"at {d_target}" if d_target else None) if x)
            d_message = _str(detail.get("message"))
            parts.append(f"{text}: {d_message}" if text and d_message else text or d_message or "")
        detail_text = "; ".join(p for p in parts if p)
        if detail_text:
            message = f"{message} ({detail_text})" if message else detail_text
    return code, message, target
