"""itwin-access.yaml plus the environment -> one frozen ``Config``.

One rule finds the config (``load_config(path, env, search_dir)``): ``path`` (``--config``),
which must exist; else ``ITWIN_ACCESS_CONFIG``, which must exist too; else the nearest
``itwin-access.yaml`` (or ``.yml``) walking up from ``search_dir`` (the first manifest path) to
the repository root (the first directory holding ``.git``; outside a repository only
``search_dir`` itself is looked at, so a stray file in a parent such as /tmp is never picked up);
else none. The file is checked against ``schemas/config.schema.json``; problems raise
``ConfigError`` with ``file:line:col``.

No API is ever assumed: ``api`` is None unless the file or ``ITWIN_ACCESS_API`` names one, and
``require_api`` says what to set (the production API is used only when named).

Secrets never live in the file: a key that looks like one (token, secret, password...) is
refused with a pointer to the environment variables. ``token``, ``client_id`` and
``client_secret`` are read from the environment only (names configurable under ``auth``) and are
left out of ``repr``. Environment overrides: ITWIN_ACCESS_API, ITWIN_ACCESS_TOKEN,
ITWIN_CLIENT_ID, ITWIN_CLIENT_SECRET, ITWIN_TOKEN_URL, ITWIN_SCOPE.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError
from reconciler.manifest.discovery import CONFIG_FILENAMES
from reconciler.manifest.document import Document, json_path
from reconciler.manifest.schema import validate_config
from reconciler.manifest.yamlsource import YamlProblem, read_document
from reconciler.plan.settings import GuardSettings, Policies, PolicyRule

DEFAULT_API = "https://api.bentley.com"
EMULATOR_PREFIX = "emulator:"

# Keys that name where a secret comes from, not the secret: allowed.
_ALLOWED_SECRETISH = {"tokenVariable", "clientSecretVariable", "tokenUrl"}
_SECRETISH = re.compile(r"token|secret|password|passwd|apikey|api_key|credential", re.IGNORECASE)


@dataclass(frozen=True)
class AuthSettings:
    token_variable: str = "ITWIN_ACCESS_TOKEN"
    client_id_variable: str = "ITWIN_CLIENT_ID"
    client_secret_variable: str = "ITWIN_CLIENT_SECRET"
    token_url: str | None = None  # None: IMS for the real API, {base}/connect/token otherwise
    scope: str | None = None  # None: the API layer's default (api.auth.DEFAULT_SCOPE)


@dataclass(frozen=True)
class EmulatorSettings:
    db: Path = Path(".itwin-access/emulator.db")
    seed: Path | None = None


@dataclass(frozen=True)
class InvitationSettings:
    """``invitations``: re-invite people whose invitation expired unaccepted, and where the
    ledger of invitations seen is kept (reconciler.invitations; relative to the config; None
    without a config file: there is nothing to keep it beside, so nothing is recorded)."""

    reinvite_expired: bool = True
    ledger: Path | None = None


@dataclass(frozen=True)
class Config:
    api: str | None = None  # "emulator" or a base URL without trailing slash; None: not named
    backend: str = "itwins"
    backend_named: bool = False  # the file names a backend (else the default, itwins)
    identity: str | None = None  # lower-cased email
    auth: AuthSettings = field(default_factory=AuthSettings)
    guards: GuardSettings = field(default_factory=GuardSettings)
    concurrency: int = 8
    # requests per minute, or a tier (community, standard), or auto: by API (api/limits.py)
    rate_limit: int | str = "auto"
    max_retry_after: float = 120.0  # seconds: the longest single wait before a retry
    max_wait: float = 900.0  # seconds: the longest total wait of one run (retries, 429s)
    lock: Path | None = None  # a lock file apply holds (runlock); None: no lock
    lock_timeout: float = 600.0  # seconds apply waits for the lock
    emulator: EmulatorSettings = field(default_factory=EmulatorSettings)
    policies: Policies = field(default_factory=Policies)  # issue 16: checked on every plan
    invitations: InvitationSettings = field(default_factory=InvitationSettings)  # issue 15
    path: Path | None = None  # the config file read, if any
    # From the environment only; never shown.
    token: str | None = field(default=None, repr=False)
    client_id: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)

    @property
    def embedded(self) -> bool:
        """True when the CLI should start the bundled emulator (``api: emulator``)."""
        return self.api == "emulator"

    @property
    def target_api(self) -> str | None:
        """The API as a plan records it: the base URL, or for the embedded emulator
        ``emulator:<absolute database path>`` (two directories are two tenants); None when
        nothing names one."""
        if self.embedded:
            return f"{EMULATOR_PREFIX}{self.emulator.db.absolute()}"
        return self.api

    def with_target_api(self, api: str) -> Config:
        """This config pointed at ``api`` as ``target_api`` spells it."""
        if api.startswith(EMULATOR_PREFIX):
            db = Path(api[len(EMULATOR_PREFIX) :])
            return replace(self, api="emulator", emulator=replace(self.emulator, db=db))
        return replace(self, api=api)

    def require_api(self) -> str:
        """The API to talk to; ConfigError saying what to set when nothing names one."""
        if self.api is None:
            where = f"{self.path} names no `api`" if self.path is not None else "no config found"
            raise ConfigError(
                f"no API to talk to ({where}): set `api:` in itwin-access.yaml (beside the "
                "manifests or in a parent directory of the repository, or pass --config FILE / "
                "ITWIN_ACCESS_CONFIG), or set ITWIN_ACCESS_API (`emulator`, "
                f"{DEFAULT_API}, or another base URL)"
            )
        return self.api

    @property
    def scope(self) -> str:
        """Configured scope, else the API layer's default (one place for it)."""
        # Imported here: the offline `validate` reads the config and must not load httpx.
        from reconciler.api.auth import DEFAULT_SCOPE

        return self.auth.scope or DEFAULT_SCOPE

    def token_url_for(self, base_url: str) -> str:
        """Configured token URL, else the API layer's derivation (the one place that knows
        Bentley's hosts, ``dev-``/``qa-`` prefixes included)."""
        # Imported here: the offline `validate` reads the config and must not load httpx.
        from reconciler.api import default_token_url

        return self.auth.token_url or default_token_url(base_url)

    def symlink_on_the_way(self, path: Path) -> Path | None:
        """``path`` itself if it is a symlink, else the first symlinked directory between the
        config's directory and it. The files the tool keeps beside its config (the invitation
        ledger, the embedded emulator's database) are never read or written through one: a
        symlink committed as `.itwin-access` would send them wherever it points. (A path outside
        the config's directory: only the file itself is checked; its directories are the
        user's.)"""
        if path.is_symlink():
            return path
        base = self.path.parent if self.path is not None else None
        if base is None or not path.is_relative_to(base):
            return None
        current = base
        for part in path.relative_to(base).parts[:-1]:
            current = current / part
            if current.is_symlink():
                return current
        return None


