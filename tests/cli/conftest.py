"""In-process CLI runs against the emulator: the CLI gets Starlette's TestClient (an
httpx.Client over the emulator app) as its connection, so every request is real HTTP handling
without a socket."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from reconciler.cli import EXIT_USAGE, cli, error_line, usage_error_line
from reconciler.cli.commands import register
from reconciler.cli.session import Connection
from reconciler.emulator import create_app
from reconciler.errors import ItwinAccessError

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
DEMO_ENV = {"ITWIN_CLIENT_ID": "itwin-access-demo", "ITWIN_CLIENT_SECRET": "demo-secret"}

register(cli)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ITWIN_ACCESS_API",
        "ITWIN_ACCESS_CONFIG",
        "ITWIN_ACCESS_TOKEN",
        "ITWIN_CLIENT_ID",
        "ITWIN_CLIENT_SECRET",
        "ITWIN_TOKEN_URL",
        "ITWIN_SCOPE",
        "NO_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in DEMO_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(tmp_path / "emulator.db", admin=True)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A copy of examples/quickstart whose config points at a URL (the connection wins)."""
    target = tmp_path / "manifests"
    shutil.copytree(QUICKSTART, target)
    (target / "itwin-access.yaml").write_text("api: http://testserver\nbackend: itwins\n")
    return target


def invoke(client: httpx.Client, args: Sequence[str], stdin: str | None = None) -> Run:
    """Run the CLI like ``main()`` does: errors we raise become one line and their exit code."""
    runner = CliRunner()
    result = runner.invoke(
        cli,
        list(args),
        obj=Connection(http=client),
        standalone_mode=False,
        input=stdin,
        catch_exceptions=True,
    )
    stderr = result.stderr
    exc = result.exception
    if exc is None:
        value = result.return_value
        code = int(value) if isinstance(value, int) else 0
    elif isinstance(exc, ItwinAccessError):
        code, stderr = exc.exit_code, stderr + error_line(exc) + "\n"
    elif isinstance(exc, click.UsageError):
        code, stderr = EXIT_USAGE, stderr + usage_error_line(exc) + "\n"
    elif isinstance(exc, click.ClickException):
        code, stderr = exc.exit_code, stderr + f"Error: {exc.format_message()}\n"
    elif isinstance(exc, SystemExit):
        code = int(exc.code or 0)
    else:
        raise exc
    return Run(code, result.stdout, stderr)


Invoke = Callable[..., Run]


@pytest.fixture
def run(emulator: TestClient) -> Invoke:
    """``run("plan", path, ...)``: the CLI in-process against this test's emulator."""

    def _run(*args: str | Path, stdin: str | None = None) -> Run:
        return invoke(emulator, [str(a) for a in args], stdin=stdin)

    return _run


ACCEPT_V1 = "application/vnd.bentley.itwin-platform.v1+json"
ACCEPT_V2 = "application/vnd.bentley.itwin-platform.v2+json"


class Hand:
    """Changes made "by hand" through the API as alice@contoso.com (an org admin), outside the
    manifests, plus the emulator's admin counters."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def _headers(self, accept: str) -> dict[str, str]:
        return {"Authorization": "Bearer alice-token", "Accept": accept}

    def get(self, path: str, accept: str = ACCEPT_V2) -> Any:
        response = self.client.get(path, headers=self._headers(accept))
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, body: Any = None, accept: str = ACCEPT_V2) -> Any:
        response = self.client.request(method, path, json=body, headers=self._headers(accept))
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def itwin_id(self, number: str) -> str:
        found = self.client.get(
            "/itwins",
            params={"number": number, "includeInactive": "true"},
            headers={**self._headers(ACCEPT_V1), "X-iTwin-Query-Scope": "all"},
        ).json()["iTwins"]
        assert len(found) == 1, found
        return str(found[0]["id"])

    def role_id(self, number: str, name: str) -> str:
        roles = self.get(f"/accesscontrol/itwins/{self.itwin_id(number)}/roles")["roles"]
        return next(str(r["id"]) for r in roles if r["displayName"] == name)

    def add_member(self, number: str, email: str, role: str) -> None:
        itwin = self.itwin_id(number)
        body = {"members": [{"email": email, "roleIds": [self.role_id(number, role)]}]}
        self.send("POST", f"/accesscontrol/itwins/{itwin}/members/users", body)

    def snapshot(self, number: str) -> dict[str, Any]:
        """Every live fact of one project, for "nothing changed" comparisons."""
        itwin = self.itwin_id(number)
        base = f"/accesscontrol/itwins/{itwin}"
        return {
            "itwin": self.get(f"/itwins/{itwin}", ACCEPT_V1),
            **{
                name: self.get(f"{base}/{path}")
                for name, path in {
                    "roles": "roles",
                    "users": "members/users",
                    "groups": "members/groups",
                    "owners": "members/owners",
                    "invitations": "members/invitations",
                }.items()
            },
        }

    def writes(self) -> int:
        """API requests that could change state (not GET, not the token endpoint)."""
        counters = self.client.get("/__emulator/counters").json()["routes"]
        return sum(
            route["count"]
            for name, route in counters.items()
            if not name.startswith("GET ") and name != "POST /connect/token"
        )


@pytest.fixture
def hand(emulator: TestClient) -> Hand:
    return Hand(emulator)


@pytest.fixture
def run_on() -> Callable[..., Run]:
    """``run_on(client, "apply", ...)``: the CLI in-process over any httpx.Client."""

    def _run(client: Any, *args: str | Path, stdin: str | None = None) -> Run:
        return invoke(client, [str(a) for a in args], stdin=stdin)

    return _run
