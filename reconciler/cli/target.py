"""The target a plan is made against, as the CLI knows it, and the binding of a saved plan to it.

``describe_target`` fills ``reconciler.binding.PlanTarget`` from the session, the config file and
the manifest files (their digests: bytes read here, the core does no I/O). ``bind_saved`` runs
before any request of ``apply --plan``: what the current config or environment names (API,
backend, identity) must be the saved plan's; what it does not name is taken from the plan, so a
merge job with no config applies the plan where it was made, never to the production API by
default.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

from reconciler import __version__
from reconciler.api import ItwinsApi, email_from_token
from reconciler.binding import PlanTarget, digest_bytes, mismatches
from reconciler.cli.session import Connection, Session
from reconciler.config import Config
from reconciler.errors import ApiError, PlanError
from reconciler.manifest import discover


def describe_target(
    session: Session,
    paths: Sequence[Path],
    identity: str | None,
    *,
    organization: bool = False,
    manifests: bool = True,
) -> PlanTarget:
    """``organization``: also read the caller's organization (one request; for saved plans).
    ``manifests``: digest the manifest files (read again, every one): only a plan document
    (JSON, a saved plan) shows that digest, the header line of text and Markdown does not."""
    config = session.config
    return PlanTarget(
        api=session.api,
        backend=config.backend,
        identity=identity,
        identity_kind=session.identity_kind,
        organization=_organization(session) if organization else None,
        config=str(config.path) if config.path is not None else None,
        config_digest=_digest([config.path]) if config.path is not None else None,
        manifests_digest=_digest(discover(list(paths))[0]) if paths and manifests else None,
        tool_version=__version__,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )


def _digest(files: Sequence[Path]) -> str | None:
    try:
        return digest_bytes([f.read_bytes() for f in files])
    except OSError:
        return None  # read a moment ago; a file gone since is not worth failing the plan for


def _organization(session: Session) -> str | None:
    try:
        account = ItwinsApi(session.target.client).primary_account()
    except ApiError:
        return None  # the Projects API, or an identity without an account: not known
    name = account.get("displayName")
    return name if isinstance(name, str) else None


def bind_saved(saved: PlanTarget | None, config: Config, connection: Connection | None) -> Config:
    """The config to apply a saved plan with: its target where the current config and
    environment name none; PlanError naming both sides when they name another."""
    if saved is None:
        raise PlanError(
            "saved plan records no target (API, backend, identity); make it with "
            "`itwin-access plan --out FILE`"
        )
    if connection is not None:
        api: str | None = (connection.base_url or str(connection.http.base_url)).rstrip("/")
    else:
        api = config.target_api
    named_identity = config.identity or (email_from_token(config.token) if config.token else None)
    found = mismatches(
        saved,
        api=api,
        backend=config.backend if config.backend_named else None,
        identity=named_identity,
    )
    if found:
        where = f"the config {config.path}" if config.path is not None else "the environment"
        raise PlanError(
            f"refusing to apply: {where} names " + "; ".join(found) + ". Nothing was sent. "
            "Apply the plan with a config (or ITWIN_ACCESS_API) naming its target, or plan "
            "again against this one"
        )
    return dataclasses.replace(config.with_target_api(saved.api), backend=saved.backend)
