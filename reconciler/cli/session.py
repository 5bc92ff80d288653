"""One session with the platform for plan, drift and apply: config -> HTTP client -> Target.

``api: emulator`` starts the bundled emulator in this process (uvicorn on a loopback port,
persisting beside the config in ``emulator.db``) and authenticates as the demo service app
unless the environment provides credentials. Any other ``api`` is a base URL, with credentials
from the environment only (config decision 5).

Tests inject an ``httpx.Client`` (e.g. Starlette's ``TestClient`` over the emulator) through
``Connection`` as the click context object, so the CLI runs in-process with no socket.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from reconciler.api import RequestEvent, RetryPolicy, connect
from reconciler.api.http import CookielessClient
from reconciler.api.limits import RETRY_STATUSES
from reconciler.binding import KIND_SERVICE_APP, KIND_TOKEN
from reconciler.cli.backend import Backend
from reconciler.config import Config, load_config
from reconciler.errors import ConfigError
from reconciler.targets.itwins import ItwinsTarget
from reconciler.targets.projects import ProjectsTarget

# The built-in demo seed's service application (BRIEF decision 4): not a secret, a fixture of
# the local emulator, used only in embedded mode when the environment has no credentials.
DEMO_CLIENT_ID = "itwin-access-demo"
DEMO_CLIENT_SECRET = "demo-secret"

HTTP_TIMEOUT = httpx.Timeout(60.0, connect=10.0)

# The API client's retries, plus 500: a reconciler should ride out a transient server error
# on a read or an idempotent write rather than fail the run (creating POSTs keep the client's
# own rule: never resent after an ambiguous failure, the target checks and adopts instead).
RETRY = RetryPolicy(statuses=RETRY_STATUSES | {500})


@dataclass
class Connection:
    """What tests inject: an HTTP client already pointing at an API (and optional env)."""

    http: httpx.Client
    base_url: str | None = None
    env: dict[str, str] | None = None


@dataclass
class Session:
    config: Config
    target: Backend
    http: httpx.Client
    api: str = ""  # what the plan header and a saved plan name: a base URL, or "emulator"
    _closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def identity_kind(self) -> str:
        """How this session authenticates (reconciler.binding's kinds)."""
        return KIND_SERVICE_APP if self.target.service_app() else KIND_TOKEN

    def secrets(self) -> tuple[str, ...]:
        """Every secret this session knows, to keep them out of any output."""
        values = [self.config.token, self.config.client_secret, *self.target.secrets()]
        return tuple(v for v in values if v)

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            # Closing must not hide the real outcome of the command.
            with contextlib.suppress(Exception):
                closer()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_config(config_path: Path | None, paths: tuple[Path, ...], env: dict[str, str]) -> Config:
    """The config by the one rule (``reconciler.config``): ``--config``, else
    ``ITWIN_ACCESS_CONFIG``, else the nearest ``itwin-access.yaml`` walking up from the first
    manifest path to the repository root."""
    search: Path | None = None
    if paths:
        first = paths[0]
        search = first if first.is_dir() else first.parent
    return load_config(config_path, env, search)


def environment(connection: Connection | None) -> dict[str, str]:
    if connection is not None and connection.env is not None:
        return dict(connection.env)
    return dict(os.environ)


def open_session(
    config: Config,
    connection: Connection | None = None,
    on_request: Callable[[RequestEvent], None] | None = None,
) -> Session:
    """Connect per the config; the caller closes the session (it may own an emulator).
    ``on_request``: called per HTTP request sent (``-v``)."""
    closers: list[Callable[[], None]] = []
    token, client_id, client_secret = config.token, config.client_id, config.client_secret
    if connection is not None:
        http = connection.http
        base_url = (connection.base_url or str(http.base_url)).rstrip("/")
        label = base_url
    elif config.embedded:
        label = config.target_api or "emulator"
        base_url = _start_emulator(config, closers)
        http = _client(config, closers)
        if not token and not (client_id and client_secret):
            client_id, client_secret = DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    else:
        base_url = label = config.require_api()  # ConfigError before any request if none named
        http = _client(config, closers)
    try:
        # backend `projects`: the deprecated Projects API (issue 7), same Target protocol.
        target_class = ProjectsTarget if config.backend == "projects" else ItwinsTarget
        client = connect(
            http,
            base_url=base_url,
            token=token,
            client_id=client_id,
            client_secret=client_secret,
            token_url=config.token_url_for(base_url),
            scope=config.scope,
            rate_limit=config.rate_limit,
            retry=dataclasses.replace(RETRY, max_retry_after=config.max_retry_after),
            max_wait=config.max_wait,
        )
        client.on_request = on_request
        target = target_class(client, identity=config.identity, concurrency=config.concurrency)
    except BaseException:
        for closer in reversed(closers):
            closer()
        raise
    return Session(config=config, target=target, http=http, api=label, _closers=closers)


T = TypeVar("T")
ABANDON_SECONDS = 2.0  # how long a failed load waits for the session thread


def open_session_beside(
    config: Config,
    connection: Connection | None,
    on_request: Callable[[RequestEvent], None] | None,
    load: Callable[[], T],
) -> tuple[Session, T]:
    """``open_session`` while ``load()`` runs (reading the manifests: CPU-bound): the session
    is opened and warmed in a thread (``Backend.warm``: the applying identity and the
    permission catalogue, what every read begins with), so those round trips overlap the
    loading instead of following it (issue 17). Only reads are sent meanwhile; nothing is
    written before a plan exists. Errors keep their order: ``load``'s first (a bad manifest
    is reported as it always was), then the session's; either way the session is closed.
    The embedded emulator is started after loading, as before: it would only compete with
    the loading for this process, and a bad manifest must not create its database."""
    if connection is None and config.embedded:
        loaded = load()
        return open_session(config, connection, on_request), loaded
    opened: list[Session] = []
    failed: list[BaseException] = []
    abandoned = threading.Event()  # loading failed: the thread closes what it opened

    def warm() -> None:
        try:
            opened.append(open_session(config, connection, on_request))
            if not abandoned.is_set():
                opened[0].target.warm()
        except BaseException as exc:  # raised in the caller's thread, after the loading
            failed.append(exc)
        finally:
            if abandoned.is_set():
                for session in opened:
                    session.close()

    thread = threading.Thread(target=warm, name="itwin-access-session", daemon=True)
    thread.start()
    try:
        loaded = load()
    except BaseException:
        # A bad manifest or Ctrl-C is not kept waiting for a slow network: a request still
        # running finishes in the thread, which then closes the session itself.
        abandoned.set()
        thread.join(timeout=ABANDON_SECONDS)
        if not thread.is_alive():
            for session in opened:
                session.close()
        raise
    thread.join()
    if failed:
        for session in opened:
            session.close()
        raise failed[0]
    return opened[0], loaded


def _client(config: Config, closers: list[Callable[[], None]]) -> httpx.Client:
    # One connection per worker at least, so the bounded pool is never starved by the pool.
    limits = httpx.Limits(max_connections=max(16, config.concurrency * 2))
    http = CookielessClient(timeout=HTTP_TIMEOUT, limits=limits)  # the APIs set no cookies
    closers.append(http.close)
    return http


def _start_emulator(config: Config, closers: list[Callable[[], None]]) -> str:
    # Imported here: only embedded mode needs uvicorn and the emulator in this process.
    from reconciler.emulator.seed import SeedError
    from reconciler.emulator.server import start_background
    from reconciler.emulator.store import UnusableDatabase

    db = config.emulator.db.absolute()  # relative: to the config's directory as found
    link = config.symlink_on_the_way(config.emulator.db)
    if link is not None:
        raise ConfigError(
            f"{link} is a symlink; the embedded emulator's database is not opened through one:"
            " set `emulator.db` in the config to a path without symlinks"
        )
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {db.parent} for the emulator: {exc.strerror}") from exc
    seed: Any = str(config.emulator.seed) if config.emulator.seed else None
    if seed is not None and not Path(seed).is_file():
        raise ConfigError(f"emulator seed {seed} not found; check `emulator.seed` in the config")
    try:
        running = start_background(str(db), seed=seed)
    except UnusableDatabase as exc:
        raise ConfigError(
            f"{exc}. Set another `emulator.db` in the config, or delete that file if it only"
            " holds emulator state."
        ) from None
    except SeedError as exc:
        # The seed's own message names the file and the problem; say where it was configured.
        raise ConfigError(f"{exc}; check `emulator.seed` in the config") from None
    closers.append(running.stop)
    return str(running.base_url).rstrip("/")
