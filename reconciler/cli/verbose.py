"""``-v/--verbose`` and ``--log-format``: one stderr line per HTTP request.

Method, path, status, milliseconds, the server's request id, and what was waited before it
(rate-limit pacing, back-off before a retry, and why). Paths only: no query string, header or
body, so nothing secret; every line still goes through the session's scrubber. ``--log-format
json`` prints one JSON object per line for machines. The options are accepted on the group and
on every command that talks to an API (``itwin-access -v plan ...`` or ``plan -v ...``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # the group imports this module: `validate` must not pay for httpx
    from reconciler.api import RequestEvent

_VERBOSE = "itwin_access.verbose"
_LOG_FORMAT = "itwin_access.log_format"

F = TypeVar("F", bound=Callable[..., Any])


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value:  # a command's own flag never undoes the group's
            ctx.meta[key] = value

    return callback


def verbose_options(f: F) -> F:
    """The two options, for the group and for each command that talks to an API."""
    f = click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default=None,
        expose_value=False,
        callback=_remember(_LOG_FORMAT),
        help="With -v: text lines, or one JSON object per line.",
    )(f)
    f = click.option(
        "-v",
        "--verbose",
        is_flag=True,
        default=False,
        expose_value=False,
        callback=_remember(_VERBOSE),
        help="Log each HTTP request on stderr (method, path, status, ms, request id, waits).",
    )(f)
    return f


def request_logger(err: Callable[[str], None]) -> Callable[[RequestEvent], None] | None:
    """The per-request callback for ``ApiClient.on_request`` when ``-v`` was given, else None.
    ``err`` writes one line to stderr (the CLI's scrubbing writer)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not ctx.meta.get(_VERBOSE):
        return None
    as_json = ctx.meta.get(_LOG_FORMAT) == "json"
    lock = threading.Lock()  # requests finish on worker threads; lines never interleave

    def log(event: RequestEvent) -> None:
        line = json.dumps(as_record(event), sort_keys=True) if as_json else as_text(event)
        with lock:
            err(line)

    return log


def as_record(event: RequestEvent) -> dict[str, Any]:
    return {
        "event": "request",
        "method": event.method,
        "path": event.path,
        "status": event.status,
        "ms": round(event.ms, 1),
        "request_id": event.request_id,
        "attempt": event.attempt,
        "waited_s": round(event.waited_s, 3),
        "retry_of": event.retry_of,
        "error": event.error,
    }


def as_text(event: RequestEvent) -> str:
    status = str(event.status) if event.status is not None else f"failed ({event.error})"
    line = f"{event.method} {event.path} -> {status} in {event.ms:.0f} ms"
    if event.request_id:
        line += f" [request id {event.request_id}]"
    if event.retry_of is not None:
        line += f" (retry {event.attempt} after {event.retry_of}"
        line += f", waited {event.waited_s:.2f} s)" if event.waited_s >= 0.005 else ")"
    elif event.waited_s >= 0.005:
        line += f" (rate limit: waited {event.waited_s:.2f} s)"
    return line
