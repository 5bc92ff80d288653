"""One exception hierarchy for itwin-access.

Foreign exceptions (httpx, yaml, jsonschema, OSError) are translated into these at the boundary
that catches them, with ``raise ... from exc``; the CLI maps each to one line on stderr and an
exit code, so a traceback shown to a user is always a bug.

    ItwinAccessError                 exit 1, the base of everything we raise on purpose
    ├── ConfigError                  itwin-access.yaml or the environment is wrong
    ├── ManifestError                manifests are invalid; carries every Problem found
    ├── ApiError                     an HTTP call failed after retries (method, path, status, code)
    ├── PartialFailure               a bulk request did some of its operations (ids -> ApiError)
    ├── PlanError                    a saved plan is unreadable, or of another format_version
    │   └── StalePlanError           live state moved since the saved plan was made
    └── GuardBlocked                 a guard blocks the plan (exit 3)
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
    """An API call failed. Never carries the token or any other secret."""

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


class PartialFailure(ItwinAccessError):
    """One request carried several operations and only some failed (a bulk job answered
    ``PartialCompleted``): ``failures`` maps the failed operations' ids to their errors; the
    others were done."""

    def __init__(self, failures: Mapping[str, ApiError]) -> None:
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


class GuardBlocked(ItwinAccessError):
    """A safety guard blocks the plan; the message names the guard and how to allow it."""

    exit_code = 3

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))
