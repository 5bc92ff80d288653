"""One exception hierarchy for itwin-access.

Foreign exceptions (httpx, yaml, jsonschema, OSError) are translated into these at the boundary
that catches them, with ``raise ... from exc``; the CLI maps each to one line on stderr and an
exit code, so a traceback shown to a user is always a bug.

    ItwinAccessError                 exit 1, the base of everything we raise on purpose
    ├── ConfigError                  itwin-access.yaml or the environment is wrong
    ├── ManifestError                manifests are invalid; carries every Problem found
    ├── ApiError                     an HTTP call failed after retries (method, path, status, code)
    │   ├── Unauthorized             401: the credentials were refused
    │   ├── Forbidden                403: the identity may not do this
    │   ├── NotFound                 404: no such object (on a delete: already gone)
    │   ├── Conflict                 409: it exists already (e.g. a resent create that had worked)
    │   ├── Unprocessable            422: the request was refused as invalid
    │   ├── RateLimited              429: still refused after the client's back-off
    │   ├── ServerError              5xx: the server may have acted (``may_have_acted``)
    │   └── Transport                no answer: the connection failed or was dropped
    ├── PartialFailure               a bulk request did some of its operations (ids -> errors)
    ├── PlanError                    a saved plan is unreadable, or of another format_version
    │   └── StalePlanError           live state moved since the saved plan was made
    └── NotLive                      an operation names what the live project lacks (no request)

A guard that blocks a plan is not an exception: it is data of the plan (``Plan.blocked``), and
the CLI exits 3 on it after printing the plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding with its location; sorted by file, line, column so reports are stable."""

    file: str
    line: int
    column: int
    path: str  # JSON path inside the document, e.g. "projects[0].members[2].email"
    message: str
    severity: Severity = field(default=Severity.ERROR, compare=False)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        path = f" {self.path}:" if self.path else ""
        tag = " warning:" if self.severity is Severity.WARNING else ""
        return f"{where}:{path}{tag} {self.message}"


class ItwinAccessError(Exception):
    """Base of every error itwin-access raises on purpose."""

    exit_code: int = 1


class ConfigError(ItwinAccessError):
    """The configuration file or the environment is invalid."""


class ManifestError(ItwinAccessError):
    """Manifests failed validation; ``problems`` holds every finding, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.severity is Severity.ERROR]
        first = str(errors[0]) if errors else "invalid manifests"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first + more)


class ApiError(ItwinAccessError):
    """An API call failed. Never carries the token or any other secret.

    The API layer raises the subclass that says what happened (``reconciler.api.envelope``
    maps a status to it), so the layers above it branch on types, never on status numbers.
    """

    # True when the server may have done what was asked although no success came back.
    may_have_acted: bool = False

    def __init__(
        self,
        method: str,
        path: str,
        status: int | None,
        code: str | None = None,
        message: str | None = None,
        target: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        status_text = str(status) if status is not None else "no response"
        detail = ": ".join(x for x in (code, message) if x)
        super().__init__(f"{method} {path} -> {status_text}" + (f" {detail}" if detail else ""))

    def with_message(self, message: str) -> ApiError:
        """The same failure (same class) told in other words."""
        return type(self)(self.method, self.path, self.status, self.code, message, self.target)


class Unauthorized(ApiError):
    """401: the token (or the client credentials) were refused."""


class Forbidden(ApiError):
    """403: the identity may not do this."""


class NotFound(ApiError):
    """404: no such object; on a delete, it is already gone."""


class Conflict(ApiError):
    """409: the object exists already (a concurrent run, or a resent create that worked)."""


class Unprocessable(ApiError):
    """422: the request was refused as invalid (the envelope's details say where)."""


class RateLimited(ApiError):
    """429, still after the client slowed down and waited as often as it may."""


class ServerError(ApiError):
    """5xx: the server failed, possibly after acting."""

    may_have_acted = True


class Transport(ApiError):
    """No answer: the connection failed or was dropped, possibly after the server acted."""

    may_have_acted = True


class NotLive(ItwinAccessError):
    """An operation names something the live project does not have (a role or group by
    name, an iTwin by number): found by listing, not refused by a request, so it carries the
    platform's code for it but no HTTP status."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class PartialFailure(ItwinAccessError):
    """One request carried several operations and only some failed (a bulk job answered
    ``PartialCompleted``): ``failures`` maps the failed operations' ids to their errors; the
    others were done."""

    def __init__(self, failures: Mapping[str, ItwinAccessError]) -> None:
        self.failures = dict(failures)
        first = next(iter(self.failures.values()), None)
        super().__init__(
            f"{len(self.failures)} operation(s) of one request failed"
            + (f": {first}" if first else "")
        )


class PlanError(ItwinAccessError):
    """A saved plan cannot be used (unreadable, other format version, tampered)."""


class StalePlanError(PlanError):
    """Live state of some projects changed since the saved plan was computed."""

    def __init__(self, projects: list[str]) -> None:
        self.projects = sorted(projects)
        super().__init__(
            "live state changed since the plan was made for project(s) "
            + ", ".join(self.projects)
            + "; run plan again and review the new plan"
        )
