"""``itwin-access emulator serve``: run the local iTwin Platform emulator in the foreground."""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click
import uvicorn

from reconciler.emulator import Faults, create_app
from reconciler.emulator.seed import SeedError
from reconciler.emulator.server import base_url, bind, uvicorn_config
from reconciler.emulator.store import UnusableDatabase
from reconciler.errors import ConfigError, ItwinAccessError

DEFAULT_DB = ".itwin-access/emulator.db"


@click.group("emulator")
def emulator() -> None:
    """The local iTwin Platform emulator (iTwins, Access Control, Projects APIs)."""


class _AnnouncingServer(uvicorn.Server):
    """Prints where the emulator listens once the socket serves; stops on SIGINT/SIGTERM."""

    def __init__(self, config: uvicorn.Config, url: str, seeded_demo: bool) -> None:
        super().__init__(config)
        self.url = url
        self.seeded_demo = seeded_demo

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # SIGINT and SIGTERM both ask for a graceful shutdown; we do not re-raise them after
        # (uvicorn's default), so the command ends normally with exit code 0.
        def ask_exit(signum: int, frame: FrameType | None) -> None:
            self.should_exit = True

        previous = {sig: signal.signal(sig, ask_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        click.echo(f"iTwin Platform emulator listening on {self.url}")
        click.echo(
            f"  iTwins API: {self.url}/itwins   Access Control: {self.url}/accesscontrol/itwins"
        )
        click.echo(
            f"  Projects API: {self.url}/projects   token endpoint: {self.url}/connect/token"
        )
        if self.seeded_demo:
            click.echo("Get a token (demo service app):")
            click.echo(
                f"  curl -s -X POST {self.url}/connect/token -d grant_type=client_credentials"
                " -d client_id=itwin-access-demo -d client_secret=demo-secret"
                " -d scope=itwin-platform"
            )
            click.echo("  or use a static demo token: -H 'Authorization: Bearer alice-token'")
        else:
            click.echo("Get a token: POST client_credentials for a service app of your seed to")
            click.echo(f"  {self.url}/connect/token, or use a static token from its 'tokens:'.")
        click.echo("Press Ctrl+C to stop.", err=True)


@emulator.command("serve")
@click.option(
    "--db",
    "db",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite database file (state survives restarts).",
)
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, exists=False),
    help="Seed YAML for a new database (default: the built-in demo seed).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--latency-ms", default=0.0, type=click.FloatRange(0), help="Added latency.")
@click.option(
    "--fault-rate",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of requests answered 500/503 or dropped.",
)
@click.option(
    "--rate-limit",
    default=0,
    type=click.IntRange(0),
    help="Requests per minute per client (0 = unlimited).",
)
@click.option("--fault-seed", default=0, type=int, help="Seed of the fault sequence.")
@click.option("--admin", is_flag=True, help="Enable the /__emulator/ admin surface.")
def serve(
    db: str,
    seed: str | None,
    host: str,
    port: int,
    latency_ms: float,
    fault_rate: float,
    rate_limit: int,
    fault_seed: int,
    admin: bool,
) -> int:
    """Run the emulator until interrupted (Ctrl+C or SIGTERM)."""
    faults = Faults(latency_ms=latency_ms, fault_rate=fault_rate, rate_limit=rate_limit,
                    seed=fault_seed)  # fmt: skip
    try:
        app = create_app(Path(db), seed=seed, faults=faults, admin=admin)
    except SeedError as exc:
        raise ConfigError(
            f"{exc}. Fix the seed file or leave --seed out for the demo seed."
        ) from None
    except UnusableDatabase as exc:
        raise ConfigError(
            f"{exc}. Choose another --db, or delete that file if it only holds emulator state."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{db}: cannot open the emulator database ({exc}).") from None
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise ItwinAccessError(
            f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port."
        ) from None
    server = _AnnouncingServer(uvicorn_config(app), base_url(sock), seed is None)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        app.state.emu.store.close()
    click.echo("Emulator stopped.", err=True)
    return 0
