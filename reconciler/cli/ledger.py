"""The invitation ledger on disk (``reconciler.invitations.Ledger``): read before a plan, written
after every live read that saw invitations and after an apply that sent some.

The file (``invitations.ledger`` in the config, default ``.itwin-access/invitations.json``
beside it; without a config file there is none) holds project numbers, emails, kinds and
dates: no token, no secret. It is written atomically (a temporary file, then ``os.replace``),
never through a symlink, mode 0644, and only when its content changes. A missing ledger reads
as empty; a corrupt, unreadable or symlinked one is a one-line warning and reads as empty too:
it never blocks a plan (at worst an expired invitation shows as drift once more).

"Now" is the server's time: the HTTP ``Date`` of its last response, else the access token's
``iat``, else this machine's clock (an invitation expires by the platform's time).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from reconciler.api import issued_at_from_token
from reconciler.cli.session import Session
from reconciler.config import Config
from reconciler.invitations import Ledger
from reconciler.model import State
from reconciler.plan.operations import Operation

Warn = Callable[[str], None]


def server_now(session: Session) -> datetime:
    """The server's time, as well as this run can tell it."""
    client = session.target.client
    if client.server_date:
        with contextlib.suppress(TypeError, ValueError):
            moment = parsedate_to_datetime(client.server_date)
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    with contextlib.suppress(Exception):  # an opaque token, or one that cannot be had now
        issued = issued_at_from_token(client.auth.token())
        if issued is not None:
            return datetime.fromtimestamp(issued, UTC)
    return datetime.now(UTC)


def read_ledger(config: Config, warn: Warn) -> Ledger:
    path = config.invitations.ledger
    if path is None:
        return Ledger()
    link = config.symlink_on_the_way(path)
    if link is not None:
        warn(f"warning: {link} is a symlink; the invitation ledger is read as empty")
        return Ledger()
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return Ledger()  # none yet (writing it says what is wrong with its directory)
    except (OSError, UnicodeDecodeError) as exc:
        warn(f"warning: cannot read the invitation ledger {path} ({exc}); read as empty")
        return Ledger()
    try:
        return Ledger.from_dict(json.loads(text))
    except ValueError as exc:
        warn(
            f"warning: the invitation ledger {path} is corrupt ({exc}); read as empty (the "
            "next run that sees invitations writes it anew)"
        )
        return Ledger()


def write_ledger(config: Config, before: Ledger, after: Ledger, warn: Warn) -> None:
    """Write ``after`` when it differs from ``before`` (what was read)."""
    path = config.invitations.ledger
    if after == before or path is None:
        return
    text = json.dumps(after.to_dict(), indent=2, sort_keys=True) + "\n"
    try:
        link = config.symlink_on_the_way(path)
        if link is not None:
            raise OSError(f"{link} is a symlink")
        path.parent.mkdir(parents=True, exist_ok=True)
        # A new file of our own beside it (two runs never share one), then renamed over it.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), 0o644)  # whatever the umask: CI caches it as it is
                handle.write(text)
            os.replace(tmp, path)  # never half a ledger
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        warn(f"warning: cannot write the invitation ledger {path}: {exc.strerror or exc}")


def record_read(
    session: Session,
    ledger: Ledger,
    actual: State,
    sections: Mapping[str, Sequence[str]] | None,
    now: datetime,
    warn: Warn,
) -> None:
    """After a live read: the invitations seen pending recorded, accepted ones dropped."""
    write_ledger(session.config, ledger, ledger.observe(actual, sections, now), warn)


def record_sent(session: Session, operations: Sequence[Operation], warn: Warn) -> None:
    """After an apply: the invitations it sent recorded."""
    ledger = read_ledger(session.config, warn)
    sent = ledger.sent(operations, server_now(session), session.target.service_app())
    write_ledger(session.config, ledger, sent, warn)