def find_config(search_dir: Path | None) -> Path | None:
    """The nearest config walking up from ``search_dir`` (default: the current directory) to
    the repository root; outside a repository, ``search_dir`` only."""
    directory = search_dir if search_dir is not None else Path.cwd()
    if directory.is_file():
        directory = directory.parent
    directory = directory.absolute()
    chain = [directory, *directory.parents]
    root = next((d for d in chain if (d / ".git").exists()), None)
    for here in chain if root is not None else [directory]:
        for name in CONFIG_FILENAMES:
            candidate = here / name
            if candidate.is_file():
                return _as_given(candidate)
        if here == root:
            break
    return None


def _as_given(path: Path) -> Path:
    """Relative to the current directory when below it (what a person typed, and what the plan
    header shows), else absolute."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def load_config(
    path: Path | None, env: Mapping[str, str], search_dir: Path | None = None
) -> Config:
    """Read the config file (if any) and apply the environment; raises ConfigError."""
    if path is not None and not path.is_file():
        raise ConfigError(f"{path}: config file not found; check --config")
    named = env.get("ITWIN_ACCESS_CONFIG")
    if path is None and named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found; check ITWIN_ACCESS_CONFIG")
    file = path if path is not None else find_config(search_dir)
    data: dict[str, Any] = {}
    doc: Document | None = None
    if file is not None:
        doc = _read(file)
        data = doc.data
    base = file.parent if file is not None else Path()

    auth_data: dict[str, Any] = data.get("auth", {})
    auth = AuthSettings(
        token_variable=auth_data.get("tokenVariable", AuthSettings.token_variable),
        client_id_variable=auth_data.get("clientIdVariable", AuthSettings.client_id_variable),
        client_secret_variable=auth_data.get(
            "clientSecretVariable", AuthSettings.client_secret_variable
        ),
        token_url=env.get("ITWIN_TOKEN_URL") or auth_data.get("tokenUrl"),
        scope=env.get("ITWIN_SCOPE") or auth_data.get("scope"),
    )
    guards = GuardSettings.from_config(data.get("guards", {}))
    emulator_data: dict[str, Any] = data.get("emulator", {})
    seed = emulator_data.get("seed")
    emulator = EmulatorSettings(
        db=base / emulator_data.get("db", ".itwin-access/emulator.db"),
        seed=base / seed if seed else None,
    )
    invitations_data: dict[str, Any] = data.get("invitations", {})
    invitations = InvitationSettings(
        reinvite_expired=bool(invitations_data.get("reinviteExpired", True)),
        ledger=(
            base / invitations_data.get("ledger", ".itwin-access/invitations.json")
            if file is not None
            else None
        ),
    )
    api: str | None = env.get("ITWIN_ACCESS_API") or data.get("api")
    if api is not None and api != "emulator" and not re.match(r"^https?://\S+$", api):
        raise ConfigError(
            f"ITWIN_ACCESS_API={api!r} is neither `emulator` nor an http(s):// base URL"
        )
    identity = data.get("identity")
    policies = _policies(data.get("policies", {}), doc)
    return Config(
        api=api.rstrip("/") if api is not None else None,
        backend=data.get("backend", "itwins"),
        backend_named="backend" in data,
        identity=identity.lower() if isinstance(identity, str) else None,
        auth=auth,
        guards=guards,
        concurrency=int(data.get("concurrency", 8)),
        rate_limit=data.get("rateLimit", "auto"),
        max_retry_after=float(data.get("maxRetryAfter", 120)),
        max_wait=float(data.get("maxWait", 900)),
        lock=base / data["lock"] if data.get("lock") else None,
        lock_timeout=float(data.get("lockTimeout", 600)),
        emulator=emulator,
        policies=policies,
        invitations=invitations,
        path=file,
        token=env.get(auth.token_variable) or None,
        client_id=env.get(auth.client_id_variable) or None,
        client_secret=env.get(auth.client_secret_variable) or None,
    )


def _read(file: Path) -> Document:
    try:
        doc = read_document(file)
    except YamlProblem as exc:
        where = f"{file}:{exc.line}:{exc.column}:"
        raise ConfigError(
            f"{where}{' ' + exc.path + ':' if exc.path else ''} {exc.message}"
        ) from exc
    _refuse_secrets(doc, doc.data, ())
    problems = sorted(validate_config(doc))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{problems[0]}{more}")
    return doc


def _policies(data: Mapping[str, Any], doc: Document | None) -> Policies:
    """``policies``: the organization's email domains and the rules, each with its location."""
    rules = []
    for index, item in enumerate(data.get("rules", ())):
        source = None
        if doc is not None:
            line, column = doc.locate(("policies", "rules", index))
            source = f"{doc.file}:{line}:{column}"
        rules.append(
            PolicyRule(
                name=item["name"],
                rule=item["rule"],
                permissions=tuple(item.get("permissions", ())),
                domains=tuple(d.lower().lstrip("@") for d in item.get("domains", ())),
                roles=tuple(item.get("roles", ())),
                count=int(item.get("count", 0)),
                liftable=bool(item.get("liftable", False)),
                source=source,
            )
        )
    names = [r.name for r in rules]
    for rule in rules:
        if names.count(rule.name) > 1:
            raise ConfigError(
                f"{rule.source}: policies.rules: the name {rule.name!r} is used twice"
            )
    domains = tuple(d.lower().lstrip("@") for d in data.get("domains", ()))
    return Policies(domains, tuple(rules))


def _refuse_secrets(doc: Document, node: object, path: tuple[str | int, ...]) -> None:
    """A secret-looking key anywhere, or a token-looking value, is refused before anything else."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if key not in _ALLOWED_SECRETISH and _SECRETISH.search(key):
                line, column = doc.locate(here, key=True)
                raise ConfigError(
                    f"{doc.file}:{line}:{column}: {json_path(here)}: the config file must not "
                    "hold secrets; set ITWIN_ACCESS_TOKEN, or ITWIN_CLIENT_ID and "
                    "ITWIN_CLIENT_SECRET, in the environment (name other variables under "
                    "`auth: {tokenVariable, clientIdVariable, clientSecretVariable}`)"
                )
            _refuse_secrets(doc, value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _refuse_secrets(doc, value, (*path, index))
    elif isinstance(node, str) and node.startswith("eyJ") and node.count(".") == 2:
        line, column = doc.locate(path)
        raise ConfigError(
            f"{doc.file}:{line}:{column}: {json_path(path)}: this looks like a token; the config "
            "file must not hold secrets: set ITWIN_ACCESS_TOKEN in the environment instead"
        )
