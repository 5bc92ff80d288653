"""What a plan was made against (its target), and the checks that bind a saved plan to it.

Pure. The CLI fills a ``PlanTarget`` from the session (API base URL, backend, identity), the
config file and the manifests it read; the plan carries it, the header line of every output
shows it, and ``apply --plan`` refuses a plan whose target differs from what the current config
or environment names (``mismatches``), before any request. Nothing secret is in it: the identity
is an email and how it authenticated, never a token or a client secret.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import PlanError

# How the identity authenticated: a service application (client-credentials grant) or a bearer
# token given in the environment (a user's, or an app's obtained elsewhere).
KIND_SERVICE_APP = "service-app"
KIND_TOKEN = "token"


@dataclass(frozen=True)
class PlanTarget:
    api: str  # base URL, or "emulator" for the embedded emulator
    backend: str  # "itwins" or "projects"
    identity: str | None = None  # lower-cased email; None when the session could not tell
    identity_kind: str | None = None  # KIND_SERVICE_APP or KIND_TOKEN
    organization: str | None = None  # the display name of the caller's primary account
    config: str | None = None  # the config file read, as found; None when none was
    config_digest: str | None = None  # sha256 of the config file's bytes
    manifests_digest: str | None = None  # sha256 over the manifest files' bytes
    tool_version: str = ""
    created: str = ""  # UTC, ISO 8601

    def header(self) -> str:
        """The one line every plan, drift and apply output begins with."""
        kind = f" ({self.identity_kind})" if self.identity_kind else ""
        who = f"{self.identity or 'unknown identity'}{kind}"
        return (
            f"Target: API {self.api} | backend {self.backend} | identity {who} | "
            f"config {self.config or 'none'}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "api": self.api,
            "backend": self.backend,
            "identity": {"email": self.identity, "kind": self.identity_kind},
            "organization": self.organization,
            "config": {"file": self.config, "sha256": self.config_digest},
            "manifests_sha256": self.manifests_digest,
            "tool_version": self.tool_version,
            "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: Any) -> PlanTarget:
        if not isinstance(data, Mapping):
            raise PlanError("saved plan is malformed: 'target' is not an object")
        identity = data.get("identity") or {}
        config = data.get("config") or {}
        try:
            return cls(
                api=str(data["api"]),
                backend=str(data["backend"]),
                identity=identity.get("email"),
                identity_kind=identity.get("kind"),
                organization=data.get("organization"),
                config=config.get("file"),
                config_digest=config.get("sha256"),
                manifests_digest=data.get("manifests_sha256"),
                tool_version=str(data.get("tool_version", "")),
                created=str(data.get("created", "")),
            )
        except (KeyError, AttributeError) as exc:
            raise PlanError(f"saved plan is malformed: target has no {exc!s}") from exc


def mismatches(
    saved: PlanTarget, *, api: str | None, backend: str | None, identity: str | None
) -> list[str]:
    """How the target named now (None: not named, so the saved one is used) differs from the
    saved plan's, one phrase per difference naming both."""
    found = []
    if api is not None and api.rstrip("/") != saved.api.rstrip("/"):
        found.append(f"API {api} (the plan was made against {saved.api})")
    if backend is not None and backend != saved.backend:
        found.append(f"backend {backend} (the plan was made for {saved.backend})")
    if identity is not None and saved.identity is not None and identity != saved.identity:
        found.append(f"identity {identity} (the plan was made as {saved.identity})")
    return found


def digest_bytes(contents: list[bytes]) -> str:
    """sha256 over several files' bytes, independent of their order."""
    inner = sorted(hashlib.sha256(c).hexdigest() for c in contents)
    return hashlib.sha256("\n".join(inner).encode("ascii")).hexdigest()


def content_digest(document: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of ``document`` (the saved plan's tamper check)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
